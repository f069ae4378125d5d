"""The committed ONNX reader back in torch: the same probabilities, ready to train on."""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import pytest

pytest.importorskip("torch", reason="torch is in the 'train' extra: pip install -e '.[train]'")

import onnxruntime as ort
import torch

from lpr.ours import CHARSET_PATH, MODEL_PATH
from models.from_onnx import load_onnx
from models.train_recognizer import CRNN, calibration_crops

Probs = npt.NDArray[np.float32]
CLASSES = len(json.loads(CHARSET_PATH.read_text(encoding="utf-8"))["symbols"]) + 1


@pytest.fixture(scope="module")
def crops() -> torch.Tensor:
    return calibration_crops(64)


@pytest.fixture(scope="module")
def expected(crops: torch.Tensor) -> Probs:
    session = ort.InferenceSession(str(MODEL_PATH), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {session.get_inputs()[0].name: crops.numpy()})
    return np.asarray(probs, dtype=np.float32)


def _probabilities(model: CRNN, crops: torch.Tensor) -> Probs:
    with torch.no_grad():
        return np.asarray(model(crops).softmax(-1).numpy(), dtype=np.float32)


def test_the_imported_network_computes_what_the_onnx_does(
    crops: torch.Tensor, expected: Probs
) -> None:
    model = CRNN(classes=CLASSES)
    load_onnx(model, MODEL_PATH, crops)
    assert model.training  # ready to train on
    # Eval first: a forward pass in training mode moves the running statistics (by the unbiased
    # variance), which the comparison is about.
    np.testing.assert_allclose(_probabilities(model.eval(), crops), expected, atol=1e-4)
    # Training mode normalises with the batch's own statistics: nearly the calibration's.
    assert (_probabilities(model.train(), crops).argmax(-1) == expected.argmax(-1)).mean() > 0.99


def test_a_network_with_a_new_symbol_keeps_what_was_learnt(
    crops: torch.Tensor, expected: Probs
) -> None:
    model = CRNN(classes=CLASSES + 1)
    load_onnx(model, MODEL_PATH, crops)
    probs = _probabilities(model.eval(), crops)
    assert (probs[..., :CLASSES].argmax(-1) == expected.argmax(-1)).all()
    assert probs[..., CLASSES].max() < 0.1


def test_a_network_too_small_for_the_onnx_is_refused(crops: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="classes"):
        load_onnx(CRNN(classes=CLASSES - 1), MODEL_PATH, crops)
