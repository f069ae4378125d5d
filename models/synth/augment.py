"""From a clean plate to a crop as cameras and detectors deliver it.

Geometry: the plate is warped in perspective onto a background, some sheared as a camera beside
the road sees them, and cut out along its upright bounds with a tight margin or, as a detector
that boxes the plate's frame delivers it, with room above and below. 40% of crops are part of a
plate (a row cut at its characters, or the groups a text detector keeps when it splits a row at a
gap). Half of the crops of one row are stretched wide, as ``lpr.recognizer`` stretches the lines
it reads. Photometry: dirt, low resolution, blur, noise, night, glare, shadow, black and white,
and JPEG, each with its own chance.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from lpr.types import Image
from models.synth.layouts import LAYOUTS, Layout
from models.synth.render import Group, render

Quad = npt.NDArray[np.float32]  # 4x2 corners
Homography = npt.NDArray[np.float64]

SHEAR_SHARE = 0.3  # plates seen from the side: upright strokes lean, up to 0.4 px per px
TALL_SHARE = 0.2  # whole plates cut with room above and below, up to half their height
BINARY_SHARE = 0.05  # crops thresholded to black and white, as some cameras and archives keep them


@dataclass(frozen=True, slots=True)
class Sample:
    image: Image  # BGR crop
    marked: str  # reading order, top row first, "-" where a dash or dot is printed between groups
    layout: str
    lines: int  # rows of characters in the crop

    @property
    def text(self) -> str:
        """Plate symbols only."""
        return self.marked.replace("-", "")


def sample(
    rng: random.Random, layout: Layout | None = None, *, partial: float = 0.4, clean: bool = False
) -> Sample:
    """One labelled crop; ``clean`` keeps the geometry gentle and skips photometric damage."""
    layout = layout or rng.choice(LAYOUTS)
    plate = render(layout, rng)
    image = np.ascontiguousarray(plate.image[:, :, ::-1])
    if not clean and rng.random() < 0.3:
        image = _dirt(image, rng)
    canvas, warp = _place(image, rng, strength=0.3 if clean else 1.0)
    h, w = image.shape[:2]
    whole = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float32)
    part = not clean and rng.random() < partial
    if part:
        groups = _some_groups(plate.groups, rng)
        marked, lines = groups[0].label + "".join(g.mark + g.label for g in groups[1:]), 1
        x0, y0 = min(g.box[0] for g in groups), min(g.box[1] for g in groups)
        x1, y1 = max(g.box[2] for g in groups), max(g.box[3] for g in groups)
        quad = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float32)
        margin = rng.uniform(0.05, 0.25) * (y1 - y0)
    else:
        marked, lines, quad = plate.marked, len(plate.groups), whole
        margin = rng.uniform(-0.03, 0.12) * h if not clean else 0.04 * h
    tall = rng.uniform(0.1, 0.5) * h if not (clean or part) and rng.random() < TALL_SHARE else 0.0
    crop = _cut(canvas, cv2.perspectiveTransform(quad[None], warp)[0], margin, rng, tall=tall)
    if lines == 1 and not clean and rng.random() < 0.5:
        crop = _stretch(crop, rng.uniform(1.2, 2.0))
    crop = _shrink(crop, lines, rng)
    if not clean:
        crop = _photometric(crop, rng)
    return Sample(crop, marked, layout.name, lines)


def _some_groups(rows: tuple[tuple[Group, ...], ...], rng: random.Random) -> tuple[Group, ...]:
    row = rng.choice(rows)
    if rng.random() < 0.25:  # a whole row cut at its characters, as a text detector boxes it
        return row
    start = rng.randrange(len(row))
    end = rng.randrange(start, len(row)) + 1
    return row[start:end]


def _place(plate: Image, rng: random.Random, *, strength: float) -> tuple[Image, Homography]:
    """The plate warped onto a background; returns the canvas and the plate->canvas homography."""
    h, w = plate.shape[:2]
    m = round(0.5 * h)
    canvas_h, canvas_w = h + 2 * m, w + 2 * m
    # A coarse random texture, drawn small and enlarged: bumper, grille, paint.
    texture = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (4, 6, 3))
    canvas = np.asarray(cv2.resize(texture.astype(np.uint8), (canvas_w, canvas_h)), np.uint8)
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float32)
    angle = math.radians(rng.uniform(-6, 6) * strength)
    centre = np.array([w / 2, h / 2], dtype=np.float32)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    jitter = 0.12 * h * strength
    shear = rng.uniform(-0.4, 0.4) * strength if rng.random() < SHEAR_SHARE else 0.0
    dst = np.array(
        [
            (rot @ (p - centre))
            + centre
            + m
            + [rng.uniform(-jitter, jitter) for _ in range(2)]
            + [shear * (p[1] - centre[1]), 0.0]
            for p in src
        ],
        dtype=np.float32,
    )
    warp = np.asarray(cv2.getPerspectiveTransform(src, dst), dtype=np.float64)
    cv2.warpPerspective(
        plate, warp, (canvas_w, canvas_h), dst=canvas, borderMode=cv2.BORDER_TRANSPARENT
    )
    return canvas, warp


def _cut(
    canvas: Image, quad: Quad, margin: float, rng: random.Random, *, tall: float = 0.0
) -> Image:
    """The upright bounds of ``quad`` plus a margin, each side shifted a little on its own, and
    up to ``tall`` more above and below."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    sides = [margin * rng.uniform(0.6, 1.4) + tall * (i % 2) * rng.random() for i in range(4)]
    h, w = canvas.shape[:2]
    left, top = max(0, round(x0 - sides[0])), max(0, round(y0 - sides[1]))
    right, bottom = min(w, round(x1 + sides[2])), min(h, round(y1 + sides[3]))
    return canvas[top : max(bottom, top + 4), left : max(right, left + 4)]


def _stretch(crop: Image, factor: float) -> Image:
    """Wider by ``factor``: ``lpr.recognizer`` reads a detector's lines stretched as well."""
    size = (max(4, round(crop.shape[1] * factor)), crop.shape[0])
    return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _shrink(crop: Image, lines: int, rng: random.Random) -> Image:
    """Down to the size a camera sees plates at: 14 to 90 px per row, mostly small."""
    row_h = math.exp(rng.uniform(math.log(14), math.log(90)))
    scale = min(1.0, row_h * lines * 1.3 / crop.shape[0])
    size = (max(4, round(crop.shape[1] * scale)), max(4, round(crop.shape[0] * scale)))
    return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _dirt(image: Image, rng: random.Random) -> Image:
    h, w = image.shape[:2]
    stain = np.zeros((h, w), dtype=np.float32)
    for _ in range(rng.randint(2, 12)):
        centre = (rng.randrange(w), rng.randrange(h))
        axes = (rng.randint(2, max(3, w // 8)), rng.randint(2, max(3, h // 4)))
        cv2.ellipse(stain, centre, axes, rng.uniform(0, 180), 0, 360, rng.uniform(0.1, 0.5), -1)
    soft = np.asarray(cv2.GaussianBlur(stain, (0, 0), max(1.0, h / 30)), np.float32)[..., None]
    mud = np.array([40, 60, 80], dtype=np.float32)
    return np.asarray(image * (1 - soft) + mud * soft, dtype=np.uint8)


def _photometric(crop: Image, rng: random.Random) -> Image:
    img = crop.astype(np.float32)
    h, w = img.shape[:2]
    img = img * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.2:  # shadow across part of the plate
        x = rng.uniform(0, w)
        mask = (np.arange(w)[None, :] + rng.uniform(-1, 1) * np.arange(h)[:, None]) < x
        img[mask] *= rng.uniform(0.35, 0.75)
    if rng.random() < 0.15:  # night: dark, cold, noisy
        img = img * rng.uniform(0.15, 0.45) + np.array([12, 4, 0], dtype=np.float32)
    if rng.random() < 0.15:  # glare: a bright blob of headlight or sun
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.2, 0.8) * w
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / r**2)[..., None]
        img = img + np.float32(rng.uniform(80, 220)) * blob.astype(np.float32)
    if rng.random() < 0.1:  # infrared camera: grey, strong contrast
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2) * np.float32(1.3) - 30
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        if rng.random() < 0.5:
            out = np.asarray(cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.3)), np.uint8)
        else:
            k = rng.randint(2, 5)
            kernel = np.zeros((k, k), dtype=np.float32)
            kernel[k // 2] = 1.0 / k
            centre = (k / 2 - 0.5, k / 2 - 0.5)
            rotation = cv2.getRotationMatrix2D(centre, rng.uniform(0, 180), 1.0)
            turned = np.asarray(cv2.warpAffine(kernel, rotation, (k, k)), np.float32)
            turned /= max(float(turned.sum()), 1e-6)
            out = np.asarray(cv2.filter2D(out, -1, turned), np.uint8)
    if rng.random() < 0.5:
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 14), out.shape)
        out = np.clip(out + noise, 0, 255).astype(np.uint8)
    if out.shape[0] >= 20 and rng.random() < BINARY_SHARE:  # a few pixels' rows go to blobs
        out = _binarise(out, rng)
    if rng.random() < 0.5:
        quality = rng.randint(15, 90)
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
    return out


def _binarise(crop: Image, rng: random.Random) -> Image:
    """Black and white at Otsu's threshold, strokes thickened or thinned by a pixel at times."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    _, out = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = np.ones((2, 2), np.uint8)
    change = rng.random()
    if change < 0.25:
        out = cv2.erode(out, kernel)  # grows what is dark: the ink of a light plate
    elif change < 0.5:
        out = cv2.dilate(out, kernel)
    return np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)
