"""Readers alone on plate crops: our two beside PP-OCR's, exact plates and ms per crop on one core.

    .venv/bin/python -m benchmarks.plate_reader ../shared/data/plates/* --split test

Crops are the labelled boxes (with a 10% margin, as a plate detector would give them) or the
whole image where a set is already cropped (no box); sets of photos without boxes are skipped,
they need a detector and belong to ``benchmarks.plates``. A reading counts as exact when
``lpr.plates.match`` over its positions (the reader's alternatives, letter/digit fixes by
format) gives the labelled plate. ``synthetic 2-row`` adds generated two-row plates with full
augmentation, for want of real two-row crops. Readers: ``ours`` (the small CRNN),
``ppocr-plate`` (PP-OCR's recogniser fine-tuned on plates) and the baseline ``ppocr``, each
single-threaded on one crop at a time, one after the other in this process. ``median CPU ms`` is the
process's CPU time per crop: on a machine shared with other jobs it is what one free core
would take, where wall-clock ``median ms`` includes waiting for the CPU.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import print_table
from benchmarks.plates import load_labels
from lpr.recognizer import PLATE_CROP_ASPECT
from lpr.types import Image
from models.split import split_of

BASELINE = "ppocr"
READERS = ("ours", "ppocr-plate", BASELINE)
MARGIN = 0.1
TWO_ROW_LAYOUTS = ("ua-2row", "vn-car-2row", "vn-moto-2row")


@dataclass(frozen=True, slots=True)
class Crop:
    image: Image
    plate: str
    country: str


def crops_of(directory: Path, split: str) -> list[Crop]:
    from lpr.images import load_image
    from lpr.plates import normalise

    out = []
    for label in load_labels(directory):
        if split == "test" and split_of(label.image) != "test":
            continue
        image = load_image(directory / label.image)
        if label.box is not None:
            b = label.box
            mx, my = round(MARGIN * b.w), round(MARGIN * b.h)
            image = image[max(0, b.y - my) : b.y + b.h + my, max(0, b.x - mx) : b.x + b.w + mx]
        elif not PLATE_CROP_ASPECT[0] <= image.shape[1] / image.shape[0] <= PLATE_CROP_ASPECT[1]:
            return []  # whole photos, not crops
        out.append(Crop(image, normalise(label.plate), label.country))
    return out


def synthetic_two_row(count: int) -> list[Crop]:
    from models.synth import layout, sample

    rng = random.Random(2026)
    return [
        Crop(s.image, s.text, layout(s.layout).country)
        for s in (sample(rng, layout(TWO_ROW_LAYOUTS[i % 3]), partial=0.0) for i in range(count))
    ]


def measure(name: str, crops: Sequence[Crop], region: bool) -> dict[str, float]:
    from lpr.ocr import readers
    from lpr.plates import match

    reader = readers.create(name, threads=1)
    reader.read([crops[0].image])  # warm up the session
    hits, ms, cpu_ms = 0, [], []
    for crop in crops:
        start, cpu_start = time.perf_counter(), time.process_time()
        (reading,) = reader.read([crop.image])
        ms.append((time.perf_counter() - start) * 1000)
        cpu_ms.append((time.process_time() - cpu_start) * 1000)
        found = match(reading.positions, countries=[crop.country] if region else None)
        hits += found is not None and found.plate == crop.plate
    return {
        "crops": len(crops),
        "exact": hits / len(crops),
        "median ms": statistics.median(ms),
        "median CPU ms": statistics.median(cpu_ms),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="set folders with labels.csv")
    parser.add_argument("--split", choices=("all", "test"), default="all")
    parser.add_argument("--synthetic", type=int, default=150, help="generated two-row crops")
    parser.add_argument("--region", action="store_true", help="match the set's country only")
    args = parser.parse_args(argv)

    sets = {d.name: crops_of(d, args.split) for d in args.dirs}
    if args.synthetic:
        sets["synthetic 2-row"] = synthetic_two_row(args.synthetic)
    columns = ["crops", "exact", "median ms", "median CPU ms"]
    rows: list[list[object]] = []
    for name, crops in sets.items():
        if not crops:
            print(f"{name}: no crops (photos without boxes), skipped")
            continue
        results = {r: measure(r, crops, args.region) for r in READERS}
        for r in READERS:
            rows.append([name, r, *(results[r][c] for c in columns)])
        base = results[BASELINE]
        for r in READERS[:-1]:
            ratios = [f"{results[r][c] / base[c]:.2f}x" if base[c] else "inf" for c in columns[1:]]
            rows.append([name, f"{r} / {BASELINE}", "", *ratios])
    print_table(["set", "reader", *columns], rows)


if __name__ == "__main__":
    main()
