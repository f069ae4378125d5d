from __future__ import annotations

import numpy as np

from lpr.detect import TextBox
from lpr.ocr import Reading
from lpr.plates import positions_of
from lpr.region import region_corners, region_of_line
from lpr.types import BoundingBox


def _box(x: float, y: float, w: float, h: float) -> TextBox:
    return TextBox(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 1.0)


def _plate_crop(w: float, h: float) -> BoundingBox:
    """The area of a candidate that is the whole crop."""
    return _box(0, 0, w, h).bounds()


def test_the_region_box_lies_right_of_the_main_part_and_above_its_foot() -> None:
    main = _box(70, 10, 290, 70)  # A123BC on a 520 x 112 crop
    corners = region_corners(_plate_crop(520, 112), [main, _box(20, 90, 40, 10)], 520)
    assert corners is not None
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    assert 360 < min(xs) < 380 and 450 < max(xs) <= 520
    assert min(ys) < 10 and max(ys) < 80


def test_the_region_box_follows_the_main_parts_tilt() -> None:
    tilted = TextBox(((70, 40), (360, 10), (367, 80), (77, 110)), 1.0)
    corners = region_corners(_plate_crop(520, 140), [tilted], 520)
    assert corners is not None
    top_left, top_right = corners[0], corners[1]
    assert top_right[1] < top_left[1]  # rising to the right, as the main part does


def test_no_region_box_without_a_main_part_or_past_the_edge() -> None:
    crop = _plate_crop(520, 112)
    assert region_corners(crop, [_box(70, 10, 60, 70)], 520) is None  # too short a line
    assert region_corners(crop, [_box(10, 0, 500, 100)], 520) is None  # holds the region


def _line_read(text: str, columns: list[float]) -> Reading:
    return Reading(text, 1.0, tuple(positions_of(text)), tuple(columns))


def test_a_line_through_the_region_is_cut_before_its_last_digits() -> None:
    line = np.zeros((124, 900, 3), dtype=np.uint8)  # 100 px of text, margins of 0.12
    read = _line_read("E677MC43", [0.1, 0.22, 0.34, 0.46, 0.58, 0.7, 0.82, 0.9])
    region = region_of_line(line, read, 2, margin=0.12)
    assert region is not None
    assert region.shape[1] == 900 - 684  # halfway between C (0.70) and 4 (0.82)
    # From 0.1 text heights above the text's top to 0.85 below it: the digits, not RUS.
    assert region.shape[0] == round(0.97 * 100) - round(0.02 * 100)


def test_a_stray_tail_after_the_region_is_left_out() -> None:
    line = np.zeros((124, 1000, 3), dtype=np.uint8)
    read = _line_read("K707YY199RUS", [i / 12 for i in range(12)])
    region = region_of_line(line, read, 3, margin=0.12)
    assert region is not None
    assert region.shape[1] == 1000 - round((5 / 12 + 6 / 12) / 2 * 1000)


def test_no_cut_without_columns_or_region_digits() -> None:
    line = np.zeros((124, 900, 3), dtype=np.uint8)
    assert region_of_line(line, _line_read("E677MC43", []), 2, margin=0.12) is None
    columns = [i / 8 for i in range(8)]
    assert region_of_line(line, _line_read("E677MCX3", columns), 2, margin=0.12) is None
    assert region_of_line(line, _line_read("43", columns[:2]), 2, margin=0.12) is None
    at_the_edge = [*columns[:5], 0.998, 1.0, 1.0]  # all but cut off at the right edge
    assert region_of_line(line, _line_read("E677MC43", at_the_edge), 2, margin=0.12) is None
