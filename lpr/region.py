"""Where a Russian plate's region code is printed, from the text lines the detector found.

The region digits sit in their own frame right of the main part (``A123BC``), smaller and
higher than it, over ``RUS`` and the flag; read from their own box they come out surer than as
the tail of a whole-plate read (``lpr.recognizer`` reads them, ``lpr.plates.with_region``
takes them where they are surer). The box is right of the main part's line
(``region_corners``) or, where one line runs through the region, its end (``region_of_line``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lpr.detect import Point, TextBox
from lpr.ocr import MIN_SIDE, Reading
from lpr.types import BoundingBox, Image

# The region box in heights of the main part's text line, from its top-right corner:
# (left, right, top, bottom).
REGION_BOX = (0.1, 1.45, -0.1, 0.85)
MAIN_PART_ASPECT = 2.5  # a text line of six plate characters is at least this wide for its height


def region_corners(
    area: BoundingBox, boxes: Sequence[TextBox], image_width: int
) -> tuple[Point, Point, Point, Point] | None:
    """Where a Russian plate's region digits are: right of its main part, the widest text line
    whose centre lies in ``area`` (a candidate plate), along that line's tilt (``REGION_BOX``).

    None when no line is wide enough for a main part, or when the region box would lie past
    the picture's right edge: then the line already runs through the region and holds it.
    """
    lines = [
        b
        for b in boxes
        if b.width >= MAIN_PART_ASPECT * b.height
        and area.x <= b.centre[0] <= area.x + area.w
        and area.y <= b.centre[1] <= area.y + area.h
    ]
    if not lines:
        return None
    main = max(lines, key=lambda b: b.width)
    p0, p1, _, p3 = (np.array(p, dtype=np.float64) for p in main.corners)
    along = (p1 - p0) * main.height / max(main.width, 1e-6)  # one text height along the line
    down = p3 - p0
    left, right, top, bottom = REGION_BOX
    corners = [
        p1 + x * along + y * down
        for x, y in ((left, top), (right, top), (right, bottom), (left, bottom))
    ]
    if max(c[0] for c in corners) > image_width:
        return None
    a, b, c, d = ((float(x), float(y)) for x, y in corners)
    return a, b, c, d


def region_of_line(line: Image, reading: Reading, length: int, *, margin: float) -> Image | None:
    """The region digits of a plate whose text line runs through its region frame: ``line`` a
    crop of that line made with ``margin`` (``lpr.recognizer.crop``), ``reading`` its read.

    The region is the read's last ``length`` digits (after any stray tail such as ``RUS``); its
    crop starts halfway between them and the character before, over ``REGION_BOX``'s rows.
    None when the read does not say where its characters are, does not end in that many digits
    after a main part, or leaves too narrow a cut to read.
    """
    text = reading.text
    if len(reading.columns) != len(text):
        return None
    end = len(text)
    while end > 0 and not text[end - 1].isdigit():
        end -= 1
    start = end - length
    if start < 1 or not text[start:end].isdigit():
        return None
    left = round((reading.columns[start - 1] + reading.columns[start]) / 2 * line.shape[1])
    _, _, top, bottom = REGION_BOX
    # The line's text is 1 height tall between margins of ``margin`` heights.
    height = line.shape[0] / (1 + 2 * margin)
    rows = slice(max(0, round((margin + top) * height)), round((margin + bottom) * height))
    region = line[rows, left:]
    return region if min(region.shape[:2]) >= MIN_SIDE else None
