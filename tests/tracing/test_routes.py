from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import networkx as nx
import pytest

from tests.tracing.drives import T0, drive
from tracing.graph import routing_index
from tracing.routes import camera_coverage, reconstruct, shortest_route
from tracing.travel import DEFAULT_MODEL, Hit, RouteError, impossible, measure, trip_pace


def test_a_fastest_drive_is_reconstructed_exactly(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path)
    route = reconstruct(monaco, hits, plate="51F12345")
    assert len(route.trips) == 1
    trip = route.trips[0]
    assert trip.nodes == tuple(fastest_path[1:])
    assert len(trip.segments) == len(hits) - 1
    for segment in trip.segments:
        assert not segment.impossible
        assert 0 < segment.confidence <= 1
        assert segment.candidates >= 1
        assert segment.free_flow_s >= segment.fastest_s - 1e-6
        assert segment.times[0] == segment.start.observed_at
        assert segment.times[-1] == segment.end.observed_at
        assert list(segment.times) == sorted(segment.times)
    assert route.impossible == ()


def test_a_path_through_an_unseen_working_camera_is_avoided(monaco: nx.MultiDiGraph) -> None:
    rng = random.Random(3)
    nodes = sorted(monaco.nodes)
    for _ in range(200):
        a, b = rng.sample(nodes, 2)
        path = nx.shortest_path(monaco, a, b, weight="travel_time")
        if len(path) < 6:
            continue
        hits = drive(monaco, path, every=len(path))
        free = reconstruct(monaco, hits)
        segment = free.trips[0].segments[0]
        if segment.candidates < 2:
            continue
        # Working cameras on every street of the chosen path that saw nothing: it was not driven.
        inner = segment.nodes[:-1]
        watched = {edge: 1000 + i for i, edge in enumerate(pairwise(inner))}
        coverage = camera_coverage(monaco, watched)
        assert set(coverage.watched) == set(watched)
        # Told one vehicle drove it, the route goes around the silent cameras.
        trusting = replace(DEFAULT_MODEL, one_vehicle_alpha=1e-30)
        avoided = reconstruct(monaco, hits, coverage=coverage, model=trusting)
        way = avoided.trips[0].segments[0].nodes
        assert way != segment.nodes
        assert way[0] == hits[0].node and way[-1] == hits[-1].node
        # The best way around still passes many of them unseen: not one vehicle, by default.
        assert reconstruct(monaco, hits, coverage=coverage).impossible
        return
    pytest.fail("no camera pair with alternative routes found in Monaco")


def test_a_misread_sighting_given_as_a_lookalike_joins_the_route(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path, every=2)
    kept = [h for h in hits if h is not hits[2]]
    route = reconstruct(monaco, kept, lookalikes=[hits[2]])
    assert route.trips[0].hits == tuple(hits)
    assert route.trips[0].nodes == tuple(fastest_path[1:])


def test_a_single_sighting_is_a_trip_without_segments(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    route = reconstruct(monaco, [Hit(1, fastest_path[3], T0)])
    assert len(route.trips) == 1
    assert route.trips[0].segments == ()
    assert route.trips[0].nodes == (fastest_path[3],)


def test_bad_hits_are_refused(monaco: nx.MultiDiGraph, fastest_path: list[int]) -> None:
    hits = drive(monaco, fastest_path)
    with pytest.raises(RouteError, match="no sightings"):
        reconstruct(monaco, [])
    with pytest.raises(RouteError, match="out of order"):
        reconstruct(monaco, [hits[1], hits[0], *hits[2:]])
    with pytest.raises(RouteError, match="not in graph"):
        reconstruct(monaco, hits, lookalikes=[Hit(7, -1, T0)])
    with pytest.raises(RouteError, match="naive"):
        shortest_route(monaco, [Hit(7, fastest_path[0], T0.replace(tzinfo=None))])


def test_a_clone_far_away_is_impossible_travel(
    monaco: nx.MultiDiGraph, far_apart: tuple[int, int]
) -> None:
    a, b = far_apart
    hits = [
        Hit(1, a, T0),
        Hit(2, b, T0 + timedelta(seconds=20)),
        Hit(3, a, T0 + timedelta(seconds=40)),
    ]
    route = reconstruct(monaco, hits, plate="51F12345")
    assert len(route.impossible) == 2
    flagged = route.impossible[0]
    assert flagged.nodes == () and flagged.fastest_s > 2 * flagged.observed_s


def test_a_clone_taking_over_at_a_possible_pace_is_caught_on_the_whole_trip(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    index = routing_index(monaco)
    hits = drive(monaco, fastest_path, every=10, slowness=1.6)
    assert reconstruct(monaco, hits).impossible == ()
    # A second car on the plate is seen from the middle on, as if the first drove the leg
    # between at 0.8x free flow: twice its own pace, just within what one leg may show alone.
    half = len(hits) // 2
    fastest = measure(index, hits[half - 1], hits[half], DEFAULT_MODEL).fastest_s
    early = hits[half].observed_at - hits[half - 1].observed_at - timedelta(seconds=0.8 * fastest)
    cloned = hits[:half] + [replace(h, observed_at=h.observed_at - early) for h in hits[half:]]
    legs = [measure(index, a, b, DEFAULT_MODEL) for a, b in pairwise(cloned)]
    pace = trip_pace(legs, DEFAULT_MODEL)
    assert not any(impossible(leg, DEFAULT_MODEL, pace=pace) for leg in legs)
    route = reconstruct(monaco, cloned)
    assert [s.start for s in route.impossible] == [hits[half - 1]]
    # Told to doubt one vehicle only on far stronger evidence, it lets this one pass.
    lenient = replace(DEFAULT_MODEL, one_vehicle_alpha=1e-6)
    assert reconstruct(monaco, cloned, model=lenient).impossible == ()


def test_slow_but_possible_travel_is_not_flagged(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    for slowness in (0.7, 1.0, 3.0):
        route = reconstruct(monaco, drive(monaco, fastest_path, slowness=slowness))
        assert route.impossible == ()


def test_a_long_stop_splits_the_route_into_trips(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path)
    home = Hit(99, hits[0].node, hits[-1].observed_at + timedelta(hours=2), hits[0].from_node)
    route = reconstruct(monaco, [*hits, home])
    assert len(route.trips) == 2
    assert route.trips[1].segments == ()
    assert route.impossible == ()


def test_the_same_camera_twice_in_a_row_is_one_place(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hit = Hit(1, fastest_path[2], T0, fastest_path[1])
    again = Hit(1, fastest_path[2], T0 + timedelta(seconds=4), fastest_path[1])
    route = reconstruct(monaco, [hit, again])
    assert route.impossible == ()
    assert route.trips[0].nodes == (fastest_path[2],)


def test_the_baseline_is_the_fastest_path(monaco: nx.MultiDiGraph, fastest_path: list[int]) -> None:
    hits = drive(monaco, fastest_path, every=len(fastest_path))
    baseline = shortest_route(monaco, hits)
    assert baseline.trips[0].nodes == tuple(fastest_path[1:])
