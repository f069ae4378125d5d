"""Plates read badly along their text line (seen from the side, or cut short by the detector):
found by their outline and cut upright."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lpr.detect import PPOCRDetector, TextBox
from lpr.ocr import PPOCRReader
from lpr.plates import match
from lpr.rectify import PLATE_ASPECT, Quad, plate_quad, upright
from lpr.types import BoundingBox, Image
from tests.lpr.plate_images import car_with_plate

SLOPE = -0.45  # a camera on the left: the line climbs to the right, the sides stay upright


def _seen_from_the_side(image: Image, plate: BoundingBox) -> tuple[Image, Quad]:
    """The picture sheared as a side camera sees it, and the plate's corners in it."""
    h, w = image.shape[:2]
    centre = plate.x + plate.w / 2  # the plate stays where it was, its sides upright
    shear = np.array([[1, 0, 0], [SLOPE, 1, -SLOPE * centre]], dtype=np.float32)
    sheared = cv2.warpAffine(image, shear, (w, h), borderMode=cv2.BORDER_REPLICATE)
    x, y, pw, ph = plate.x, plate.y, plate.w, plate.h
    corners = np.array([(x, y), (x + pw, y), (x + pw, y + ph), (x, y + ph)], dtype=np.float32)
    return np.asarray(sheared, dtype=np.uint8), cv2.transform(corners[None], shear)[0]


def _text_line(image: Image) -> TextBox:
    return max(PPOCRDetector().detect(image), key=lambda b: b.width)


def test_a_plate_seen_from_the_side_is_found_by_its_outline_and_read_upright() -> None:
    image, plate = car_with_plate("AB1234CE")
    sheared, corners = _seen_from_the_side(image, plate)
    quad = plate_quad(sheared, _text_line(sheared))
    assert quad is not None
    # The outline is the plate's (its black frame drawn 3 px wide).
    assert np.abs(quad - corners).max() < 8
    cut = upright(sheared, quad)
    assert cut.shape[1] == pytest.approx(PLATE_ASPECT * cut.shape[0], abs=1)
    (reading,) = PPOCRReader().read([cut])
    found = match(reading.positions)
    assert found is not None
    assert found.plate == "AB1234CE"


def test_a_line_cut_short_is_read_along_its_whole_plate() -> None:
    image, plate = car_with_plate("AB1234CE")
    line = _text_line(image)
    # The detector's line without the first group, as when it stops at a wide gap.
    (x0, y0), (x1, _), (_, y2), _ = line.corners
    start = x0 + 0.3 * (x1 - x0)
    short = TextBox(((start, y0), (x1, y0), (x1, y2), (start, y2)), line.score)
    quad = plate_quad(image, short)
    assert quad is not None
    drawn = [(plate.x, plate.y), (plate.x + plate.w, plate.y + plate.h)]
    assert np.abs(quad[[0, 2]] - np.array(drawn, dtype=np.float32)).max() < 6
    (reading,) = PPOCRReader().read([upright(image, quad)])
    found = match(reading.positions)
    assert found is not None
    assert found.plate == "AB1234CE"


def test_an_upright_plate_is_left_to_the_usual_cuts() -> None:
    image, _ = car_with_plate("AB1234CE")
    assert plate_quad(image, _text_line(image)) is None


def test_a_line_on_paper_without_an_outline_has_no_plate() -> None:
    # Lettering on a white van's side, sheared alike: the paper runs past the search area.
    image = np.full((480, 640, 3), 235, dtype=np.uint8)
    cv2.putText(image, "AB1234CE", (190, 260), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (10, 10, 10), 4)
    sheared, _ = _seen_from_the_side(image, BoundingBox(190, 220, 260, 50))
    assert plate_quad(sheared, _text_line(sheared)) is None
