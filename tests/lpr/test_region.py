from __future__ import annotations

from lpr.detect import TextBox
from lpr.region import region_corners
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
