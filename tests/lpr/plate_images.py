"""Synthetic test pictures: a plate drawn with Pillow's built-in font on a painted car body."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from lpr.types import BoundingBox, Image

BODY_BGR = {"red": (40, 40, 200), "blue": (170, 70, 20), "white": (235, 235, 235)}


def car_with_plate(
    text: str, *, body: str = "red", size: tuple[int, int] = (640, 480)
) -> tuple[Image, BoundingBox]:
    """A BGR picture of a car's rear in ``body`` colour with a white plate reading ``text``."""
    width, height = size
    b, g, r = BODY_BGR[body]
    picture = PILImage.new("RGB", size, (90, 90, 90))  # road
    draw = ImageDraw.Draw(picture)
    draw.rectangle((60, 40, width - 60, height - 60), fill=(r, g, b))  # the car's back
    font = ImageFont.load_default(size=44)
    left, top, right, bottom = (round(v) for v in draw.textbbox((0, 0), text, font=font))
    plate_w, plate_h = right - left + 40, bottom - top + 24
    x, y = (width - plate_w) // 2, height - 60 - plate_h - 40
    draw.rectangle(
        (x, y, x + plate_w, y + plate_h), fill=(250, 250, 250), outline=(0, 0, 0), width=3
    )
    draw.text((x + 20 - left, y + 12 - top), text, font=font, fill=(10, 10, 10))
    bgr = np.asarray(picture, dtype=np.uint8)[:, :, ::-1].copy()
    return bgr, BoundingBox(x, y, plate_w, plate_h)


def empty_scene(size: tuple[int, int] = (640, 480)) -> Image:
    """A road and a wall with a few shapes, no text."""
    picture = PILImage.new("RGB", size, (120, 130, 125))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, size[1] // 2, size[0], size[1]), fill=(70, 70, 70))
    draw.ellipse((100, 100, 220, 220), fill=(30, 120, 30))
    return np.asarray(picture, dtype=np.uint8)[:, :, ::-1].copy()
