"""PP-OCR's recogniser run in torch gives what onnxruntime gives, and its weights go back."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is in the 'train' extra: pip install -e '.[train]'")

import torch

from lpr.ppocr import REC_MODEL, session
from lpr.ppocr_plate import line
from models.ppocr_torch import OnnxModule, write_back
from models.synth import sample


@pytest.fixture(scope="module")
def module() -> OnnxModule:
    return OnnxModule.load(REC_MODEL).eval()


def test_torch_reads_plates_as_onnxruntime_does(module: OnnxModule) -> None:
    rng = random.Random(3)
    crops = np.stack([line(sample(rng).image) for _ in range(3)])
    rec = session(REC_MODEL, 1)
    (expected,) = rec.run(None, {rec.get_inputs()[0].name: crops})
    with torch.no_grad():
        got = module(torch.from_numpy(crops)).numpy()
    assert got.shape == expected.shape == (3, 40, 6625)
    # float32 sums in another order: probabilities agree to a few 1e-4, the reads exactly.
    assert np.abs(got - expected).max() < 5e-4
    assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_logits_leave_out_the_final_softmax() -> None:
    logits = OnnxModule.load(REC_MODEL, logits=True).eval()
    x = torch.zeros(1, 3, 48, 320)
    with torch.no_grad():
        assert not torch.allclose(logits(x).sum(-1), torch.ones(1, 40))
        assert torch.allclose(logits(x).softmax(-1), OnnxModule.load(REC_MODEL).eval()(x))


def test_written_back_weights_are_what_onnxruntime_runs(module: OnnxModule, tmp_path: Path) -> None:
    head = module.nodes[-2][1][1]  # the final MatMul's weight
    with torch.no_grad():
        module.weight(head).mul_(2.0)
    out = tmp_path / "doubled.onnx"
    write_back(module, REC_MODEL, out, {"character": "x"})
    x = np.random.default_rng(0).standard_normal((1, 3, 48, 320), dtype=np.float32)
    rec = session(out, 1)
    (got,) = rec.run(None, {rec.get_inputs()[0].name: x})
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
        module.weight(head).mul_(0.5)
    # float32 sums in another order: probabilities agree to a few 1e-4, the reads exactly.
    assert np.abs(got - expected).max() < 5e-4
    assert (got.argmax(-1) == expected.argmax(-1)).all()
    assert rec.get_modelmeta().custom_metadata_map == {"character": "x"}


def test_parameters_are_the_weights_the_running_nodes_use(module: OnnxModule) -> None:
    every = {id(p) for p in module.used()}
    assert every == {id(p) for p in module.weights.values()}
    tail = OnnxModule.load(REC_MODEL)
    (pool,) = [out for op, _, (out,), _ in tail.nodes if op == "AveragePool"]
    tail.run_from(pool)
    assert 0 < sum(p.numel() for p in tail.used()) < sum(p.numel() for p in module.used())
