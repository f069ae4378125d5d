"""Fine-tuning PP-OCR's recogniser: the plate head, what trains, a few steps, the export."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="torch is in the 'train' extra: pip install -e '.[train]'")

import numpy as np
import numpy.typing as npt
import onnx
import torch

from lpr.ocr import greedy_ctc
from lpr.ppocr import REC_MODEL
from lpr.ppocr_plate import TWO_ROW_ASPECT, PPOCRPlateConfig, PPOCRPlateReader
from models.finetune_ppocr import export, finetune, plate_model, prepare_sample
from models.synth import layout, sample
from models.train_recognizer import PLATE_SYMBOLS, TrainConfig, collate, encode


def test_plate_head_starts_from_ppocr_rows_for_the_plate_symbols() -> None:
    model = plate_model()
    graph = onnx.load(str(REC_MODEL))
    meta = {p.key: p.value for p in graph.metadata_props}
    classes = ["", *meta["character"].splitlines(), " "]
    head = model.nodes[-2][1][1]
    original = torch.from_numpy(
        onnx.numpy_helper.to_array(
            next(n for n in graph.graph.node if n.output[0] == head).attribute[0].t
        ).copy()
    )
    assert model.weight(head).shape == (original.shape[0], len(PLATE_SYMBOLS) + 1)
    for k, symbol in enumerate(PLATE_SYMBOLS, 1):
        assert torch.equal(model.weight(head)[:, k], original[:, classes.index(symbol)])


def test_only_neck_and_head_train() -> None:
    model = plate_model()
    trained = sum(p.numel() for p in model.weights.values() if p.requires_grad)
    frozen = sum(p.numel() for p in model.weights.values() if not p.requires_grad)
    assert 0 < trained < frozen


def test_two_row_plates_are_fed_side_by_side_and_the_wrong_view_reads_nothing() -> None:
    rng = random.Random(4)
    plate = sample(rng, layout("ua-2row"), clean=True)
    assert plate.lines == 2 and plate.image.shape[1] / plate.image.shape[0] < TWO_ROW_ASPECT
    texts = {prepare_sample(plate, random.Random(seed))[1] for seed in range(40)}
    assert texts == {plate.text, ""}
    wide = sample(rng, layout("eu"), clean=True)
    assert {prepare_sample(wide, random.Random(seed))[1] for seed in range(40)} == {wide.text}


@pytest.mark.slow
def test_a_few_steps_lower_the_loss_on_plates_it_has_not_seen(tmp_path: Path) -> None:
    rng = random.Random(7)
    # PP-OCR already reads many generated crops; a few hard ones carry the mean loss, so the
    # held-out set must be large enough to hold several (32 crops swung it 0.5x to 0.95x).
    held_out = collate([_example(prepare_sample(sample(rng), rng)) for _ in range(128)])
    before = _loss(plate_model(), held_out)
    config = TrainConfig(steps=30, batch=8, lr=1e-3, workers=0, val_size=11, out=tmp_path / "t.pt")
    losses = finetune(config)
    assert len(losses) == 30 and all(math.isfinite(x) for x in losses)
    trained = plate_model()
    trained.load_state_dict(torch.load(tmp_path / "t.pt")["model"])
    after = _loss(trained, held_out)
    assert after < 0.8 * before, f"held-out loss went from {before:.3f} to {after:.3f}"


def _example(item: tuple[npt.NDArray[np.float32], str]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(item[0]), encode(item[1])


def _loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> float:
    images, targets, lengths = batch
    with torch.no_grad():
        log_probs = model.eval()(images).log_softmax(-1).permute(1, 0, 2)
    frames = torch.full((len(images),), log_probs.shape[0], dtype=torch.long)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    return float(ctc(log_probs, targets, frames, lengths))


@pytest.mark.slow
def test_export_reads_as_torch_does(tmp_path: Path) -> None:
    model = plate_model()
    torch.save({"model": model.state_dict()}, tmp_path / "start.pt")
    export(tmp_path / "start.pt", tmp_path / "plate.onnx")
    reader = PPOCRPlateReader(
        PPOCRPlateConfig(model_path=tmp_path / "plate.onnx", charset_path=tmp_path / "plate.json")
    )
    plate = sample(random.Random(5), layout("ru"), clean=True)
    (reading,) = reader.read([plate.image])
    with torch.no_grad():
        x = prepare_sample(plate, random.Random(0))[0]
        probs = model(torch.from_numpy(x[None])).softmax(-1)[0].numpy()
    assert reading.text == greedy_ctc(probs, ["", *PLATE_SYMBOLS], 1).text
    assert reading.text  # PP-OCR's own rows for the plate symbols already read a clean plate
