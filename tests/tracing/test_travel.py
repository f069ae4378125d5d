from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import networkx as nx
import pytest

from tests.tracing.drives import T0, drive
from tracing.graph import routing_index
from tracing.travel import (
    DEFAULT_MODEL,
    FitModel,
    Hit,
    RouteError,
    impossible,
    leg_evidence,
    measure,
    one_vehicle_p,
    pace_of,
    separate_vehicles,
    split_trips,
    trip_pace,
    validate_hits,
    with_lookalikes,
)


def test_hits_that_cannot_be_routed_are_refused_with_the_reason(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path)
    validate_hits(monaco, hits)
    with pytest.raises(RouteError, match="no sightings"):
        validate_hits(monaco, [])
    with pytest.raises(RouteError, match="out of order"):
        validate_hits(monaco, [hits[1], hits[0], *hits[2:]])
    validate_hits(monaco, [hits[1], hits[0]], ordered=False)
    with pytest.raises(RouteError, match="not in graph"):
        validate_hits(monaco, [Hit(7, -1, T0)])
    with pytest.raises(RouteError, match="not a road edge"):
        validate_hits(monaco, [Hit(7, fastest_path[0], T0, fastest_path[5])])
    with pytest.raises(RouteError, match="naive"):
        validate_hits(monaco, [Hit(7, fastest_path[0], T0.replace(tzinfo=None))])


def test_fit_model_refuses_nonsense() -> None:
    for bad in (
        {"miss_rate": 0.0},
        {"candidates": 0},
        {"max_speedup": -1.0},
        {"detour_per_s": 0.0},
        {"route_noise": 0.0},
        {"street_sigma": -0.1},
        {"max_pace_change": 1.0},
        {"one_vehicle_alpha": 0.0},
    ):
        with pytest.raises(RouteError):
            FitModel(**bad)


def test_a_long_stop_splits_the_trips(monaco: nx.MultiDiGraph, fastest_path: list[int]) -> None:
    hits = drive(monaco, fastest_path)
    home = Hit(99, hits[0].node, hits[-1].observed_at + timedelta(hours=2), hits[0].from_node)
    assert [len(t) for t in split_trips(monaco, [*hits, home])] == [len(hits), 1]
    assert split_trips(monaco, hits) == [hits]


def test_one_approach_twice_within_a_minute_is_one_passage(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    index = routing_index(monaco)
    hit = Hit(1, fastest_path[2], T0, fastest_path[1])
    again = measure(index, hit, replace(hit, observed_at=T0 + timedelta(seconds=30)), DEFAULT_MODEL)
    assert again.same_place and not impossible(again, DEFAULT_MODEL)
    # Another approach of the same intersection needs a drive around the block first.
    other = next(u for u in monaco.pred[hit.node] if u != hit.from_node)
    loop = measure(index, hit, Hit(2, hit.node, T0 + timedelta(seconds=30), other), DEFAULT_MODEL)
    assert not loop.same_place and loop.fastest_s > 0


def test_a_leg_far_faster_than_the_trips_pace_is_impossible(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    index, model = routing_index(monaco), DEFAULT_MODEL
    hits = drive(monaco, fastest_path, slowness=1.6)
    legs = [measure(index, a, b, model) for a, b in pairwise(hits)]
    pace = trip_pace(legs, model)
    assert math.log(model.prior_slowness) < pace < math.log(1.6)
    assert not any(impossible(leg, model, pace=pace) for leg in legs)
    start, end = hits[0], hits[-1]
    fastest = measure(index, start, end, model).fastest_s
    assert fastest > 60
    # Faster than free flow, below the speeding limit: possible for a car, but not for this
    # one, which drove 1.6x slower than free flow everywhere else.
    early = start.observed_at + timedelta(seconds=0.6 * fastest)
    rushed = measure(index, start, replace(end, observed_at=early), model)
    assert not impossible(rushed, model)
    assert impossible(rushed, model, pace=pace)
    assert trip_pace([], model) == math.log(model.prior_slowness)
    # Three legs at twice free flow outweigh the prior three to one.
    expected = (3 * math.log(2.0) + math.log(model.prior_slowness)) / 4
    assert pace_of([math.log(2.0)] * 3, model) == pytest.approx(expected)


def test_a_cloned_plate_separates_into_two_vehicles(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    near = drive(monaco, fastest_path[: len(fastest_path) // 3], every=1)
    far = fastest_path[-1]
    clone = [
        Hit(900 + i, far, h.observed_at + timedelta(seconds=3))
        for i, h in enumerate(near)
        if i % 2 == 0
    ]
    merged = sorted([*near, *clone], key=lambda h: h.observed_at)
    assert sorted(separate_vehicles(monaco, merged), key=len, reverse=True) == [near, clone]
    honest = drive(monaco, fastest_path)
    assert separate_vehicles(monaco, honest) == [honest]
    with pytest.raises(RouteError, match="no sightings"):
        separate_vehicles(monaco, [])


def test_a_misread_on_the_way_is_taken_back(
    monaco: nx.MultiDiGraph, fastest_path: list[int], far_apart: tuple[int, int]
) -> None:
    hits = drive(monaco, fastest_path, every=2)
    misread = hits[2]
    kept = [h for h in hits if h is not misread]
    assert with_lookalikes(monaco, kept, [misread]) == hits
    # Another vehicle's look-alike plate far off the way, or before the drive: not ours.
    elsewhere = Hit(50, far_apart[0], misread.observed_at)
    early = replace(misread, observed_at=hits[0].observed_at - timedelta(seconds=30))
    assert with_lookalikes(monaco, kept, [elsewhere, early]) == kept
    with pytest.raises(RouteError, match="naive"):
        with_lookalikes(monaco, kept, [replace(misread, observed_at=T0.replace(tzinfo=None))])


def test_one_vehicle_is_doubted_on_its_least_likely_leg_among_many() -> None:
    model = DEFAULT_MODEL
    # Two sigma off the pace: 1 leg in 22; four working cameras all missing it: 1 in 10,000.
    assert leg_evidence(2.0, 0, model) == pytest.approx((0.0455, 1.0), abs=1e-4)
    assert leg_evidence(None, 4, model) == pytest.approx((model.miss_rate**4,))
    legs = [leg_evidence(z, 0, model) for z in (0.3, -0.8, 1.1)]
    assert one_vehicle_p([p for leg in legs for p in leg]) > 0.5
    assert one_vehicle_p([]) == 1.0
    odd = [*leg_evidence(4.2, 0, model), *leg_evidence(0.5, 4, model)]
    assert one_vehicle_p(odd) < model.one_vehicle_alpha
    # The same odd leg is less telling in a long trip: an honest one has more chances at it.
    long_trip = odd + [p for _ in range(40) for p in leg_evidence(0.0, 0, model)]
    assert one_vehicle_p(long_trip) > one_vehicle_p(odd)
    with pytest.raises(RouteError, match="unseen"):
        leg_evidence(1.0, -1, model)
