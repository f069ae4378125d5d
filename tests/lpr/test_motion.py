from __future__ import annotations

import cv2
import numpy as np
import pytest

from lpr.motion import MotionGate
from lpr.types import Image


def scene(car_x: int | None, *, noise_seed: int = 0) -> Image:
    """A grey road with mild sensor noise and, optionally, a dark car at ``car_x``."""
    rng = np.random.default_rng(noise_seed)
    image = np.full((360, 640, 3), 128, dtype=np.int16)
    image += rng.integers(-6, 7, size=image.shape, dtype=np.int16)
    if car_x is not None:
        cv2.rectangle(image, (car_x, 180), (car_x + 120, 260), (30, 30, 30), thickness=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_first_frame_counts_as_motion() -> None:
    assert MotionGate().moved(scene(None))


def test_noise_alone_is_not_motion() -> None:
    gate = MotionGate()
    gate.moved(scene(None))
    assert not any(gate.moved(scene(None, noise_seed=seed)) for seed in range(1, 10))


def test_a_moving_car_is_motion_and_a_parked_one_is_not_for_long() -> None:
    gate = MotionGate()
    gate.moved(scene(None))
    assert all(gate.moved(scene(x)) for x in range(0, 400, 40))
    # It stops: the background learns it within a few frames.
    parked = [gate.moved(scene(400, noise_seed=s)) for s in range(20)]
    assert not any(parked[-10:])


def test_a_change_of_frame_shape_restarts() -> None:
    gate = MotionGate()
    gate.moved(scene(None))
    assert gate.moved(np.ascontiguousarray(scene(None)[:, :320]))


@pytest.mark.parametrize(
    "options",
    [{"width": 8}, {"threshold": 0}, {"min_fraction": 0.0}, {"learning_rate": 1.5}],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        MotionGate(**options)  # type: ignore[arg-type]
