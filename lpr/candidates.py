"""Plate candidates from detected text lines: where in the picture a plate may be.

Plates are laid out in a few ways, and the grouping follows them: a single text line; lines
side by side on one line (a Russian plate's region, a plate the detector split at its gaps);
two stacked lines (Vietnamese, motorcycle and square plates). Shapes no plate has are dropped.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lpr.detect import TextBox
from lpr.types import BoundingBox

MIN_TEXT_HEIGHT = 7.0  # px: below this no reader gets a plate right
ROW_ASPECT = (1.5, 14.0)  # width / height of one plate row with at least four characters
MAX_LINE_BOXES = 5


@dataclass(frozen=True, slots=True)
class Row:
    """Text boxes side by side on one line of a plate, left to right."""

    boxes: tuple[TextBox, ...]

    @property
    def corners(self) -> list[tuple[float, float]]:
        return [p for b in self.boxes for p in b.corners]

    def bounds(self) -> BoundingBox:
        return _bounds(self.corners)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Where a plate may be: one or more rows, top first."""

    rows: tuple[Row, ...]

    @property
    def boxes(self) -> tuple[TextBox, ...]:
        """Every row's boxes, top row first, left to right."""
        return tuple(b for r in self.rows for b in r.boxes)

    def bounds(self) -> BoundingBox:
        return _bounds([p for b in self.boxes for p in b.corners])


def candidates(boxes: Sequence[TextBox]) -> list[Candidate]:
    """Plate candidates from detected text lines: single lines, joined lines, stacked rows."""
    usable = sorted((b for b in boxes if b.height >= MIN_TEXT_HEIGHT), key=lambda b: b.centre[0])
    rows = [Row((b,)) for b in usable] + [Row(line) for line in _lines(usable)]
    single = [Candidate((r,)) for r in rows if _row_shaped(r)]
    stacked = [
        Candidate((top, bottom))
        for top, bottom in itertools.permutations(rows, 2)
        if _stacked(top.bounds(), bottom.bounds())
    ]
    return single + stacked


def _lines(boxes: Sequence[TextBox]) -> list[tuple[TextBox, ...]]:
    """Whole lines of two or more boxes, left to right; the format alignment skips non-plate."""
    following = {a: [b for b in boxes if b is not a and _same_line(a, b)] for a in boxes}
    preceded = {b for after in following.values() for b in after}
    lines: list[tuple[TextBox, ...]] = []

    def extend(line: tuple[TextBox, ...]) -> None:
        if len(line) == MAX_LINE_BOXES or not following[line[-1]]:
            lines.append(line)
            return
        for b in following[line[-1]]:
            extend((*line, b))

    for start in boxes:
        if start not in preceded:
            extend((start,))
    return [line for line in lines if len(line) > 1]


def _same_line(left: TextBox, right: TextBox) -> bool:
    """``right`` continues ``left`` on the same line of one plate."""
    a, b = left.bounds(), right.bounds()
    h = max(a.h, b.h)
    overlap = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    gap = b.x - (a.x + a.w)
    return (
        0.45 <= b.h / a.h <= 2.2 and overlap >= 0.5 * min(a.h, b.h) and -0.3 * h <= gap <= 0.9 * h
    )


def _row_shaped(row: Row) -> bool:
    # The rotated rectangle, not the upright bounds: a tilted plate has a squarish bounding box.
    _, (w, h), _ = cv2.minAreaRect(np.array(row.corners, dtype=np.float32))
    return ROW_ASPECT[0] <= max(w, h) / max(1.0, min(w, h)) <= ROW_ASPECT[1]


def _stacked(top: BoundingBox, bottom: BoundingBox) -> bool:
    """``bottom`` is the second row of a plate whose first row is ``top``."""
    overlap = min(top.x + top.w, bottom.x + bottom.w) - max(top.x, bottom.x)
    gap = bottom.y - (top.y + top.h)
    h = max(top.h, bottom.h)
    union_w = max(top.x + top.w, bottom.x + bottom.w) - min(top.x, bottom.x)
    return (
        overlap >= 0.6 * min(top.w, bottom.w)
        and -0.25 * h <= gap <= 0.6 * h
        and 0.4 <= bottom.h / top.h <= 2.5
        and 0.7 <= union_w / (top.h + bottom.h + max(0, gap)) <= 4.5
    )


def _bounds(points: Sequence[tuple[float, float]]) -> BoundingBox:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x, y = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
    return BoundingBox(x, y, max(1, math.ceil(max(xs)) - x), max(1, math.ceil(max(ys)) - y))
