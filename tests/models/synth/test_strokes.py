"""The drawn plate font: every symbol a layout prints, inked inside its own box."""

from __future__ import annotations

import random
from dataclasses import replace

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from models.synth import LAYOUTS
from models.synth.render import draw_text
from models.synth.strokes import ALTERNATES, GLYPHS, StrokeFont

FONT = StrokeFont(size=40, width=0.55, stroke=0.12, radius=0.3)


def _ink(char: str, font: StrokeFont = FONT) -> npt.NDArray[np.bool_]:
    canvas = Image.new("L", (80, 80), 0)
    font.draw(canvas, (20, 60), char, 255)
    return np.asarray(canvas) > 127


def test_every_symbol_a_layout_prints_has_a_glyph() -> None:
    printed = {c for lay in LAYOUTS for c in lay.letters} | set("0123456789-.·")
    assert printed <= set(GLYPHS)


@pytest.mark.parametrize("char", sorted(set(GLYPHS) - set("-.·")))
def test_a_glyph_is_inked_within_its_cap_height_and_advance(char: str) -> None:
    ink = _ink(char)
    ys, xs = np.nonzero(ink)
    half = FONT.stroke * FONT.size / 2 + 1  # round stroke ends reach past the skeleton
    assert ys.min() >= 60 - FONT.size - half and ys.max() <= 60 + half
    assert xs.min() >= 20 - half and xs.max() <= 20 + FONT.getlength(char) + half + 1
    assert ink.sum() > FONT.size  # a stroke, not a dot


def test_look_alike_glyphs_differ() -> None:
    # The family's point: O, 0 and D are all straight-sided, yet each has its own shape (D by
    # its square left corners and a right side that turns in early, as on real plates).
    for a, b in (("O", "0"), ("O", "D"), ("5", "6"), ("8", "B"), ("1", "I")):
        assert (_ink(a) != _ink(b)).sum() > 10, (a, b)


def test_some_members_draw_a_four_open_at_the_top() -> None:
    rng = random.Random(2)
    fours = {StrokeFont.draw_one(rng, 40).glyph("4") for _ in range(40)}
    assert fours == {GLYPHS["4"], *ALTERNATES["4"]}
    closed = _ink("4")
    top_of_stem = 60 - FONT.size + 2, 20 + round(FONT.getlength("4") * 0.7)
    assert closed[top_of_stem]
    for shape in ALTERNATES["4"]:
        open_four = _ink("4", replace(FONT, shapes=(("4", shape),)))
        assert (open_four != closed).sum() > 10
        assert not open_four[top_of_stem]


def test_some_members_draw_a_d_rounded_only_at_its_right_corners() -> None:
    rng = random.Random(2)
    assert {StrokeFont.draw_one(rng, 40).glyph("D") for _ in range(40)} == {
        GLYPHS["D"],
        *ALTERNATES["D"],
    }
    square = replace(FONT, shapes=(("D", ALTERNATES["D"][0]),))
    assert (_ink("D", square) != _ink("D")).sum() > 10
    half = round(FONT.stroke * FONT.size / 2)
    top_left = np.s_[60 - FONT.size - half : 60 - FONT.size + half, 20 - half : 20 + half]
    assert _ink("D", square)[top_left].sum() > _ink("O")[top_left].sum()  # a square left corner


def test_some_members_draw_din_w_with_near_upright_sides() -> None:
    rng = random.Random(2)
    assert {StrokeFont.draw_one(rng, 40).glyph("W") for _ in range(40)} == {
        GLYPHS["W"],
        *ALTERNATES["W"],
    }
    din = _ink("W", replace(FONT, shapes=(("W", ALTERNATES["W"][0]),)))
    for other in ("W", "H", "N"):
        assert (din != _ink(other)).sum() > 10, other
    # Near the baseline the usual W's outer strokes have moved further in than DIN's.
    row = 60 - round(FONT.size * 0.2)
    assert np.nonzero(din[row])[0].min() < np.nonzero(_ink("W")[row])[0].min()


def test_a_font_variant_changes_only_the_size() -> None:
    small = FONT.font_variant(size=20)
    assert (small.width, small.stroke, small.radius) == (FONT.width, FONT.stroke, FONT.radius)
    assert small.getlength("A") == FONT.getlength("A") / 2


def test_draw_text_lays_out_groups_in_the_stroke_font() -> None:
    mask, groups = draw_text("AB 123", FONT, random.Random(0), spacing=0.1, squeeze=1.0)
    assert [g for g, _, _, _ in groups] == ["AB", "123"]
    assert mask.shape[0] == FONT.size + 2 * max(2, FONT.size // 10)
    assert (mask > 0).any()


def test_seals_between_groups_are_two_stacked_rings_fainter_than_the_characters() -> None:
    mask, groups = draw_text("AB*123", FONT, random.Random(4), spacing=0.1, squeeze=1.0)
    assert [g for g, _, _, _ in groups] == ["AB", "123"]
    between = mask[:, groups[0][2] + 2 : groups[1][1] - 2]
    assert 0 < between.max() < 255
    count, _ = cv2.connectedComponents((between > 0).astype(np.uint8))
    assert count - 1 == 2


def test_each_plate_draws_its_own_member_of_the_family() -> None:
    rng = random.Random(1)
    fonts = {StrokeFont.draw_one(rng, 30) for _ in range(20)}
    assert len(fonts) == 20


def test_an_unknown_symbol_is_refused() -> None:
    with pytest.raises(KeyError, match="no stroke glyph"):
        _ink("Ж")
