"""Plate layouts we synthesise: text patterns per country and the plate's look.

A pattern is one string per row: ``L`` is a letter of the layout's alphabet, ``D`` a digit, and
anything else (space, ``-``, ``.``, ``·``) is drawn as it is and not part of the plate (a dash or
a middle dot between groups is marked, ``Plate.marked``); ``*`` is a seal or sticker between
groups, ``+`` a coat of arms. Patterns are the formats ``lpr.plates`` knows
plus generic European and American ones, so the reader learns plate-shaped text in general,
not one country's plates.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Literal

from lpr.plates import CYRILLIC_PLATE_LETTERS, VN_LETTERS

RGB = tuple[int, int, int]
Decor = Literal["none", "ua", "ru", "eu", "mercosul", "br", "us"]

WHITE: RGB = (240, 240, 236)
BLACK: RGB = (20, 20, 24)
YELLOW: RGB = (236, 196, 40)
BLUE: RGB = (24, 60, 150)
GREY: RGB = (196, 198, 196)
RED: RGB = (170, 30, 30)
US_PAPERS: tuple[RGB, ...] = (WHITE, (230, 236, 246), (246, 236, 200), YELLOW, (210, 226, 210))
US_INKS: tuple[RGB, ...] = (BLACK, BLUE, (120, 20, 30), (20, 80, 40))
# Latin-only plates avoid I, O and Q in many countries; we keep them so the reader still
# knows them, but draw them less often through the weighted alphabet below.
LATIN = string.ascii_uppercase.replace("I", "").replace("O", "").replace("Q", "") * 3 + "IOQ"
# Brazil's series run through the whole alphabet (whole states' plates start with O or Q).
BR_LETTERS = string.ascii_uppercase


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    country: str  # as lpr.plates names it
    patterns: tuple[tuple[str, ...], ...]  # alternatives, each one string per row
    letters: str
    colours: tuple[tuple[RGB, RGB], ...]  # (paper, ink) alternatives
    decor: Decor = "none"

    @property
    def rows(self) -> int:
        return len(self.patterns[0])

    def text(self, rng: random.Random) -> tuple[str, ...]:
        pattern = rng.choice(self.patterns)
        return tuple(
            "".join(
                rng.choice(self.letters)
                if k == "L"
                else rng.choice(string.digits)
                if k == "D"
                else k
                for k in row
            )
            for row in pattern
        )


PLAIN = ((WHITE, BLACK),)
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "ua",
        "UA",
        (("LL DDDD LL",),),
        CYRILLIC_PLATE_LETTERS + "I",
        (*PLAIN, (YELLOW, BLACK)),
        "ua",
    ),
    Layout(
        "ua-2row", "UA", (("DDDDD", "LL"), ("LL", "DDDDLL")), CYRILLIC_PLATE_LETTERS + "I", PLAIN
    ),
    Layout(
        "ru",
        "RU",
        (("L DDD LL DD",), ("L DDD LL DDD",)),
        CYRILLIC_PLATE_LETTERS,
        PLAIN * 4 + ((YELLOW, BLACK), (BLUE, WHITE)),
        "ru",
    ),
    Layout(
        "vn",
        "VN",
        (("DDL-DDD.DD",), ("DDL-DDDD",), ("DDL DDD.DD",)),
        VN_LETTERS,
        PLAIN * 2 + ((YELLOW, BLACK), (BLUE, WHITE)),
    ),
    Layout(
        "vn-car-2row",
        "VN",
        (("DDL", "DDD.DD"), ("DDL", "DDDD"), ("DDL-", "DDD.DD")),
        VN_LETTERS,
        PLAIN * 2 + ((YELLOW, BLACK), (BLUE, WHITE)),
    ),
    Layout(
        "vn-moto-2row",
        "VN",
        (("DD-LD", "DDD.DD"), ("DD-LL", "DDD.DD"), ("DD-LD", "DDDD"), ("DDLD", "DDDDD")),
        VN_LETTERS,
        PLAIN * 3 + ((YELLOW, BLACK),),
    ),
    Layout(
        "eu",
        "EU",
        (
            ("LL DDD LL",),
            ("LL-DDD-LL",),
            ("L LL DDDD",),
            ("L*LL DDDD",),
            ("LL LL DDD",),
            ("LLL DDDD",),
            ("LL DDDDD",),
            ("DDDD LLL",),
            ("DD-LLL-D",),
            ("LL DD LLL",),
            ("L DDDD LL",),
            ("LLL LDDD",),
            ("LL*DDDLL",),
            ("LL+DDDLL",),
            ("DLD DDDD",),
            ("DLD*DDDD",),
            ("LL*DDDDL",),
            ("L·DDDDDD",),
            ("LL·DDD·LL",),
        ),
        LATIN,
        PLAIN * 3 + ((YELLOW, BLACK),),
        "eu",
    ),
    Layout("mercosul", "BR", (("LLLDLDD",), ("LLL DLDD",)), BR_LETTERS, PLAIN, "mercosul"),
    Layout(
        "br",
        "BR",
        (("LLL-DDDD",), ("LLL DDDD",), ("LLL·DDDD",)),
        BR_LETTERS,
        ((GREY, BLACK), (RED, WHITE)),
        "br",
    ),
    Layout(
        "us",
        "US",
        (("LLL DDDD",), ("DLLLDDD",), ("DDD LLL",), ("LLL-DDD",), ("DLLDDD",), ("LL DDDDD",)),
        LATIN,
        tuple((p, i) for p in US_PAPERS for i in US_INKS),
        "us",
    ),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)


def layout(name: str) -> Layout:
    for found in LAYOUTS:
        if found.name == name:
            return found
    raise KeyError(f"no layout {name!r}; known: {list(LAYOUT_NAMES)}")
