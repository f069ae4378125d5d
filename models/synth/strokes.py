"""A drawn plate font: monoline strokes with straight-sided, rounded-corner bowls.

Most plate typefaces are of this family (DIN 1451, FE-Schrift, Brazil's Mandatory, GOST R
50577's letters): one stroke width, narrow, with ``O``, ``0``, ``D`` and ``U`` built from
straight sides and rounded corners rather than ovals. None of the packaged fonts
(``models.synth.render``) draws them so; a reader trained on ovals only reads such an ``O`` as
``D`` and a flat-topped ``6`` as ``5``. Each plate draws the family with its own width, stroke
and corner radius, so the reader learns the family, not one typeface.

Glyphs are polylines on a unit box (x right, y down, 0 to 1). A ``Round`` polyline has its
inner corners rounded; a ``Sharp`` one keeps them (diagonal joins, arms).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Round:
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Sharp:
    points: tuple[Point, ...]


Stroke = Round | Sharp


def _r(*points: Point) -> Round:
    return Round(points)


def _s(*points: Point) -> Sharp:
    return Sharp(points)


_O = _r((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))
_P_BOWL = _r((0, 0), (1, 0), (1, 0.52), (0, 0.52))
GLYPHS: dict[str, tuple[Stroke, ...]] = {
    "0": (_r((0.06, 0), (0.94, 0), (0.94, 1), (0.06, 1), (0.06, 0)),),
    "1": (_s((0.15, 0.22), (0.62, 0), (0.62, 1)),),
    "2": (_r((0, 0.2), (0, 0), (1, 0), (1, 0.45), (0.5, 0.72)), _s((0.5, 0.72), (0, 1), (1, 1))),
    "3": (
        _r((0, 0.15), (0, 0), (1, 0), (1, 0.47), (0.3, 0.47)),
        _r((0.3, 0.47), (1, 0.47), (1, 1), (0, 1), (0, 0.85)),
    ),
    "4": (_s((0.72, 1), (0.72, 0), (0, 0.68), (1, 0.68)),),
    "5": (_s((1, 0), (0, 0), (0, 0.45)), _r((0, 0.45), (1, 0.45), (1, 1), (0, 1), (0, 0.85))),
    "6": (_r((1, 0.15), (1, 0), (0, 0), (0, 1), (1, 1), (1, 0.47), (0, 0.47)),),
    "7": (_s((0, 0), (1, 0), (0.35, 1)),),
    "8": (
        _r((0.08, 0), (0.92, 0), (0.92, 0.47), (0.08, 0.47), (0.08, 0)),
        _r((0, 0.47), (1, 0.47), (1, 1), (0, 1), (0, 0.47)),
    ),
    "9": (_r((0, 0.85), (0, 1), (1, 1), (1, 0), (0, 0), (0, 0.53), (1, 0.53)),),
    "A": (_s((0, 1), (0.5, 0), (1, 1)), _s((0.2, 0.62), (0.8, 0.62))),
    "B": (
        _s((0, 0), (0, 1)),
        _r((0, 0), (0.9, 0), (0.9, 0.47), (0, 0.47)),
        _r((0, 0.47), (1, 0.47), (1, 1), (0, 1)),
    ),
    "C": (_r((1, 0.22), (1, 0), (0, 0), (0, 1), (1, 1), (1, 0.78)),),
    # D's right side turns in well before the corners, whatever the font's radius, so that a
    # blurred D and a straight-sided O differ by more than one corner. The older Brazilian D,
    # rounded at O's corners, is its alternate (ALTERNATES).
    "D": (_s((0, 0), (0, 1)), _r((0, 0), (0.55, 0), (1, 0.3), (1, 0.7), (0.55, 1), (0, 1))),
    "E": (_s((1, 0), (0, 0), (0, 1), (1, 1)), _s((0, 0.48), (0.85, 0.48))),
    "F": (_s((1, 0), (0, 0), (0, 1)), _s((0, 0.48), (0.85, 0.48))),
    "G": (_r((1, 0.22), (1, 0), (0, 0), (0, 1), (1, 1), (1, 0.55), (0.5, 0.55)),),
    "H": (_s((0, 0), (0, 1)), _s((1, 0), (1, 1)), _s((0, 0.48), (1, 0.48))),
    "I": (_s((0.5, 0), (0.5, 1)),),
    "J": (_r((1, 0), (1, 1), (0, 1), (0, 0.7)),),
    "K": (_s((0, 0), (0, 1)), _s((1, 0), (0, 0.62)), _s((0.32, 0.42), (1, 1))),
    "L": (_s((0, 0), (0, 1), (1, 1)),),
    "M": (_s((0, 1), (0, 0), (0.5, 0.62), (1, 0), (1, 1)),),
    "N": (_s((0, 1), (0, 0), (1, 1), (1, 0)),),
    "O": (_O,),
    "P": (_s((0, 0), (0, 1)), _P_BOWL),
    "Q": (_O, _s((0.6, 0.72), (1.05, 1.08))),
    "R": (_s((0, 0), (0, 1)), _P_BOWL, _s((0.45, 0.52), (1, 1))),
    "S": (_r((1, 0.15), (1, 0), (0, 0), (0, 0.48), (1, 0.48), (1, 1), (0, 1), (0, 0.85)),),
    "T": (_s((0, 0), (1, 0)), _s((0.5, 0), (0.5, 1))),
    "U": (_r((0, 0), (0, 1), (1, 1), (1, 0)),),
    "V": (_s((0, 0), (0.5, 1), (1, 0)),),
    "W": (_s((0, 0), (0.25, 1), (0.5, 0.05), (0.75, 1), (1, 0)),),  # middle apex up, as plates
    "X": (_s((0, 0), (1, 1)), _s((1, 0), (0, 1))),
    "Y": (_s((0, 0), (0.5, 0.5), (1, 0)), _s((0.5, 0.5), (0.5, 1))),
    "Z": (_s((0, 0), (1, 0), (0, 1), (1, 1)),),
    "-": (_s((0.1, 0.5), (0.9, 0.5)),),
    ".": (_s((0.45, 0.97), (0.55, 0.97)),),
    "·": (_s((0.45, 0.5), (0.55, 0.5)),),
}
# Other shapes plate typefaces give a symbol; each member of the family takes one or the usual.
# The open 4s (GOST's arm, the Czech plates' short stem) read as L to a reader that never saw them;
# the older Brazilian D rounds only its right corners, as O does, and read as O to a reader that
# knew only the early-turning D. DIN's W, its outer strokes near upright and its middle apex low,
# read as H or N to a reader that knew only the W of two Vs.
ALTERNATES: dict[str, tuple[tuple[Stroke, ...], ...]] = {
    "4": (
        (_s((0.05, 0), (0.05, 0.68), (1, 0.68)), _s((0.72, 0.3), (0.72, 1))),
        (_s((0.6, 0), (0, 0.7), (1, 0.7)), _s((0.72, 0.42), (0.72, 1))),
    ),
    "D": ((_s((0, 0), (0, 1)), _r((0, 0), (1, 0), (1, 1), (0, 1))),),
    "W": ((_s((0, 0), (0.14, 1), (0.5, 0.3), (0.86, 1), (1, 0)),),),
}
ALTERNATE_SHARE = 0.5
NARROW = {"I": 0.25, "1": 0.7, "-": 0.6, ".": 0.3, "·": 0.3}  # share of the usual glyph width


@dataclass(frozen=True, slots=True)
class StrokeFont:
    """One member of the family; duck-types the parts of a PIL font ``render`` uses."""

    size: int  # cap height, px
    width: float  # glyph width in cap heights
    stroke: float  # in cap heights
    radius: float  # corner radius, a share of the glyph width
    shapes: tuple[tuple[str, tuple[Stroke, ...]], ...] = ()  # its own glyphs (ALTERNATES)

    @classmethod
    def draw_one(cls, rng: random.Random, size: int) -> StrokeFont:
        shapes = tuple(
            (char, rng.choice(others))
            for char, others in ALTERNATES.items()
            if rng.random() < ALTERNATE_SHARE
        )
        return cls(
            size, rng.uniform(0.45, 0.62), rng.uniform(0.09, 0.16), rng.uniform(0.12, 0.5), shapes
        )

    def glyph(self, char: str) -> tuple[Stroke, ...]:
        own = dict(self.shapes)
        if char in own:
            return own[char]
        if char not in GLYPHS:
            raise KeyError(f"no stroke glyph for {char!r}")
        return GLYPHS[char]

    def font_variant(self, *, size: int) -> StrokeFont:
        return replace(self, size=size)

    def getbbox(self, text: str, anchor: str = "ls") -> tuple[int, int, int, int]:
        return 0, -self.size, round(sum(self.getlength(c) for c in text)), 0

    def getlength(self, char: str) -> float:
        return self.size * self.width * NARROW.get(char, 1.0)

    def draw(self, canvas: Image.Image, xy: tuple[int, int], char: str, fill: int) -> None:
        """``char`` with its baseline's left end at ``xy`` (an ``L`` image)."""
        strokes = self.glyph(char)
        h = self.size
        w = round(self.getlength(char))
        t = max(1, round(self.stroke * h))
        mask = np.zeros((h + t, w + t), dtype=np.uint8)
        inner = max(1, w - t)  # the skeleton's width: strokes reach t/2 past it on each side
        radius = self.radius * inner
        for stroke in strokes:
            pts = [(t / 2 + x * inner, t / 2 + y * (h - t)) for x, y in stroke.points]
            if isinstance(stroke, Round):
                pts = _rounded(pts, radius)
            line = np.round(np.array(pts) * 8).astype(np.int32)  # 3 bits of sub-pixel
            cv2.polylines(mask, [line], False, 255, t, cv2.LINE_AA, shift=3)
        x, y = xy
        canvas.paste(fill, (x - t // 2, y - h - t // 2), Image.fromarray(mask))


def _rounded(points: list[tuple[float, float]], radius: float) -> list[tuple[float, float]]:
    """The polyline with each inner corner (and a closed line's start) replaced by an arc."""
    closed = points[0] == points[-1]
    inner = range(len(points) - 1) if closed else range(1, len(points) - 1)
    out: list[tuple[float, float]] = []
    for i in inner:
        p = np.array(points[i])
        a = np.array(points[i - 1] if i > 0 else points[-2])
        b = np.array(points[i + 1])
        da, db = a - p, b - p
        la, lb = float(np.hypot(*da)), float(np.hypot(*db))
        r = min(radius, la / 2, lb / 2)
        start, end = p + da / max(la, 1e-6) * r, p + db / max(lb, 1e-6) * r
        for k in np.linspace(0, 1, 7):  # quadratic Bezier with the corner as control point
            q = (1 - k) ** 2 * start + 2 * (1 - k) * k * p + k**2 * end
            out.append((float(q[0]), float(q[1])))
    if closed:
        return [*out, out[0]]
    return [points[0], *out, points[-1]]
