"""Plate-reading accuracy and speed on labelled photo sets, ours beside the PP-OCR baseline.

    .venv/bin/python -m benchmarks.plates ../shared/data/plates/*

Each DIR holds ``labels.csv`` (``image,plate,country,x,y,w,h,lines``; the box may be empty).
Per set and pipeline: exact-plate accuracy of the best read, the same with O/0 and I/1 counted
equal, plate-found rate (best read's box IoU >= 0.5 where a box is labelled, otherwise "some
plate read"), colour coverage (share of found plates that got a colour), median and p95 ms per
image and the peak resident memory of the process that ran it. Labels and reads are compared
after ``lpr.plates.normalise`` (capitals, Cyrillic by shape, no spaces or dashes).

The baseline is the same PP-OCR models run as plain PP-OCR does: detection on the whole image
(shorter side raised to 736 px, rapidocr's default), every detected line read with the full
dictionary, and the most plate-like text kept (the best ``lpr.plates.match`` of the plain text).

``--reader NAME`` runs our pipeline with another registered reader (``ours``: the plate-only
model of ``models/``); ``--split test`` keeps only each set's held-out test images
(``models.split``), the ones no model was trained on. ``2-row exact`` is the exact share over
the images labelled ``lines=2``.

Each pipeline runs in its own child process, so peak memory is its own; they take turns image
by image, so a busy host slows both alike.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import print_table
from lpr.types import BoundingBox, Image, PlateRead
from models.split import split_of

if TYPE_CHECKING:
    from lpr.recognizer import Recognizer

PIPELINES = ("ours", "baseline")


@dataclass(frozen=True, slots=True)
class Label:
    image: str
    plate: str
    country: str
    box: BoundingBox | None
    lines: int = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    label: Label
    best: PlateRead | None
    ms: float


@dataclass(frozen=True, slots=True)
class Run:
    outcomes: tuple[Outcome, ...]
    peak_mib: float


class Baseline:
    """Plain PP-OCR over the whole image, keeping the most plate-like line."""

    def __init__(self, countries: Sequence[str] | None) -> None:
        from lpr.detect import PPOCRDetConfig, PPOCRDetector
        from lpr.ocr import PPOCRReader, PPOCRRecConfig

        # rapidocr's defaults: no cap on enlarging small pictures but the 2000 px side limit.
        self.detector = PPOCRDetector(
            PPOCRDetConfig(limit_type="min", side_len=736, max_upscale=16.0)
        )
        self.reader = PPOCRReader(PPOCRRecConfig(alphabet="full"))
        self.countries = countries

    def read(self, image: Image) -> list[PlateRead]:
        from lpr.plates import match, positions_of
        from lpr.recognizer import crop

        boxes = self.detector.detect(image)
        readings = self.reader.read([crop(image, b.corners, margin=0.0) for b in boxes])
        best: PlateRead | None = None
        for box, reading in zip(boxes, readings, strict=True):
            found = match(positions_of(reading.text), countries=self.countries)
            if found is not None and (best is None or found.score > best.confidence):
                best = PlateRead(
                    found.plate, reading.text, found.country, found.score, box.bounds()
                )
        return [best] if best else []


def load_labels(directory: Path) -> list[Label]:
    path = directory / "labels.csv"
    if not path.is_file():
        raise SystemExit(f"{directory}: no labels.csv")
    with path.open(newline="", encoding="utf-8") as f:
        return [
            Label(
                row["image"],
                row["plate"],
                row["country"].upper(),
                BoundingBox(int(row["x"]), int(row["y"]), int(row["w"]), int(row["h"]))
                if row["w"]
                else None,
                int(row.get("lines") or 1),
            )
            for row in csv.DictReader(f)
        ]


_reader: Recognizer | Baseline | None = None


def _start(pipeline: str, countries: Sequence[str] | None, reader_name: str) -> None:
    """Runs in the pipeline's own process: build it once."""
    from lpr.recognizer import Recognizer

    global _reader
    _reader = (
        Recognizer.from_names(reader=reader_name, countries=countries)
        if pipeline == "ours"
        else Baseline(countries)
    )


def _read(path: Path) -> tuple[PlateRead | None, float]:
    from lpr.images import load_image

    assert _reader is not None
    image = load_image(path)
    start = time.perf_counter()
    plates = _reader.read(image)
    return (plates[0] if plates else None), (time.perf_counter() - start) * 1000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_set(
    directory: Path,
    labels: Sequence[Label],
    countries: Sequence[str] | None,
    reader_name: str = "ppocr",
) -> dict[str, Run]:
    """Both pipelines over one set, each in its own process, taking turns image by image so
    that both see the same machine load (the host may be shared)."""
    context = multiprocessing.get_context("spawn")
    pools = {
        name: ProcessPoolExecutor(1, context, _start, (name, countries, reader_name))
        for name in PIPELINES
    }
    outcomes: dict[str, list[Outcome]] = {name: [] for name in PIPELINES}
    try:
        for pool in pools.values():
            pool.submit(_read, directory / labels[0].image).result()  # warm up
        for i, label in enumerate(labels):
            order = PIPELINES if i % 2 == 0 else PIPELINES[::-1]
            for name in order:
                best, ms = pools[name].submit(_read, directory / label.image).result()
                outcomes[name].append(Outcome(label, best, ms))
        peaks = {name: pool.submit(_peak_mib).result() for name, pool in pools.items()}
    finally:
        for pool in pools.values():
            pool.shutdown()
    return {name: Run(tuple(outcomes[name]), peaks[name]) for name in PIPELINES}


def loose(plate: str) -> str:
    return plate.replace("O", "0").replace("I", "1")


def summarise(run: Run) -> dict[str, float | str]:
    from lpr.plates import normalise

    n = len(run.outcomes)
    exact = sum(
        o.best is not None and o.best.plate == normalise(o.label.plate) for o in run.outcomes
    )
    near = sum(
        o.best is not None and loose(o.best.plate) == loose(normalise(o.label.plate))
        for o in run.outcomes
    )
    two_row = [o for o in run.outcomes if o.label.lines == 2]
    two_row_exact = sum(
        o.best is not None and o.best.plate == normalise(o.label.plate) for o in two_row
    )
    found = [o for o in run.outcomes if _found(o)]
    coloured = sum(o.best is not None and o.best.colour is not None for o in found)
    ms = sorted(o.ms for o in run.outcomes)
    return {
        "images": n,
        "exact": exact / n,
        "O0/I1 equal": near / n,
        "2-row exact": two_row_exact / len(two_row) if two_row else "-",
        "found": len(found) / n,
        "colour": coloured / len(found) if found else 0.0,
        "median ms": statistics.median(ms),
        "p95 ms": ms[min(n - 1, round(0.95 * (n - 1)))],
        "peak MiB": run.peak_mib,
    }


def _found(o: Outcome) -> bool:
    if o.best is None:
        return False
    return o.label.box is None or o.best.box.iou(o.label.box) >= 0.5


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="set folders with labels.csv")
    parser.add_argument("--limit", type=int, default=0, help="first N images of each set")
    parser.add_argument(
        "--region",
        action="store_true",
        help="configure both pipelines for the set's country (a deployment knows its region)",
    )
    parser.add_argument("--misses", action="store_true", help="list our wrong reads")
    parser.add_argument("--reader", default="ppocr", help="our pipeline's reader (lpr.ocr.readers)")
    parser.add_argument(
        "--split",
        choices=("all", "test"),
        default="all",
        help="test: only each set's held-out images (models.split), the ones no model trained on",
    )
    args = parser.parse_args(argv)

    columns = [
        "images",
        "exact",
        "2-row exact",
        "O0/I1 equal",
        "found",
        "colour",
        "median ms",
        "p95 ms",
    ]
    rows: list[list[object]] = []
    for directory in args.dirs:
        labels = [
            lab
            for lab in load_labels(directory)
            if args.split == "all" or split_of(lab.image) == "test"
        ][: args.limit or None]
        countries = sorted({lab.country for lab in labels}) if args.region else None
        runs = run_set(directory, labels, countries, args.reader)
        results = {name: summarise(run) for name, run in runs.items()}
        for name in PIPELINES:
            rows.append([directory.name, name, *(results[name][c] for c in [*columns, "peak MiB"])])
        if args.misses:
            _print_misses(runs["ours"])
        ratio = [_ratio(results["ours"][c], results["baseline"][c]) for c in [*columns, "peak MiB"]]
        rows.append([directory.name, "ours / baseline", *ratio])
    print_table(["set", "pipeline", *columns, "peak MiB"], rows)


def _ratio(ours: float | str, base: float | str) -> str:
    if not isinstance(ours, float) or not isinstance(base, float):
        return ""
    return f"{ours / base:.2f}x" if base else "inf"


def _print_misses(run: Run) -> None:
    from lpr.plates import normalise

    for o in run.outcomes:
        got = o.best.plate if o.best else "-"
        if got != normalise(o.label.plate):
            text = o.best.text if o.best else ""
            print(
                f"  miss {o.label.image}: want {o.label.plate} got {got} ({text})", file=sys.stderr
            )


if __name__ == "__main__":
    main()
