"""Export a trained reader checkpoint to ONNX for ``lpr.ours``, with its charset beside it.

    .venv/bin/python -m models.export var/plate_rec.pt models/plate_rec.onnx

The exported graph takes ``(batch, 1, 48, 160)`` float input and returns softmax probabilities
``(batch, frames, classes)``, blank first. The export is checked against torch before it is
written over the committed model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from lpr.ours import HEIGHT, WIDTH
from models.train_recognizer import CRNN, SYMBOLS

OPSET = 17


class Probabilities(nn.Module):
    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs: torch.Tensor = self.model(x).softmax(-1)
        return probs


def export(checkpoint: Path, out: Path) -> None:
    model = CRNN()
    model.load_state_dict(torch.load(checkpoint)["model"])
    wrapped = Probabilities(model).eval()
    example = torch.randn(2, 1, HEIGHT, WIDTH)
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        wrapped,
        (example,),
        str(tmp),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    with torch.no_grad():
        expected = wrapped(example).numpy()
    install(tmp, out, example.numpy(), expected, (HEIGHT, WIDTH))


def install(
    tmp: Path,
    out: Path,
    example: npt.NDArray[np.float32],
    expected: npt.NDArray[np.float32],
    size: tuple[int, int],
) -> None:
    """Moves the exported ``tmp`` over ``out`` if onnxruntime gives torch's ``expected``
    probabilities for ``example``, and writes the charset beside it; else deletes it."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: example})
    if not np.allclose(got, expected, atol=1e-4):
        tmp.unlink()
        raise RuntimeError(f"ONNX output differs from torch by {np.abs(got - expected).max()}")
    tmp.replace(out)
    charset = {"symbols": SYMBOLS, "blank": 0, "height": size[0], "width": size[1]}
    out.with_suffix(".json").write_text(json.dumps(charset, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path, nargs="?", default=Path("models/plate_rec.onnx"))
    args = parser.parse_args()
    export(args.checkpoint, args.out)


if __name__ == "__main__":
    main()
