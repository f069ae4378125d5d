"""Train the plate reader: a small CRNN with a CTC head, on synthetic plates, on CPU.

    .venv/bin/python -m models.train_recognizer --minutes 55 --out var/plate_rec.pt

The network reads the ``lpr.ours.prepare`` input (grey, 48x160) down to a 2x40 feature map and
reads it as one sequence, the top row's 40 columns then the bottom row's, so a two-row plate is
read top row first with no splitting heuristic. A bidirectional LSTM over that sequence lets the
rows see each other. Needs the ``train`` extra (torch); inference needs only onnxruntime.
"""

from __future__ import annotations

import argparse
import math
import random
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from lpr.ocr import greedy_ctc
from lpr.ours import HEIGHT, prepare
from models.synth import LAYOUTS, Sample, sample

PLATE_SYMBOLS = string.digits + string.ascii_uppercase
# "-" is a printed separator between groups (a dash or a middle dot): evidence for the format
# layer, such as an older Brazilian plate's ABC-1234 against a Mercosur ABC1D23.
SYMBOLS = PLATE_SYMBOLS + "-"
ROWS = 2  # feature rows the network reads, top first
VAL_SEED = 20261122

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Example = tuple[npt.NDArray[np.float32], str]  # a network input and the text it should read
Prepare = Callable[[Sample, random.Random], Example]  # may draw from the stream's generator
Validation = list[tuple[npt.NDArray[np.float32], str, str]]


class CRNN(nn.Module):
    def __init__(self, classes: int = len(SYMBOLS) + 1, hidden: int = 96) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.features = nn.Sequential(
            *block(1, 16),
            nn.MaxPool2d(2),  # 24x80
            *block(16, 32),
            nn.MaxPool2d(2),  # 12x40
            *block(32, 64),
            nn.MaxPool2d((2, 1)),  # 6x40
            *block(64, 96),
            nn.MaxPool2d((HEIGHT // 8 // ROWS, 1)),  # 2x40: one feature row per plate row
            *block(96, 128),
        )
        self.rnn = nn.LSTM(128, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, frames, classes), frames being the top row's columns then the bottom's."""
        f = self.features(x)  # (B, C, ROWS, W')
        seq = f.permute(0, 2, 3, 1).flatten(1, 2)  # (B, ROWS * W', C)
        out, _ = self.rnn(seq)
        logits: torch.Tensor = self.head(out)
        return logits


def prepare_sample(s: Sample, rng: random.Random) -> Example:
    """The CRNN's input and label for a generated crop."""
    return prepare(s.image), s.marked


class SynthStream(IterableDataset[tuple[torch.Tensor, torch.Tensor]]):
    """Endless fresh synthetic crops; each data-loader worker draws its own."""

    def __init__(self, seed: int, prepare: Prepare = prepare_sample) -> None:
        self.seed = seed
        self.prepare = prepare

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        rng = random.Random(self.seed * 1000 + (info.id if info else 0))
        while True:
            image, text = self.prepare(sample(rng), rng)
            yield torch.from_numpy(image), encode(text)


def encode(text: str) -> torch.Tensor:
    return torch.tensor([SYMBOLS.index(c) + 1 for c in text], dtype=torch.long)


def collate(items: list[tuple[torch.Tensor, torch.Tensor]]) -> Batch:
    images = torch.stack([i for i, _ in items])
    targets = torch.cat([t for _, t in items])
    lengths = torch.tensor([len(t) for _, t in items], dtype=torch.long)
    return images, targets, lengths


@dataclass(frozen=True, slots=True)
class TrainConfig:
    steps: int = 100_000
    minutes: float | None = None  # wall-clock budget; the run ends at steps or minutes
    batch: int = 32
    lr: float = 2e-3
    seed: int = 0
    threads: int = 1  # on a shared CPU one thread per process beats two fighting over cores
    workers: int = 1
    eval_every: int = 200
    val_size: int = 600
    out: Path | None = None  # checkpoint written at every evaluation and at the end
    resume: Path | None = None


def validation_set(size: int, prepare: Prepare = prepare_sample) -> Validation:
    """Fixed crops, every layout equally, never drawn by the training stream's seeds."""
    rng = random.Random(VAL_SEED)
    out = []
    for i in range(size):
        s = sample(rng, LAYOUTS[i % len(LAYOUTS)])
        image, text = prepare(s, rng)
        out.append((image, text, s.layout))
    return out


def calibration_crops(size: int) -> torch.Tensor:
    """The first ``size`` validation crops as one batch, to measure batch norms' statistics on."""
    return torch.from_numpy(np.stack([v[0] for v in validation_set(size)]))


def load_weights(model: CRNN, path: Path) -> None:
    """Sets ``model``'s weights from a checkpoint, or from our exported ``.onnx``."""
    if path.suffix == ".onnx":
        from models.from_onnx import load_onnx

        load_onnx(model, path, calibration_crops(256))
    else:
        model.load_state_dict(torch.load(path)["model"])


def accuracy(model: nn.Module, val: Validation, batch: int = 64) -> dict[str, float]:
    """Exact-read share per layout, and over all under ``"all"``; separators do not count
    (plates are compared without them everywhere else too)."""
    model.eval()
    with torch.no_grad():
        probs = np.concatenate(
            [
                model(torch.from_numpy(np.stack([v[0] for v in val[k : k + batch]])))
                .softmax(-1)
                .numpy()
                for k in range(0, len(val), batch)
            ]
        )
    model.train()
    hits: dict[str, list[bool]] = {}
    for p, (_, text, name) in zip(probs, val, strict=True):
        ok = greedy_ctc(p, ["", *SYMBOLS], 1).text.replace("-", "") == text.replace("-", "")
        hits.setdefault(name, []).append(ok)
        hits.setdefault("all", []).append(ok)
    return {k: sum(v) / len(v) for k, v in hits.items()}


def train(config: TrainConfig) -> list[float]:
    """Trains the CRNN and returns the loss of every step."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = CRNN()
    if config.resume:
        load_weights(model, config.resume)
    return fit(model, list(model.parameters()), config, prepare_sample)


def fit(
    model: nn.Module, params: list[nn.Parameter], config: TrainConfig, prepare: Prepare
) -> list[float]:
    """Trains ``params`` of ``model`` (logits out, blank first) on fresh synthetic crops; returns
    the loss of every step. Validates and checkpoints to ``config.out`` when it is set."""
    optimiser = torch.optim.AdamW(params, lr=config.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    loader = DataLoader(
        SynthStream(config.seed, prepare),
        batch_size=config.batch,
        collate_fn=collate,
        num_workers=config.workers,
        prefetch_factor=4 if config.workers else None,
    )
    val = validation_set(config.val_size, prepare) if config.out else []
    losses: list[float] = []
    started = time.monotonic()
    for step, (images, targets, lengths) in enumerate(loader, 1):
        # Progress is steps or wall-clock time, whichever runs out first: a run on a shared CPU
        # must end on time, and the schedule must still cool down before it does.
        elapsed = (time.monotonic() - started) / 60
        progress = max(step / config.steps, elapsed / config.minutes if config.minutes else 0.0)
        warm = min(1.0, progress / 0.02)
        for group in optimiser.param_groups:
            group["lr"] = config.lr * warm * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        log_probs = model(images).log_softmax(-1).permute(1, 0, 2)  # (T, B, C) for CTCLoss
        frames = torch.full((images.shape[0],), log_probs.shape[0], dtype=torch.long)
        loss = ctc(log_probs, targets, frames, lengths)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        done = progress >= 1.0
        if config.out and step % 50 == 0:
            print(f"step {step} loss {sum(losses[-50:]) / 50:.3f} {elapsed:.1f} min", flush=True)
        if config.out and (step % config.eval_every == 0 or done):
            scores = accuracy(model, val)
            minutes = (time.monotonic() - started) / 60
            recent = sum(losses[-100:]) / len(losses[-100:])
            print(
                f"step {step} loss {recent:.3f} {minutes:.1f} min "
                + " ".join(f"{k}={v:.3f}" for k, v in sorted(scores.items())),
                flush=True,
            )
            config.out.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict(), "step": step, "val": scores}, config.out)
        if done:
            break
    if not all(math.isfinite(x) for x in losses):
        raise RuntimeError("training diverged: a loss is not finite")
    return losses


def add_arguments(parser: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    """The training options, shared by the fine-tuning command."""
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--minutes", type=float, help="wall-clock budget for the run")
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--val-size", type=int, default=defaults.val_size)
    parser.add_argument("--out", type=Path, default=defaults.out)
    parser.add_argument(
        "--resume",
        type=Path,
        help="start from this checkpoint's weights (our reader: or from its exported .onnx)",
    )


def config_of(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        steps=args.steps,
        minutes=args.minutes,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        workers=args.workers,
        eval_every=args.eval_every,
        val_size=args.val_size,
        out=args.out,
        resume=args.resume,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser, TrainConfig(out=Path("var/plate_rec.pt")))
    train(config_of(parser.parse_args()))


if __name__ == "__main__":
    main()
