"""Short 640x360 clips made from a real photo: a car passing, a car parked while someone walks
by. Built at run time by the tests and ``benchmarks/live.py``; never committed."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from lpr.types import Image

WIDTH, HEIGHT = 640, 360
FPS = 10


def fit_height(path: Path) -> Image:
    """The photo scaled to the clip's height."""
    photo = cv2.imread(str(path))
    if photo is None:
        raise ValueError(f"cannot read {path}")
    size = (round(photo.shape[1] * HEIGHT / photo.shape[0]), HEIGHT)
    return np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def road() -> Image:
    """An empty grey road with lane marks, the same in every frame."""
    image = np.full((HEIGHT, WIDTH, 3), 96, dtype=np.uint8)
    for x in range(0, WIDTH, 80):
        cv2.rectangle(image, (x, 300), (x + 40, 308), (220, 220, 220), thickness=-1)
    return image


def car_at(car: Image, left: int) -> Image:
    """The road with the car photo's left edge at ``left`` (partly or wholly outside is fine)."""
    frame = road()
    width = car.shape[1]
    a, b = max(0, left), min(WIDTH, left + width)
    if a < b:
        frame[:, a:b] = car[:, a - left : b - left]
    return frame


def passing(car: Image, seconds: float = 2.0) -> list[Image]:
    """The car enters on the right and leaves on the left."""
    steps = round(seconds * FPS)
    start, end = WIDTH, -car.shape[1]
    return [car_at(car, round(start + (end - start) * i / (steps - 1))) for i in range(steps)]


def encode_h264(frames: Sequence[Image], fps: int = FPS) -> list[bytes]:
    """Access units, Annex B, a key frame every second with its parameter sets repeated."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.framerate = Fraction(fps)
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:repeat-headers=1",
    }
    units: list[bytes] = []
    for i, image in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(image, format="bgr24")
        picture.pts = i
        units += [bytes(p) for p in codec.encode(picture)]
    units += [bytes(p) for p in codec.encode(None)]
    return units


def parked(car: Image, seconds: float = 3.0) -> list[Image]:
    """The car stands in the middle while a pedestrian crosses, so the motion gate keeps firing."""
    frames = []
    for i in range(round(seconds * FPS)):
        frame = car_at(car, (WIDTH - car.shape[1]) // 2)
        x = 20 + i * 15
        cv2.rectangle(frame, (x, 20), (x + 25, 90), (40, 40, 160), thickness=-1)
        frames.append(frame)
    return frames


def write_mp4(path: Path, frames: Sequence[Image], fps: int = FPS) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path
