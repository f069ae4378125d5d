"""The PP-OCR reader and the CTC decoding every reader shares."""

from __future__ import annotations

import numpy as np
import pytest

from lpr.ocr import PPOCRReader, greedy_ctc
from tests.lpr.plate_images import car_with_plate


def test_ctc_gives_each_character_its_column_in_the_crop() -> None:
    # Eight frames, the crop filling the first half: A in frames 0-1, B in frame 3.
    probs = np.full((8, 3), 0.0, dtype=np.float32)
    probs[:, 0] = 1.0
    probs[0:2] = [0.1, 0.9, 0.0]
    probs[3] = [0.2, 0.0, 0.8]
    reading = greedy_ctc(probs, ["", "A", "B"], 2, filled=0.5)
    assert reading.text == "AB"
    assert reading.columns == pytest.approx((0.25, 0.875))
    assert greedy_ctc(probs, ["", "A", "B"], 2).columns == ()  # unknown padding: no columns


def test_the_reader_places_characters_left_to_right_across_the_crop() -> None:
    image, box = car_with_plate("AB1234CE")
    line = image[box.y : box.y + box.h, box.x : box.x + box.w]
    reading = PPOCRReader().read([line])[0]
    assert reading.text == "AB1234CE"
    assert list(reading.columns) == sorted(reading.columns)
    # The drawn text starts 20 px in and ends 20 px before the plate's right edge.
    assert reading.columns[0] < 0.2 and reading.columns[-1] > 0.8
