"""The mean of our reader's weights over consecutive training steps, as one checkpoint.

Each resumed step pulls the reader towards what its generator drew last: trained on both
shapes of D, it read the older Brazilian D right and a straight-sided O as D again. The mean
of consecutive steps' weights keeps what each learnt (a "model soup", Wortsman et al., 2022).
It only works for weights of one line of training, each step resumed from the one before, so
that they lie in one basin. The batch norms' running statistics are then measured afresh on
generated crops: the mean of two networks' statistics is not the statistics of their mean.

    python -m models.average models/plate_rec.onnx var/plate_rec_v6.pt --out var/plate_rec_avg.pt
    python -m models.export var/plate_rec_avg.pt
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from models.train_recognizer import CRNN, calibration_crops, load_weights


def average(models: Sequence[CRNN], calibration: torch.Tensor, *, batch: int = 64) -> CRNN:
    """The mean of ``models``' weights, its batch norms' statistics taken on ``calibration``."""
    if len(models) < 2:
        raise ValueError(f"averaging needs two models or more, got {len(models)}")
    states = [m.state_dict() for m in models]
    mean = {
        name: torch.stack([s[name] for s in states]).mean(0) if value.is_floating_point() else value
        for name, value in states[0].items()
    }
    out = CRNN()
    out.load_state_dict(mean)
    norms = [(m, m.momentum) for m in out.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm, _ in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain mean over the calibration batches
    out.train()
    with torch.no_grad():
        for start in range(0, len(calibration), batch):
            out(calibration[start : start + batch])
    for norm, momentum in norms:
        norm.momentum = momentum
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="+", type=Path, help="checkpoints or exported .onnx")
    parser.add_argument("--out", type=Path, required=True, help="the averaged checkpoint")
    parser.add_argument("--crops", type=int, default=2048, help="generated crops to calibrate")
    args = parser.parse_args(argv)
    if len(args.weights) < 2:
        parser.error("give two weights files or more")
    if missing := [str(p) for p in args.weights if not p.is_file()]:
        parser.error(f"no such file: {', '.join(missing)}")
    models = [CRNN() for _ in args.weights]
    for model, path in zip(models, args.weights, strict=True):
        load_weights(model, path)
    mean = average(models, calibration_crops(args.crops))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": mean.state_dict(), "averaged": [str(p) for p in args.weights]}, args.out)
    print(f"{args.out}: mean of {len(args.weights)} weights")


if __name__ == "__main__":
    main()
