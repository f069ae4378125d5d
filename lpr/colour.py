"""Vehicle colour from the body around the plate.

Method: the body panel right above a plate (boot lid, bonnet, bumper) is the largest stretch of
paint a plate camera sees. We take a window above the plate, three plate-widths wide and about
one plate-width tall, ending a third of the plate's height above it so neither the plate nor
its frame is in it. Its pixels (subsampled to a few thousand) are smoothed and
clustered in CIE Lab with k-means (k=3); each cluster's mean is named, clusters of one name
count as one (light and shade of one paint), and the name covering most of the window is the
paint; the rest is glass, grille, lights, shadow or background. Names come from simple rules in
HSV (dark → black, unsaturated → white/grey by brightness, else by hue, with dull orange-red
hues as brown). ``grey`` also stands for silver and ``brown`` for beige.

Confidence is the paint's share of the window times how far the colour sits from the
nearest naming boundary (so a 50% cluster on the white/grey edge is not reported as sure).
No window (plate at the top edge, or a plate crop with no vehicle around it) → no colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from lpr.types import BoundingBox, Image

COLOURS = ("white", "black", "grey", "red", "blue", "green", "yellow", "brown", "other")
MIN_PIXELS = 64
SAMPLE = 4000


@dataclass(frozen=True, slots=True)
class VehicleColour:
    name: str
    confidence: float


def body_window(shape: tuple[int, ...], plate: BoundingBox) -> BoundingBox | None:
    """The region of the vehicle body we read the paint from, clipped to the image."""
    width = shape[1]
    cx = plate.x + plate.w / 2
    x0 = max(0, round(cx - 1.5 * plate.w))
    x1 = min(width, round(cx + 1.5 * plate.w))
    y1 = max(0, round(plate.y - plate.h / 3))
    y0 = max(0, round(y1 - plate.w))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return BoundingBox(x0, y0, x1 - x0, y1 - y0)


def vehicle_colour(image: Image, plate: BoundingBox) -> VehicleColour | None:
    """The named paint colour of the vehicle carrying ``plate``, or None when none is visible."""
    window = body_window(image.shape, plate)
    if window is None:
        return None
    region = image[window.y : window.y + window.h, window.x : window.x + window.w]
    smooth = cv2.GaussianBlur(region, (5, 5), 0)
    lab = cv2.cvtColor(smooth, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    if len(lab) < MIN_PIXELS:
        return None
    step = max(1, len(lab) // SAMPLE)
    pixels = lab[::step]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    # A fixed seed: the same picture always gets the same colour.
    cv2.setRNGSeed(7)
    start = np.zeros((len(pixels), 1), dtype=np.int32)
    _, labels, centres = cv2.kmeans(pixels, 3, start, criteria, 2, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=3) / len(pixels)
    # Clusters of one name are one paint split by light and shade.
    named = [
        (*name_lab(np.asarray(centre, dtype=np.float32)), float(share))
        for centre, share in zip(centres, shares, strict=True)
    ]
    totals: dict[str, float] = {}
    for name, _, share in named:
        totals[name] = totals.get(name, 0.0) + share
    paint = max(totals, key=totals.__getitem__)
    margin = max((m, share) for name, m, share in named if name == paint)[0]
    return VehicleColour(paint, round(totals[paint] * margin, 3))


def name_lab(lab: npt.NDArray[np.float32]) -> tuple[str, float]:
    """A colour name for one Lab value (OpenCV 8-bit scaling) and a 0..1 margin from the edge."""
    pixel = np.clip(lab, 0, 255).astype(np.uint8).reshape(1, 1, 3)
    h, s, v = (
        int(c)
        for c in cv2.cvtColor(cv2.cvtColor(pixel, cv2.COLOR_LAB2BGR), cv2.COLOR_BGR2HSV)[0, 0]
    )
    if v < 55:
        return "black", _margin(55 - v, 30)
    # White paint takes the tint of the sky or the snow it reflects; dark paint hides its hue.
    if s < 45 or (s < 70 and (v < 110 or v > 190)):
        if v > 175:
            return "white", _margin(min(v - 175, 70 - s), 30)
        return ("grey", _margin(min(abs(v - 55), abs(175 - v), 70 - s), 25))
    margin = _margin(min(s - 45, v - 55), 40)
    if h < 9 or h >= 170:
        return ("brown", margin) if v < 120 else ("red", margin)
    if h < 25:
        return ("brown", margin) if s < 160 or v < 150 else ("other", margin)
    if h < 35:
        return "yellow", margin
    if h < 85:
        return "green", margin
    if h < 130:
        return "blue", margin
    return "other", margin


def _margin(distance: float, scale: float) -> float:
    return float(min(1.0, 0.5 + max(0.0, distance) / (2 * scale)))
