"""Averaging our reader's weights: the mean of the weights, statistics measured afresh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

pytest.importorskip("torch", reason="torch is in the 'train' extra: pip install -e '.[train]'")

import torch
from torch import nn

from lpr.ours import MODEL_PATH
from models.average import average, main
from models.train_recognizer import CRNN, calibration_crops, load_weights


@pytest.fixture(scope="module")
def crops() -> torch.Tensor:
    return calibration_crops(64)


def _probabilities(model: nn.Module, crops: torch.Tensor) -> npt.NDArray[np.float32]:
    with torch.no_grad():
        return np.asarray(model(crops).softmax(-1).numpy(), dtype=np.float32)


def test_the_mean_of_two_networks_has_their_mean_weights_and_its_own_statistics(
    crops: torch.Tensor,
) -> None:
    torch.manual_seed(0)
    a, b = CRNN(), CRNN()
    mean = average([a, b], crops)
    conv = "features.0.weight"
    torch.testing.assert_close(
        mean.state_dict()[conv], (a.state_dict()[conv] + b.state_dict()[conv]) / 2
    )
    # Measured on the crops, the running statistics are those a training-mode pass uses, so
    # the network reads the crops alike in both modes (up to the unbiased variance).
    eval_probs = _probabilities(mean.eval(), crops)
    np.testing.assert_allclose(_probabilities(mean.train(), crops), eval_probs, atol=1e-3)
    norm = mean.features[1]
    assert isinstance(norm, nn.BatchNorm2d) and norm.momentum == 0.1


def test_the_committed_reader_averaged_with_itself_reads_as_it_did(crops: torch.Tensor) -> None:
    alone, again = CRNN(), CRNN()
    load_weights(alone, MODEL_PATH)
    load_weights(again, MODEL_PATH)
    # The statistics are taken again on the crops the ONNX was unfolded with, in one batch as
    # there: the same up to the unbiased variance.
    twice = average([alone, again], calibration_crops(256), batch=256)
    before, after = _probabilities(alone.eval(), crops), _probabilities(twice.eval(), crops)
    np.testing.assert_allclose(after, before, atol=5e-3)
    assert (after.argmax(-1) == before.argmax(-1)).all()


def test_one_model_is_not_an_average(crops: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="two models"):
        average([CRNN()], crops)


def test_the_command_refuses_a_single_or_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as single:
        main([str(MODEL_PATH), "--out", str(tmp_path / "avg.pt")])
    assert single.value.code == 2 and "two weights files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        main([str(MODEL_PATH), str(tmp_path / "none.pt"), "--out", str(tmp_path / "avg.pt")])
    assert missing.value.code == 2 and "none.pt" in capsys.readouterr().err
    assert not (tmp_path / "avg.pt").exists()
