from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import networkx as nx
import pytest

from tracing.graph import ODBL_CREDIT, best_edge
from tracing.routes import (
    FitModel,
    Hit,
    RouteError,
    camera_coverage,
    reconstruct,
    route_geojson,
    route_json,
    separate_vehicles,
    shortest_route,
    split_trips,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _drive(
    graph: nx.MultiDiGraph, path: list[int], *, every: int = 3, slowness: float = 1.4
) -> list[Hit]:
    """Hits of a camera on every ``every``-th approach along ``path``, at realistic times."""
    hits, t = [], T0
    for i, (u, v) in enumerate(pairwise(path)):
        t += timedelta(seconds=best_edge(graph, u, v)["travel_time"] * slowness)
        if i % every == 0 or i == len(path) - 2:
            hits.append(Hit(i, v, t, u))
    return hits


@pytest.fixture(scope="module")
def far_apart(monaco: nx.MultiDiGraph) -> tuple[int, int]:
    """Two nodes a few minutes' drive apart."""
    nodes = sorted(monaco.nodes)
    lengths = nx.single_source_dijkstra_path_length(monaco, nodes[0], weight="travel_time")
    far = max(lengths, key=lengths.__getitem__)
    return nodes[0], far


@pytest.fixture(scope="module")
def fastest_path(monaco: nx.MultiDiGraph, far_apart: tuple[int, int]) -> list[int]:
    path: list[int] = nx.shortest_path(monaco, *far_apart, weight="travel_time")
    return path


def test_a_fastest_drive_is_reconstructed_exactly(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = _drive(monaco, fastest_path)
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
        hits = _drive(monaco, path, every=len(path))
        free = reconstruct(monaco, hits)
        segment = free.trips[0].segments[0]
        if segment.candidates < 2:
            continue
        # Working cameras on every street of the chosen path that saw nothing: it was not driven.
        inner = segment.nodes[:-1]
        watched = {edge: 1000 + i for i, edge in enumerate(pairwise(inner))}
        coverage = camera_coverage(monaco, watched)
        assert set(coverage.watched) == set(watched)
        avoided = reconstruct(monaco, hits, coverage=coverage).trips[0].segments[0]
        assert avoided.nodes != segment.nodes
        assert avoided.nodes[0] == hits[0].node and avoided.nodes[-1] == hits[-1].node
        return
    pytest.fail("no camera pair with alternative routes found in Monaco")


def test_a_single_sighting_is_a_trip_without_segments(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    route = reconstruct(monaco, [Hit(1, fastest_path[3], T0)])
    assert len(route.trips) == 1
    assert route.trips[0].segments == ()
    assert route.trips[0].nodes == (fastest_path[3],)
    assert route_geojson(monaco, route)["features"][0]["geometry"]["type"] == "Point"


def test_an_empty_window_is_refused(monaco: nx.MultiDiGraph) -> None:
    with pytest.raises(RouteError, match="no sightings"):
        reconstruct(monaco, [])


def test_sightings_out_of_order_are_refused(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = _drive(monaco, fastest_path)
    with pytest.raises(RouteError, match="out of order"):
        reconstruct(monaco, [hits[1], hits[0], *hits[2:]])


def test_unknown_cameras_and_naive_times_are_refused(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    with pytest.raises(RouteError, match="not in graph"):
        reconstruct(monaco, [Hit(7, -1, T0)])
    with pytest.raises(RouteError, match="not a road edge"):
        reconstruct(monaco, [Hit(7, fastest_path[0], T0, fastest_path[5])])
    with pytest.raises(RouteError, match="naive"):
        reconstruct(monaco, [Hit(7, fastest_path[0], T0.replace(tzinfo=None))])


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
    assert route_json(route)["impossible_travel"] == 2


def test_slow_but_possible_travel_is_not_flagged(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    for slowness in (0.7, 1.0, 3.0):
        route = reconstruct(monaco, _drive(monaco, fastest_path, slowness=slowness))
        assert route.impossible == ()


def test_a_long_stop_splits_the_trips(monaco: nx.MultiDiGraph, fastest_path: list[int]) -> None:
    hits = _drive(monaco, fastest_path)
    home = Hit(99, hits[0].node, hits[-1].observed_at + timedelta(hours=2), hits[0].from_node)
    trips = split_trips(monaco, [*hits, home])
    assert [len(t) for t in trips] == [len(hits), 1]
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


def test_geojson_is_a_timed_line_with_hits_and_credit(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = _drive(monaco, fastest_path)
    collection = route_geojson(monaco, reconstruct(monaco, hits, plate="51F12345"))
    assert collection["properties"]["credit"] == ODBL_CREDIT
    lines = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in collection["features"] if f["properties"]["kind"] == "hit"]
    assert len(lines) == 1 and len(points) == len(hits)
    line = lines[0]
    coords, times = line["geometry"]["coordinates"], line["properties"]["times"]
    assert len(coords) == len(times) >= len(fastest_path) - 1
    assert times == sorted(times)
    assert times[0] == hits[0].observed_at.isoformat()
    assert times[-1] == hits[-1].observed_at.isoformat()
    first = monaco.nodes[hits[0].node]
    assert coords[0] == [round(first["x"], 7), round(first["y"], 7)]
    json.dumps(collection)


def test_compact_json_reports_observed_and_inferred(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = _drive(monaco, fastest_path)
    compact = route_json(reconstruct(monaco, hits, plate="51F12345"))
    json.dumps(compact)
    assert compact["plate"] == "51F12345" and compact["credit"] == ODBL_CREDIT
    segments = compact["trips"][0]["segments"]
    assert [s["from_camera"] for s in segments] == [h.camera_id for h in hits[:-1]]
    for segment, (a, b) in zip(segments, pairwise(hits), strict=True):
        assert segment["observed_s"] == round((b.observed_at - a.observed_at).total_seconds(), 1)
        assert segment["inferred_s"] > 0 and 0 < segment["confidence"] <= 1


def test_the_baseline_is_the_fastest_path(monaco: nx.MultiDiGraph, fastest_path: list[int]) -> None:
    hits = _drive(monaco, fastest_path, every=len(fastest_path))
    baseline = shortest_route(monaco, hits)
    assert baseline.trips[0].nodes == tuple(fastest_path[1:])


def test_fit_model_refuses_nonsense() -> None:
    with pytest.raises(RouteError):
        FitModel(miss_rate=0.0)
    with pytest.raises(RouteError):
        FitModel(candidates=0)
    with pytest.raises(RouteError):
        FitModel(max_speedup=-1.0)
    with pytest.raises(RouteError):
        FitModel(detour_per_s=0.0)


def test_a_cloned_plate_separates_into_two_vehicles(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    near = _drive(monaco, fastest_path[: len(fastest_path) // 3], every=1)
    far = fastest_path[-1]
    clone = [
        Hit(900 + i, far, h.observed_at + timedelta(seconds=3))
        for i, h in enumerate(near)
        if i % 2 == 0
    ]
    merged = sorted([*near, *clone], key=lambda h: h.observed_at)
    assert reconstruct(monaco, merged).impossible
    assert sorted(separate_vehicles(monaco, merged), key=len, reverse=True) == [near, clone]
    honest = _drive(monaco, fastest_path)
    assert separate_vehicles(monaco, honest) == [honest]
    with pytest.raises(RouteError, match="no sightings"):
        separate_vehicles(monaco, [])
