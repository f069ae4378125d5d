"""Clean generated plates of every layout read by a reader: how many per layout, and the misses."""

from __future__ import annotations

import random

from lpr.ocr import Reader
from lpr.plates import normalise
from models.synth import LAYOUTS, sample


def read_every_layout(reader: Reader, per_layout: int) -> tuple[dict[str, int], list[str]]:
    """Exact reads per layout of ``per_layout`` clean plates each (gentle geometry, no damage;
    separators do not count), checking every reading is well formed, and each miss as
    ``layout: plate read text``."""
    read: dict[str, int] = {}
    misses = []
    for plate_layout in LAYOUTS:
        rng = random.Random(11)
        samples = [sample(rng, plate_layout, clean=True) for _ in range(per_layout)]
        readings = reader.read([s.image for s in samples])
        for s, r in zip(samples, readings, strict=True):
            assert 0.0 < r.confidence <= 1.0 if r.text else r.confidence == 0.0
            assert len(r.positions) == len(r.text)
            assert all(0.0 < sum(p.values()) <= 1.0 + 1e-5 for p in r.positions)
            if normalise(r.text) != s.text:
                misses.append(f"{s.layout}: {s.text} read {r.text}")
        read[plate_layout.name] = sum(
            normalise(r.text) == s.text for s, r in zip(samples, readings, strict=True)
        )
    return read, misses
