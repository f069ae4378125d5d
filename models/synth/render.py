"""Drawing a clean, upright plate: paper, border, national decorations and the characters.

Fonts come from Debian packages (``fonts-dejavu-core``, ``fonts-liberation``,
``fonts-freefont-ttf``, ``fonts-urw-base35``); whichever are installed are used, DejaVu at least.
A share of plates (``STROKE_SHARE``) is drawn in the plate-font family of ``strokes`` instead.
Each plate also returns where its character groups are, so a crop of part of a plate (what a
text detector returns when it splits a plate at a gap) can be labelled exactly.
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from models.synth.layouts import BLUE, RGB, WHITE, Layout
from models.synth.strokes import StrokeFont

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/freefont"),
    Path("/usr/share/fonts/opentype/urw-base35"),
)
FONT_NAMES = (
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansCondensed.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationMono-Bold.ttf",
    "FreeSansBold.ttf",
    "FreeMonoBold.ttf",
    "NimbusSansNarrow-Bold.otf",
    "NimbusSansNarrow-Regular.otf",
)
SIZE = 40  # font size in px; plates are drawn large and shrunk by the augmentation
STROKE_SHARE = 0.4  # plates drawn in the stroke family (``models.synth.strokes``)
GAP_CHARS = " -·*+"  # where a text detector may split a row into separate boxes
MARKS = "-·"  # printed separators: labelled as "-" in a plate's marked text
EMBLEM = "*"  # inspection seals between groups (Czech, German plates): two stacked discs
CREST = "+"  # a coat of arms between groups (Slovakia's double cross), drawn as a shield
SCREW_SHARE = 0.5  # plates held on by a visible pair of screws (or showing their empty holes)

Mask = npt.NDArray[np.uint8]
Font = ImageFont.FreeTypeFont
PlateFont = Font | StrokeFont


@dataclass(frozen=True, slots=True)
class Group:
    """Labelled characters between gaps and their box (x0, y0, x1, y1) on the plate."""

    label: str
    box: tuple[int, int, int, int]
    mark: str = ""  # "-" where a printed separator comes before the group on its row


@dataclass(frozen=True, slots=True)
class Plate:
    image: npt.NDArray[np.uint8]  # RGB
    marked: str  # rows joined top first, "-" for every printed separator between groups
    groups: tuple[tuple[Group, ...], ...]  # per row

    @property
    def label(self) -> str:
        """Plate symbols only."""
        return self.marked.replace("-", "")


@functools.cache
def fonts() -> tuple[Font, ...]:
    paths = [d / n for n in FONT_NAMES for d in FONT_DIRS if (d / n).is_file()]
    if not paths:
        raise FileNotFoundError(f"no plate font found in {[str(d) for d in FONT_DIRS]}")
    return tuple(ImageFont.truetype(str(p), SIZE) for p in paths)


def label_of(text: str) -> str:
    return "".join(c for c in text if c in string.ascii_uppercase + string.digits)


def marked_of(text: str) -> str:
    return "".join("-" if c in MARKS else c for c in text if c in MARKS or label_of(c))


def cap_height(font: PlateFont) -> int:
    return round(-font.getbbox("H", anchor="ls")[1])


def draw_text(
    text: str,
    font: PlateFont,
    rng: random.Random,
    *,
    spacing: float,
    squeeze: float,
    letter_scale: float = 1.0,
) -> tuple[Mask, list[tuple[str, int, int, str]]]:
    """Ink mask of one line (cap height plus a small margin) and its groups' x ranges.

    ``letter_scale`` below 1 draws letters shorter than digits on the same baseline, as
    Russian plates do.
    """
    cap = cap_height(font)
    pad = max(2, cap // 10)
    letters = font.font_variant(size=round(font.size * letter_scale)) if letter_scale != 1 else font
    faces = [letters if c.isalpha() else font for c in text]
    widths = [_advance(c, f, cap) for c, f in zip(text, faces, strict=True)]
    total = sum(widths) + round(spacing * cap) * max(0, len(text) - 1) + 2 * pad
    canvas = Image.new("L", (total, cap + 2 * pad), 0)
    pen = ImageDraw.Draw(canvas)
    groups: list[tuple[str, int, int, str]] = []
    x = pad
    start, chars, mark, mark_before = x, "", "", ""
    for c, w, face in zip(text, widths, faces, strict=True):
        if c in GAP_CHARS:
            if chars:
                groups.append((chars, start, x, mark_before))
            chars = ""
            mark = marked_of(c) or mark
        else:
            if not chars:
                start, mark_before, mark = x, mark, ""
            chars += label_of(c)
        if c == EMBLEM:
            _seals(pen, (x, pad, x + w, pad + cap), rng)
        elif c == CREST:
            _crest(pen, (x, pad + cap // 6, x + w, pad + cap * 5 // 6))
        elif c != " ":
            if isinstance(face, StrokeFont):
                face.draw(canvas, (x, pad + cap), c, 255)
            else:
                pen.text((x, pad + cap), c, fill=255, font=face, anchor="ls")
        x += w + round(spacing * cap)
    if chars:
        groups.append((chars, start, x, mark_before))
    mask = np.asarray(canvas, dtype=np.uint8)
    new_w = max(1, round(mask.shape[1] * squeeze))
    mask = np.asarray(Image.fromarray(mask).resize((new_w, mask.shape[0])), dtype=np.uint8)
    return mask, [(g, round(a * squeeze), round(b * squeeze), m) for g, a, b, m in groups]


def _advance(char: str, face: PlateFont, cap: int) -> int:
    if char == " ":
        return cap // 2
    if char in EMBLEM + CREST:
        return round(0.55 * cap)
    return round(face.getlength(char))


def _seals(pen: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """Two stacked inspection stickers: small rings, each of its own shade (a colour, to a reader
    of grey), round a lighter or darker centre. Blurred, the pair is an 8 to a reader that never
    saw one."""
    x0, y0, x1, y1 = box
    cap = y1 - y0
    d = cap * rng.uniform(0.2, 0.36)
    cx = (x0 + x1) / 2
    for cy in (y0 + cap * rng.uniform(0.15, 0.3), y0 + cap * rng.uniform(0.62, 0.8)):
        ring, centre = rng.randint(60, 200), rng.randint(0, 170)
        pen.ellipse(
            (cx - d / 2, cy - d / 2, cx + d / 2, cy + d / 2),
            fill=centre,
            outline=ring,
            width=max(1, round(d * rng.uniform(0.15, 0.35))),
        )


def _crest(pen: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A shield with a double cross cut out of it: read as an H or a dash by readers that
    never saw one, so the reader must learn to skip it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    shield = [(x0, y0), (x1, y0), (x1, y0 + h * 0.6), ((x0 + x1) / 2, y1), (x0, y0 + h * 0.6)]
    pen.polygon(shield, fill=200)
    cx, bar = (x0 + x1) / 2, max(1, w // 8)
    pen.rectangle((cx - bar / 2, y0 + h * 0.15, cx + bar / 2, y0 + h * 0.8), fill=0)
    for y, half in ((0.3, 0.22), (0.5, 0.32)):
        pen.rectangle(
            (cx - w * half, y0 + h * y - bar / 2, cx + w * half, y0 + h * y + bar / 2), fill=0
        )


def render(layout: Layout, rng: random.Random) -> Plate:
    rows = layout.text(rng)
    # Labels around the number (RUS, city lines) stay in a packaged font.
    label_font = rng.choice(fonts())
    font: PlateFont = label_font
    if rng.random() < STROKE_SHARE:
        font = StrokeFont.draw_one(rng, cap_height(label_font))
    spacing = rng.uniform(0.02, 0.2)
    squeeze = rng.uniform(0.6, 1.05)
    paper, ink = rng.choice(layout.colours)
    region = ""
    if layout.decor == "ru":  # the region code goes into its own box at the right
        rows = (rows[0].rsplit(" ", 1)[0],)
        region = layout.text(rng)[0].rsplit(" ", 1)[1]
    letter_scale = rng.uniform(0.72, 0.88) if layout.decor == "ru" else 1.0
    lines = [
        draw_text(r, font, rng, spacing=spacing, squeeze=squeeze, letter_scale=letter_scale)
        for r in rows
    ]
    cap = lines[0][0].shape[0]
    pad_x, pad_y = round(cap * rng.uniform(0.1, 0.35)), round(cap * rng.uniform(0.12, 0.3))
    row_gap = round(cap * rng.uniform(0.1, 0.3))
    left = round(cap * rng.uniform(0.5, 0.65)) if layout.decor in ("ua", "eu") else 0
    top = round(cap * 0.45) if layout.decor == "mercosul" else 0
    top += round(cap * 0.35) if layout.decor in ("us", "br") else 0
    bottom = round(cap * 0.3) if layout.decor == "us" or rng.random() < 0.1 else 0
    region_mask = (
        draw_text(region, font, rng, spacing=spacing, squeeze=squeeze)[0] if region else None
    )
    # The region box has one width whatever the code's length: three digits are squeezed into
    # it up to its edge, where a tight crop cuts (a reader trained on boxes that grew with the
    # code dropped the third digit of real ones).
    right = round(cap * rng.uniform(1.4, 1.75)) if region_mask is not None else 0
    text_w = max(m.shape[1] for m, _ in lines)
    width = left + text_w + 2 * pad_x + right
    height = (
        top + bottom + 2 * pad_y + sum(m.shape[0] for m, _ in lines) + row_gap * (len(rows) - 1)
    )
    plate = Image.new("RGB", (width, height), paper)
    pen = ImageDraw.Draw(plate)
    groups: list[tuple[Group, ...]] = []
    y = top + pad_y
    for mask, spans in lines:
        x = left + pad_x + (text_w - mask.shape[1]) // 2
        plate.paste(ink, (x, y), Image.fromarray(mask))
        groups.append(
            tuple(Group(g, (x + a, y, x + b, y + mask.shape[0]), m) for g, a, b, m in spans)
        )
        y += mask.shape[0] + row_gap
    if region_mask is not None:
        _region(plate, pen, region_mask, region, ink, label_font, rng, width - right, pad_y, groups)
    _decorate(plate, pen, layout, ink, (left, top, bottom), rng)
    if rng.random() < SCREW_SHARE:
        _screws(pen, width, groups, rng)
    border = max(2, cap // 16)
    pen.rounded_rectangle((0, 0, width - 1, height - 1), cap // 6, outline=ink, width=border)
    texts = (*rows, region)
    return Plate(np.asarray(plate), "".join(map(marked_of, texts)), tuple(groups))


def _screws(
    pen: ImageDraw.ImageDraw, width: int, groups: list[tuple[Group, ...]], rng: random.Random
) -> None:
    """A level pair of screw heads or holes, beside or on the characters of a row: a round mark
    a reader never saw turns a 1 beside it into a 4, so it must learn to skip them."""
    row = rng.choice(groups)
    top, bottom = row[0].box[1], row[0].box[3]
    cap = bottom - top
    radius = cap * rng.uniform(0.07, 0.18)
    y = rng.choice((top + cap * rng.uniform(0.15, 0.85), top - radius * rng.uniform(0.3, 1.5)))
    inset = width * rng.uniform(0.08, 0.3)
    grey = rng.choice((rng.randint(150, 235), rng.randint(20, 80)))  # steel, or a hole
    for x in (inset, width - inset + rng.uniform(-radius, radius)):
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(grey,) * 3)
        if rng.random() < 0.5:  # the slot, in a shade darker than the head
            dx = radius * rng.uniform(-0.8, 0.8)
            slot = (max(0, grey - 70),) * 3
            pen.line((x - dx, y - radius * 0.8, x + dx, y + radius * 0.8), fill=slot, width=2)


def _region(
    plate: Image.Image,
    pen: ImageDraw.ImageDraw,
    mask: Mask,
    region: str,
    ink: RGB,
    font: Font,
    rng: random.Random,
    x0: int,
    pad_y: int,
    groups: list[tuple[Group, ...]],
) -> None:
    """A Russian plate's region box: smaller digits over ``RUS`` and the flag."""
    h = plate.height
    pen.line((x0, 0, x0, h), fill=ink, width=max(2, h // 40))
    room = round((plate.width - x0) * rng.uniform(0.8, 0.95))
    small = Image.fromarray(mask).resize(
        (min(mask.shape[1] * 3 // 4, room), mask.shape[0] * 3 // 4)
    )
    x = x0 + (plate.width - x0 - small.width) // 2
    plate.paste(ink, (x, pad_y // 2), small)
    groups[0] = (
        *groups[0],
        Group(region, (x, pad_y // 2, x + small.width, pad_y // 2 + small.height)),
    )
    tiny = font.font_variant(size=max(8, h // 6))
    y = pad_y // 2 + small.height + h // 20
    pen.text((x, y), "RUS", fill=ink, font=tiny)
    fx = x + round(tiny.getlength("RUS")) + h // 20
    stripe = max(2, h // 18)
    for i, colour in enumerate((WHITE, BLUE, (200, 30, 40))):
        pen.rectangle((fx, y + i * stripe, fx + stripe * 4, y + (i + 1) * stripe), fill=colour)
    if rng.random() < 0.5:
        pen.rectangle((fx, y, fx + stripe * 4, y + 3 * stripe), outline=ink)


def _decorate(
    plate: Image.Image,
    pen: ImageDraw.ImageDraw,
    layout: Layout,
    ink: RGB,
    margins: tuple[int, int, int],
    rng: random.Random,
) -> None:
    """Everything on a plate that is not its number; the reader must learn to skip it."""
    left, top, bottom = margins
    w, h = plate.size
    font = rng.choice(fonts())
    small = font.font_variant(size=max(8, round(h * rng.uniform(0.13, 0.2))))
    code = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(1, 3)))
    if layout.decor == "eu":
        pen.rectangle((0, 0, left, h), fill=BLUE)
        cx, cy, r = left // 2, h // 3, left // 3
        for k in range(12):
            a = 2 * np.pi * k / 12
            sx, sy = cx + r * np.cos(a), cy + r * np.sin(a)
            pen.ellipse((sx - 1.5, sy - 1.5, sx + 1.5, sy + 1.5), fill=(250, 210, 40))
        pen.text((left // 2, h * 0.85), code, fill=WHITE, font=small, anchor="ms")
    elif layout.decor == "ua":
        pen.rectangle((0, 0, left, h // 2), fill=BLUE)
        pen.rectangle((0, h // 2, left, h // 2 + h // 6), fill=(250, 210, 40))
        pen.text((left // 2, h * 0.9), "UA", fill=BLUE, font=small, anchor="ms")
    elif layout.decor == "mercosul":
        pen.rectangle((0, 0, w, top), fill=BLUE)
        pen.text((w // 2, top * 0.8), "BRASIL", fill=WHITE, font=small, anchor="ms")
    elif layout.decor == "br":  # the older plates' state and city line
        city = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(4, 10)))
        pen.text((w // 2, top), f"{code[:2]}-{city}", fill=ink, font=small, anchor="ms")
    elif layout.decor == "us":
        state = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(4, 10)))
        pen.text((w // 2, top), state, fill=ink, font=small, anchor="ms")
    if bottom:
        words = [
            "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(3, 8)))
            for _ in range(rng.randint(1, 3))
        ]
        pen.text((w // 2, h - bottom * 0.2), " ".join(words), fill=ink, font=small, anchor="ms")
