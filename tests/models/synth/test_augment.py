"""The generator's labels agree with the plate formats and with what is drawn."""

from __future__ import annotations

import random
import string
from dataclasses import replace

import cv2
import numpy as np
import pytest

from lpr.plates import FORMATS, GenericFormat, match, positions_of
from models.synth import LAYOUTS, Layout, augment, layout, sample
from models.synth import render as render_module
from models.synth.render import render

SYMBOLS = set(string.digits + string.ascii_uppercase)
GENERIC = {f.country for f in FORMATS if isinstance(f, GenericFormat)}


@pytest.mark.parametrize("plate_layout", LAYOUTS, ids=lambda x: x.name)
def test_whole_plates_are_valid_plates_of_their_country(plate_layout: Layout) -> None:
    rng = random.Random(3)
    for _ in range(5):
        s = sample(rng, plate_layout, clean=True)
        found = match(positions_of(s.text), countries=[plate_layout.country])
        assert found is not None, (plate_layout.name, s.text)
        # Generic formats (EU, US) may rank a letter/digit fix above the text as drawn.
        if plate_layout.country not in GENERIC:
            assert found.plate == s.text, (plate_layout.name, s.text)
        assert s.lines == plate_layout.rows
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3


def test_damaged_and_partial_crops_keep_plate_symbols_only() -> None:
    rng = random.Random(5)
    samples = [sample(rng, partial=0.5) for _ in range(60)]
    assert all(s.text and set(s.text) <= SYMBOLS for s in samples)
    assert all(min(s.image.shape[:2]) >= 4 for s in samples)
    partial = [s for s in samples if s.lines == 1 and layout(s.layout).rows == 2]
    assert partial, "some crops of two-row plates should hold one row"


def test_marked_text_is_the_text_with_a_dash_for_each_printed_separator() -> None:
    rng = random.Random(8)
    samples = [sample(rng, partial=0.5) for _ in range(120)]
    assert all(s.marked.replace("-", "") == s.text for s in samples)
    assert any("-" in s.marked for s in samples if s.lines == 1)


@pytest.mark.parametrize(
    ("pattern", "marks"),
    [("LL-DDD-LL", ["", "-", "-"]), ("LLL·DDDD", ["", "-"]), ("LL+DDD LL", ["", "", ""])],
)
def test_groups_know_the_separator_printed_before_them(pattern: str, marks: list[str]) -> None:
    plate = render(replace(layout("eu"), patterns=((pattern,),)), random.Random(2))
    (row,) = plate.groups
    assert [g.mark for g in row] == marks
    assert plate.marked == "".join(g.mark + g.label for g in row)
    assert plate.label == "".join(g.label for g in row)


def test_an_unknown_layout_is_refused_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known"):
        layout("xx")


def test_screws_are_a_level_pair_of_round_marks_the_label_ignores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for seed in range(10):
        monkeypatch.setattr(render_module, "SCREW_SHARE", 0.0)
        bare = render(layout("ua"), random.Random(seed))
        monkeypatch.setattr(render_module, "SCREW_SHARE", 1.0)
        held = render(layout("ua"), random.Random(seed))
        assert held.marked == bare.marked
        changed = np.any(held.image != bare.image, axis=2).astype(np.uint8)
        count, _, stats, centres = cv2.connectedComponentsWithStats(changed)
        assert count - 1 in (1, 2), seed  # two heads, or one where the pair joins on a narrow plate
        heads = stats[1:, cv2.CC_STAT_AREA]
        assert heads.max() < 0.05 * changed.size
        assert np.ptp(centres[1:, 1]) < max(stats[1:, cv2.CC_STAT_HEIGHT]), seed


def test_whole_plates_may_be_cut_with_room_above_and_below(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def tallness(share: float) -> float:
        monkeypatch.setattr(augment, "TALL_SHARE", share)
        rng = random.Random(4)
        crops = [sample(rng, layout("eu"), partial=0.0).image for _ in range(40)]
        return float(np.median([c.shape[0] / c.shape[1] for c in crops]))

    assert tallness(1.0) > 1.15 * tallness(0.0)


def test_a_russian_region_box_has_one_width_whatever_the_codes_length() -> None:
    rng = random.Random(6)
    room: dict[int, list[float]] = {2: [], 3: []}
    for _ in range(80):
        plate = render(layout("ru"), rng)
        *number, region = plate.groups[0]
        row = number[-1].box[3] - number[-1].box[1]
        width = plate.image.shape[1]
        assert region.box[2] <= width
        room[len(region.label)].append((width - number[-1].box[2]) / row)
    two, three = (float(np.median(room[n])) for n in (2, 3))
    assert abs(three - two) < 0.1 * two, (two, three)


def test_some_crops_are_black_and_white(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(augment, "BINARY_SHARE", 1.0)
    rng = random.Random(7)
    crops = [sample(rng, layout("eu"), partial=0.0).image for _ in range(30)]
    tall = [c for c in crops if c.shape[0] >= 20]
    assert tall
    for crop in tall:  # JPEG may blur the edges a little; the rest is black or white
        extreme = (crop < 40) | (crop > 215)
        assert extreme.mean() > 0.85
