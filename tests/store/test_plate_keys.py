from __future__ import annotations

import itertools
import random

import pytest

from store.errors import InvalidInput
from store.plate_keys import plate_neighbourhood, prefix_range
from tracing.watch import ocr_distance


def test_neighbourhood_is_exactly_the_ocr_distance_ball() -> None:
    rng = random.Random(7)
    alphabet = "0O8BX"  # two confusable pairs and a plain character
    for _ in range(8):
        plate = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 4)))
        for distance in (0.5, 1.0, 1.5):
            ball = plate_neighbourhood(plate, distance, limit=100_000)
            assert all(ocr_distance(plate, p) <= distance for p in ball)
            # Every string over the small alphabet within the distance is in the ball.
            for length in range(len(plate) - 1, len(plate) + 2):
                for chars in itertools.product(alphabet, repeat=length):
                    candidate = "".join(chars)
                    if ocr_distance(plate, candidate) <= distance:
                        assert candidate in ball, (plate, candidate, distance)


def test_neighbourhood_size_is_bounded() -> None:
    assert len(plate_neighbourhood("51F12345", 1.0)) < 1000
    with pytest.raises(InvalidInput, match="reaches more than"):
        plate_neighbourhood("51F12345", 2.0)


def test_prefix_ranges_stay_within_plate_characters() -> None:
    assert prefix_range("51F") == ("51F", "51G")
    assert prefix_range("519") == ("519", "51A")
    assert prefix_range("5ZZ") == ("5ZZ", "6")
    assert prefix_range("ZZZ") == ("ZZZ", None)
