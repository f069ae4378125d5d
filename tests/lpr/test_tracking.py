from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from lpr.tracking import Tracker, crop, edit_distance, similarity, vote
from lpr.types import BoundingBox, Frame, PlateRead, Sighting

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
IMAGE = np.zeros((360, 640, 3), dtype=np.uint8)


def frame(seconds: float) -> Frame:
    return Frame(image=IMAGE, taken_at=T0 + timedelta(seconds=seconds), source="cam")


def read(plate: str, x: int, confidence: float = 0.9, y: int = 200) -> PlateRead:
    return PlateRead(
        plate=plate,
        text=plate,
        country="UA",
        confidence=confidence,
        box=BoundingBox(x, y, 80, 20),
        colour="white",
        colour_confidence=0.7,
    )


def run(tracker: Tracker, steps: list[tuple[float, list[PlateRead]]]) -> list[Sighting]:
    out: list[Sighting] = []
    for seconds, reads in steps:
        out += tracker.update(frame(seconds), reads)
    return out + tracker.close()


def test_edit_distance_and_similarity() -> None:
    assert edit_distance("AA1234BB", "AA1234BB") == 0
    assert edit_distance("AA1234BB", "AA1284BB") == 1
    assert edit_distance("AA1234BB", "A1234BB") == 1
    assert edit_distance("", "ABC") == 3
    assert similarity("AA1234BB", "AA1284BB") == pytest.approx(7 / 8)
    assert similarity("", "") == 1.0


def test_vote_prefers_the_string_its_neighbours_back() -> None:
    # One confident misread loses to several agreeing, slightly varied reads.
    weights = {"AA1234BB": 0.8, "AA1284BB": 0.5, "AA1234B8": 0.5, "XX9999XX": 1.2}
    assert vote(weights) == "AA1234BB"
    with pytest.raises(ValueError, match="nothing"):
        vote({})


def test_a_passing_vehicle_is_one_sighting_with_the_voted_plate() -> None:
    tracker = Tracker(source="cam")
    steps = [
        (i * 0.2, [read(p, 40 + 60 * i, c)])
        for i, (p, c) in enumerate(
            [
                ("AA1234BB", 0.7),
                ("AA1284BB", 0.6),
                ("AA1234BB", 0.9),
                ("AA1234B8", 0.5),
                ("AA1234BB", 0.8),
                ("A1234BB", 0.4),
            ]
        )
    ]
    sightings = run(tracker, steps)
    assert len(sightings) == 1
    (s,) = sightings
    assert s.plate == "AA1234BB"
    assert s.box == BoundingBox(160, 200, 80, 20)
    assert s.observed_at == T0 + timedelta(seconds=0.4)
    assert s.colour == "white"
    assert 0 < s.confidence < 0.9
    assert s.crop is not None and s.crop.shape == (60, 120, 3)


def test_sighting_is_emitted_when_the_track_goes_quiet_not_at_the_end() -> None:
    tracker = Tracker(source="cam", close_after=1.0, emit_after=5.0)
    assert tracker.update(frame(0.0), [read("AA1234BB", 100)]) == []
    assert tracker.update(frame(0.5), []) == []
    (s,) = tracker.update(frame(1.0), [])
    assert s.plate == "AA1234BB"
    assert tracker.open_tracks == 0
    assert tracker.close() == []


def test_two_vehicles_in_one_frame_are_two_sightings() -> None:
    tracker = Tracker(source="cam")
    steps = [
        (i * 0.2, [read("AA1234BB", 40 + 30 * i), read("BC7777KA", 500 - 30 * i, y=100)])
        for i in range(5)
    ]
    plates = sorted(s.plate for s in run(tracker, steps))
    assert plates == ["AA1234BB", "BC7777KA"]


def test_a_far_read_of_a_different_plate_starts_a_new_track() -> None:
    tracker = Tracker(source="cam", max_jump=2.0)
    steps = [(0.0, [read("AA1234BB", 10)]), (0.2, [read("AA1284XX", 560)])]
    assert len(run(tracker, steps)) == 2


def test_the_same_plate_far_away_continues_the_track() -> None:
    # Frames were dropped under load: the box jumped, the plate did not change.
    tracker = Tracker(source="cam", max_jump=2.0)
    steps = [(0.0, [read("AA1234BB", 10)]), (0.8, [read("AA1234BB", 560)])]
    assert len(run(tracker, steps)) == 1


def test_a_standing_vehicle_is_reported_once() -> None:
    tracker = Tracker(source="cam", close_after=2.0, emit_after=10.0, remember_for=300.0)
    steps = [(i * 0.2, [read("AA1234BB", 300)]) for i in range(200)]  # 40 s of standing still
    # Motion elsewhere wakes detection a minute later; the car is still there.
    steps += [(100.0, [read("AA1234BB", 301)]), (100.2, [read("AA1234BB", 300)])]
    sightings = run(tracker, steps)
    assert len(sightings) == 1
    assert sightings[0].observed_at < T0 + timedelta(seconds=11)


def test_the_same_vehicle_passing_again_later_is_a_new_sighting() -> None:
    tracker = Tracker(source="cam", remember_for=60.0)
    first = [(i * 0.2, [read("AA1234BB", 40 + 60 * i)]) for i in range(6)]
    again = [(120 + i * 0.2, [read("AA1234BB", 40 + 60 * i)]) for i in range(6)]
    assert len(run(tracker, first + again)) == 2


@pytest.mark.parametrize(
    "options",
    [
        {"close_after": 0},
        {"close_after": 5, "emit_after": 1},
        {"remember_for": -1},
        {"min_similarity": 0.9, "same_plate": 0.8},
        {"max_jump": 0},
    ],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Tracker(source="cam", **options)


def test_crop_keeps_to_the_image() -> None:
    image = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    assert crop(image, BoundingBox(0, 0, 40, 10)).shape == (20, 50, 3)
    assert crop(image, BoundingBox(150, 80, 50, 20), margin=0.5).shape == (30, 60, 3)
