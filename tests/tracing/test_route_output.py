from __future__ import annotations

import json
from itertools import pairwise

import networkx as nx

from tests.tracing.drives import T0, drive
from tracing.graph import ODBL_CREDIT
from tracing.route_output import route_geojson, route_json
from tracing.routes import reconstruct
from tracing.travel import Hit


def test_geojson_is_a_timed_line_with_hits_and_credit(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path)
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


def test_a_single_sighting_is_a_point_without_a_line(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    collection = route_geojson(monaco, reconstruct(monaco, [Hit(1, fastest_path[3], T0)]))
    assert [f["geometry"]["type"] for f in collection["features"]] == ["Point"]


def test_impossible_segments_draw_no_line(
    monaco: nx.MultiDiGraph, far_apart: tuple[int, int]
) -> None:
    a, b = far_apart
    route = reconstruct(monaco, [Hit(1, a, T0), Hit(2, b, T0.replace(second=20))])
    assert route.impossible
    kinds = [f["properties"]["kind"] for f in route_geojson(monaco, route)["features"]]
    assert kinds == ["hit", "hit"]
    assert route_json(route)["trips"][0]["segments"][0]["nodes"] == []


def test_compact_json_reports_observed_and_inferred(
    monaco: nx.MultiDiGraph, fastest_path: list[int]
) -> None:
    hits = drive(monaco, fastest_path)
    compact = route_json(reconstruct(monaco, hits, plate="51F12345"))
    json.dumps(compact)
    assert compact["plate"] == "51F12345" and compact["credit"] == ODBL_CREDIT
    assert compact["impossible_travel"] == 0
    segments = compact["trips"][0]["segments"]
    assert [s["from_camera"] for s in segments] == [h.camera_id for h in hits[:-1]]
    for segment, (a, b) in zip(segments, pairwise(hits), strict=True):
        assert segment["observed_s"] == round((b.observed_at - a.observed_at).total_seconds(), 1)
        assert segment["inferred_s"] > 0 and 0 < segment["confidence"] <= 1
