"""A few training steps on freshly generated plates: the CTC loss must fall."""

from __future__ import annotations

import statistics

import pytest

pytest.importorskip("torch", reason="torch is in the 'train' extra: pip install -e '.[train]'")

from models.train_recognizer import CRNN, SYMBOLS, TrainConfig, collate, encode, train


@pytest.mark.slow
def test_loss_falls_within_a_few_steps() -> None:
    losses = train(TrainConfig(steps=30, batch=8, workers=0, seed=1))
    assert len(losses) == 30
    first, last = statistics.mean(losses[:5]), statistics.mean(losses[-5:])
    assert last < 0.5 * first, f"loss went from {first:.2f} to {last:.2f}"


def test_network_reads_two_feature_rows_as_one_sequence() -> None:
    import torch

    logits = CRNN()(torch.zeros(3, 1, 48, 160))
    assert logits.shape == (3, 80, len(SYMBOLS) + 1)  # 2 rows x 40 columns, blank + symbols


def test_labels_are_encoded_after_the_blank_and_batched_end_to_end() -> None:
    import torch

    images, targets, lengths = collate(
        [(torch.zeros(1, 48, 160), encode("A1")), (torch.zeros(1, 48, 160), encode("Z"))]
    )
    assert images.shape == (2, 1, 48, 160)
    assert targets.tolist() == [11, 2, 36]
    assert lengths.tolist() == [2, 1]
