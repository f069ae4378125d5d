"""A plate cut along its own outline where cuts along its text line read it badly.

Two cases. A camera beside the road sees a plate as a parallelogram: its text line is level
once cut along the detector's rotated box, but every character leans, and the reader crowds
the leaning characters together (``BE7425CB`` read as ``CBE7450``). And the detector may take
only part of a plate's characters for its line, leaving out a group beyond a wide gap
(``VW 4X4-WP`` read as ``4X4WP``). The plate's own outline fixes both: its paper contrasts
with the car around it, so the contrasting region that holds the text line, reduced to four
corners, is the plate, and warping those corners to an upright rectangle gives the reader the
whole plate with upright characters. Plates whose outline neither leans against their line
(``LEAN``) nor reaches well past it (``SHORT``) are read well by the usual cuts and left alone.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from lpr.detect import TextBox
from lpr.types import Image

Quad = npt.NDArray[np.float32]  # 4x2 corners, clockwise from top-left

SEARCH = 0.6  # how far around the line to look for its plate, in the line's longer side
LEAN = math.radians(12)  # sides leaning this far from the text line's normal: a side view
SHORT = 0.75  # a line this much narrower than its plate's outline: characters left out
# The plate's area in text-line areas: the detector widens every line's box by half its height
# and more, so a tight plate can be smaller than its line's box.
AREA = (0.3, 4.0)
FILL = 0.8  # the region fills its four corners at least this much: a plate, not a blob
PLATE_ASPECT = 4.5  # width / height of the cut: a one-row plate, characters kept apart


def plate_quad(image: Image, box: TextBox) -> Quad | None:
    """The outline of the plate around ``box`` where it leans against the box (a side view) or
    reaches well past it (a line cut short), as four corners in frame pixels; otherwise None."""
    b = box.bounds()
    pad = round(SEARCH * max(b.w, b.h))
    left, top = max(0, b.x - pad), max(0, b.y - pad)
    roi = image[top : b.y + b.h + pad, left : b.x + b.w + pad]
    if min(roi.shape[:2]) < 8:
        return None
    grey = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)
    _, light = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    centre = (box.centre[0] - left, box.centre[1] - top)
    line_area = box.width * box.height
    # Light paper with dark characters, or the other way round: the characters are holes in
    # the paper's region, which the outer contour ignores.
    for paper in (light, 255 - light):
        paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        around = [c for c in contours if cv2.pointPolygonTest(c, centre, False) >= 0]
        if not around or _touches_edge(around[0], paper.shape):  # background, not a plate
            continue
        quad = _four_corners(cv2.convexHull(around[0]))
        if quad is None:
            continue
        area = cv2.contourArea(quad)
        if AREA[0] <= area / line_area <= AREA[1] and cv2.contourArea(around[0]) >= FILL * area:
            quad += np.array([left, top], dtype=np.float32)
            return quad if _leans(quad, box) or _cut_short(quad, box) else None
    return None


def _touches_edge(contour: npt.NDArray[Any], shape: tuple[int, ...]) -> bool:
    xs, ys = contour[..., 0], contour[..., 1]
    return bool(
        xs.min() <= 0 or ys.min() <= 0 or xs.max() >= shape[1] - 1 or ys.max() >= shape[0] - 1
    )


def upright(image: Image, quad: Quad) -> Image:
    """The plate inside ``quad`` warped to an upright rectangle ``PLATE_ASPECT`` times as wide
    as it is high (its height that of its longer upright side)."""
    tl, tr, br, bl = quad
    h = max(8, round(max(float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr)))))
    w = round(h * PLATE_ASPECT)
    target = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    warped = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_CUBIC)
    return np.asarray(warped, dtype=np.uint8)


def _four_corners(hull: npt.NDArray[Any]) -> Quad | None:
    """The hull reduced to four corners, clockwise from top-left, or None."""
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            return clockwise_from_top_left(approx.reshape(4, 2).astype(np.float32))
    return None


def clockwise_from_top_left(pts: Quad) -> Quad:
    """Four corners in order clockwise from the top-left one. Plates tilt far less than 45
    degrees, so the corner nearest the image origin is the plate's top-left."""
    centre = pts.mean(axis=0)
    order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
    pts = pts[order]  # clockwise in image coordinates, starting anywhere
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def _leans(quad: Quad, box: TextBox) -> bool:
    """Both upright sides of ``quad`` lean past ``LEAN`` from the text line's normal, the same
    way, while its top and bottom run along the line."""
    p0, p1, _, p3 = (np.array(p, dtype=np.float32) for p in box.corners)
    along, normal = _unit(p1 - p0), _unit(p3 - p0)
    tl, tr, br, bl = quad
    sides = [_angle(bl - tl, normal, along), _angle(br - tr, normal, along)]
    edges = [_angle(tr - tl, along, normal), _angle(br - bl, along, normal)]
    same_way = sides[0] * sides[1] > 0
    return same_way and min(map(abs, sides)) >= LEAN and max(map(abs, edges)) < LEAN


def _cut_short(quad: Quad, box: TextBox) -> bool:
    """The text line spans less than ``SHORT`` of the outline's extent along the line."""
    p0, p1 = (np.array(p, dtype=np.float32) for p in box.corners[:2])
    along = quad @ _unit(p1 - p0)
    return box.width < SHORT * float(along.max() - along.min())


def _angle(
    v: npt.NDArray[np.float32], axis: npt.NDArray[np.float32], other: npt.NDArray[np.float32]
) -> float:
    """Signed angle of ``v`` from ``axis``, towards ``other``."""
    return math.atan2(float(v @ other), float(v @ axis))


def _unit(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return v / max(float(np.linalg.norm(v)), 1e-6)
