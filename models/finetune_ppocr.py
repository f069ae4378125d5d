"""Fine-tune PP-OCRv4's recogniser on synthetic plates, and export it for ``lpr.ppocr_plate``.

    .venv/bin/python -m models.finetune_ppocr train --minutes 60 --out var/ppocr_plate.pt
    .venv/bin/python -m models.finetune_ppocr export var/ppocr_plate.pt models/ppocr_plate.onnx

The network is the ONNX shipped in the rapidocr wheel. Its 6,625-class head is cut to blank +
the 36 plate symbols, each starting from PP-OCR's own row for that symbol, so training starts
from a reader that already knows plate characters. The backbone (everything up to its final
pooling) stays frozen and runs in onnxruntime inside the data loader, which is several times
faster on a CPU than torch; the neck (SVTR blocks) and the head train in torch through
``models.ppocr_torch``. Two-row plates are fed as their halves side by side
(``lpr.ppocr_plate.views``), and some crops that the reader also tries the other way are fed
that way with nothing to read, so that the wrong view reads as empty. The training loop is
``models.train_recognizer.fit``.
"""

from __future__ import annotations

import argparse
import functools
import random
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import torch

from lpr.ppocr import REC_MODEL
from lpr.ppocr_plate import HEIGHT, TWO_ROW_ASPECT, WIDTH, line, side_by_side
from models.export import install
from models.ppocr_torch import OnnxModule, write_back
from models.synth import Sample
from models.train_recognizer import (
    PLATE_SYMBOLS,
    Example,
    TrainConfig,
    add_arguments,
    config_of,
    fit,
)

# Share of crops in the two-way shape band fed in the view that should read nothing.
WRONG_VIEW = 0.15


def _backbone_output(graph: onnx.GraphProto) -> str:
    (pool,) = [n for n in graph.node if n.op_type == "AveragePool"]
    return str(pool.output[0])


@functools.cache
def _backbone() -> Any:
    """PP-OCR's frozen backbone as an onnxruntime session (one per data-loader process)."""
    import onnxruntime as ort

    graph = onnx.load(str(REC_MODEL))
    front = onnx.utils.Extractor(onnx.shape_inference.infer_shapes(graph)).extract_model(
        [graph.graph.input[0].name], [_backbone_output(graph.graph)]
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(front.SerializeToString(), options, ["CPUExecutionProvider"])


def features(images: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The backbone's output for a batch of ``lpr.ppocr_plate.line`` inputs."""
    session = _backbone()
    (out,) = session.run(None, {session.get_inputs()[0].name: images})
    return np.asarray(out, dtype=np.float32)


def prepare_sample(s: Sample, rng: random.Random) -> Example:
    """A generated crop as the reader would feed it (two rows side by side, one row whole),
    through the backbone."""
    rows = s.lines == 2
    if s.image.shape[1] / s.image.shape[0] < TWO_ROW_ASPECT and rng.random() < WRONG_VIEW:
        rows, text = not rows, ""
    else:
        text = s.text
    return features(line(side_by_side(s.image) if rows else s.image)[None])[0], text


def plate_model(path: Path = REC_MODEL) -> OnnxModule:
    """PP-OCR's neck and a head over blank + ``PLATE_SYMBOLS`` (logits out), taking the backbone's
    output; the module keeps the backbone's weights too, for ``write_back``."""
    graph = onnx.load(str(path))
    meta = {p.key: p.value for p in graph.metadata_props}
    classes = ["", *meta["character"].splitlines(), " "]  # PaddleOCR's CTC layout
    keep = [0, *(classes.index(c) for c in PLATE_SYMBOLS)]
    model = OnnxModule(graph, logits=True)
    model.run_from(_backbone_output(graph.graph))
    head, bias = model.nodes[-2][1][1], model.nodes[-1][1][1]  # the final MatMul, then Add
    with torch.no_grad():
        for name, cut in ((head, model.weight(head)[:, keep]), (bias, model.weight(bias)[keep])):
            model.weights[name.replace(".", "__")] = torch.nn.Parameter(cut.clone())
    for p in model.weights.values():
        p.requires_grad_(False)
    for p in model.used():
        p.requires_grad_(True)
    return model


def finetune(config: TrainConfig) -> list[float]:
    """Fine-tunes from PP-OCR's weights (or ``config.resume``); returns every step's loss."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = plate_model()
    if config.resume:
        model.load_state_dict(torch.load(config.resume)["model"])
    return fit(model, model.used(), config, prepare_sample)


def export(checkpoint: Path, out: Path) -> None:
    """Writes the fine-tuned weights into PP-OCR's graph; checked against torch first."""
    model = plate_model()
    model.load_state_dict(torch.load(checkpoint)["model"])
    model.eval()
    tmp = out.with_suffix(".tmp.onnx")
    write_back(model, REC_MODEL, tmp, {"character": "\n".join(PLATE_SYMBOLS)})
    example = np.random.default_rng(0).standard_normal((2, 3, HEIGHT, WIDTH), dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(features(example))).softmax(-1).numpy()
    install(tmp, out, example, expected, (HEIGHT, WIDTH))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = TrainConfig(lr=5e-4, val_size=300, out=Path("var/ppocr_plate.pt"))
    add_arguments(sub.add_parser("train", help="fine-tune on synthetic plates"), defaults)
    exp = sub.add_parser("export", help="checkpoint to ONNX")
    exp.add_argument("checkpoint", type=Path)
    exp.add_argument("out", type=Path, nargs="?", default=Path("models/ppocr_plate.onnx"))
    args = parser.parse_args()
    if args.command == "export":
        export(args.checkpoint, args.out)
    else:
        finetune(config_of(args))


if __name__ == "__main__":
    main()
