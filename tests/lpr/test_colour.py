from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from lpr.colour import COLOURS, body_window, name_lab, vehicle_colour
from lpr.types import BoundingBox


def lab_of(bgr: tuple[int, int, int]) -> npt.NDArray[np.float32]:
    pixel = np.array([[bgr]], dtype=np.uint8)
    return np.asarray(cv2.cvtColor(pixel, cv2.COLOR_BGR2LAB)[0, 0], dtype=np.float32)


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((245, 245, 245), "white"),
        ((15, 15, 15), "black"),
        ((140, 140, 140), "grey"),
        ((30, 30, 200), "red"),
        ((160, 60, 10), "blue"),
        ((40, 150, 40), "green"),
        ((20, 210, 230), "yellow"),
        ((40, 70, 110), "brown"),
        ((160, 40, 160), "other"),
    ],
)
def test_paint_colours_are_named(bgr: tuple[int, int, int], name: str) -> None:
    found, margin = name_lab(lab_of(bgr))
    assert found == name
    assert 0.5 <= margin <= 1.0
    assert found in COLOURS


def test_paint_is_the_largest_cluster_above_the_plate() -> None:
    rng = np.random.default_rng(3)
    image = np.full((400, 600, 3), (35, 35, 190), dtype=np.uint8)  # red paint
    image = np.clip(image + rng.integers(-12, 13, image.shape), 0, 255).astype(np.uint8)
    image[150:190, 200:400] = (20, 20, 20)  # a dark rear window strip
    plate = BoundingBox(250, 300, 100, 25)
    image[300:325, 250:350] = (250, 250, 250)
    colour = vehicle_colour(image, plate)
    assert colour is not None
    assert colour.name == "red"
    assert colour.confidence > 0.5


def test_no_body_above_a_plate_means_no_colour() -> None:
    crop = np.full((100, 400, 3), 255, dtype=np.uint8)  # a plate crop with nothing around it
    assert body_window(crop.shape, BoundingBox(5, 3, 390, 94)) is None
    assert vehicle_colour(crop, BoundingBox(5, 3, 390, 94)) is None
