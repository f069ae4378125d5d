from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import networkx as nx
import pytest
from sqlalchemy import Connection

from store.cameras import list_cameras
from store.models import CAMERA_CODE_PATTERN
from tracing.cameras import (
    ARTERIAL_RANK,
    CameraError,
    CameraSite,
    approach_bearing,
    attach,
    coverage_sites,
    grid_code,
    hits_from,
    is_intersection,
    layout_geojson,
    nearest_node,
    place_cameras,
    rank_intersections,
    save_layout,
    sites_of,
    watched_approaches,
    working_coverage,
)
from tracing.graph import ODBL_CREDIT, haversine_m, road_rank


@pytest.fixture(scope="module")
def junction(monaco: nx.MultiDiGraph) -> int:
    """A node reached from three or more directions."""
    return int(next(n for n in sorted(monaco.nodes) if len(monaco.pred[n]) >= 3))


def test_a_heading_picks_the_approach_it_looks_along(
    monaco: nx.MultiDiGraph, junction: int
) -> None:
    x, y = monaco.nodes[junction]["x"], monaco.nodes[junction]["y"]
    for u in monaco.pred[junction]:
        heading = approach_bearing(monaco, u, junction)
        site = attach(monaco, camera_id=5, lon=x, lat=y, heading=heading)
        assert site == CameraSite(5, junction, u)
        assert site.approach == (u, junction)


def test_without_heading_a_camera_watches_its_node(monaco: nx.MultiDiGraph, junction: int) -> None:
    x, y = monaco.nodes[junction]["x"], monaco.nodes[junction]["y"]
    site = attach(monaco, camera_id=1, lon=x + 0.00001, lat=y)
    assert site == CameraSite(1, junction) and site.approach is None
    watched = watched_approaches(monaco, [site])
    assert set(watched) == {(u, junction) for u in monaco.pred[junction]}


def test_cameras_off_the_map_or_with_bad_headings_are_refused(
    monaco: nx.MultiDiGraph, junction: int
) -> None:
    with pytest.raises(CameraError, match="from the nearest road"):
        attach(monaco, camera_id=1, lon=106.7, lat=10.77)
    x, y = monaco.nodes[junction]["x"], monaco.nodes[junction]["y"]
    with pytest.raises(CameraError, match="heading"):
        attach(monaco, camera_id=1, lon=x, lat=y, heading=400.0)
    bearings = [approach_bearing(monaco, u, junction) for u in monaco.pred[junction]]
    # The direction farthest from every approach: no road arrives that way.
    worst = max(range(360), key=lambda h: min(abs((h - b + 180) % 360 - 180) for b in bearings))
    with pytest.raises(CameraError, match="no road reaches"):
        attach(monaco, camera_id=1, lon=x, lat=y, heading=float(worst), heading_tolerance=1.0)


def test_layout_puts_major_intersections_first_and_spreads_them(
    monaco: nx.MultiDiGraph,
) -> None:
    ranked = rank_intersections(monaco)
    assert len(ranked) == len(set(ranked))
    best = max(road_rank(d["highway"]) for *_, d in monaco.in_edges(ranked[0], data=True))
    assert best == max(road_rank(d["highway"]) for *_, d in monaco.edges(data=True))
    head = [(monaco.nodes[n]["x"], monaco.nodes[n]["y"]) for n in ranked[:4]]
    gaps = [haversine_m(*a, *b) for i, a in enumerate(head) for b in head[i + 1 :]]
    assert min(gaps) >= 800.0 * 0.99  # the first pass keeps 800 m between cameras


def test_place_cameras_gives_valid_codes_and_headings(monaco: nx.MultiDiGraph) -> None:
    planned = place_cameras(monaco, count=40, city="MCO")
    assert len(planned) == 40
    codes = [p.code for p in planned]
    assert len(set(codes)) == 40
    assert all(re.match(CAMERA_CODE_PATTERN, c) for c in codes)
    assert codes[0].endswith("-0001")
    for p in planned:
        assert p.heading == pytest.approx(approach_bearing(monaco, p.from_node, p.node), abs=0.06)
        assert p.name.endswith("bound")


def test_arterials_watch_only_arterial_approaches(monaco: nx.MultiDiGraph) -> None:
    for p in place_cameras(monaco, count=20, city="MCO", strategy="arterials"):
        assert max(road_rank(d["highway"]) for d in monaco[p.from_node][p.node].values()) >= (
            ARTERIAL_RANK
        )


def test_place_cameras_refuses_bad_requests(monaco: nx.MultiDiGraph) -> None:
    with pytest.raises(CameraError, match="count"):
        place_cameras(monaco, count=0, city="MCO")
    with pytest.raises(CameraError, match="city code"):
        place_cameras(monaco, count=1, city="monaco")
    with pytest.raises(CameraError, match="strategy"):
        rank_intersections(monaco, strategy="everywhere")  # type: ignore[arg-type]
    with pytest.raises(CameraError, match="room for only"):
        place_cameras(monaco, count=9000, city="MCO")


def test_grid_codes_are_stable_and_in_range(monaco: nx.MultiDiGraph) -> None:
    west = min(d["x"] for _, d in monaco.nodes(data=True))
    south = min(d["y"] for _, d in monaco.nodes(data=True))
    assert grid_code(monaco, west, south) == ("D01", "W01")
    district, ward = grid_code(monaco, west + 0.008, south + 0.001)  # ~640 m east, 110 m north
    assert district == "D01" and ward == "W02"


def test_a_layout_survives_the_store_and_attaches_back(
    monaco: nx.MultiDiGraph, conn: Connection
) -> None:
    planned = place_cameras(monaco, count=12, city="MCO")
    rows = save_layout(conn, planned)
    assert [r.code for r in list_cameras(conn)] == [p.code for p in planned]
    assert [r.graph_node for r in rows] == [p.node for p in planned]
    sites = sites_of(planned, [r.id for r in rows])
    for row, site in zip(rows, sites, strict=True):
        again = attach(monaco, camera_id=row.id, lon=row.lon, lat=row.lat, heading=row.heading)
        assert again == site


def test_hits_come_from_known_cameras_only(monaco: nx.MultiDiGraph, junction: int) -> None:
    site = CameraSite(3, junction, next(iter(monaco.pred[junction])))
    at = datetime(2026, 3, 2, 8, tzinfo=UTC)
    (hit,) = hits_from({3: site}, [(3, at)])
    assert (hit.camera_id, hit.node, hit.from_node, hit.observed_at) == (
        3,
        junction,
        site.from_node,
        at,
    )
    with pytest.raises(CameraError, match="camera 4"):
        hits_from({3: site}, [(4, at)])
    with pytest.raises(CameraError, match="ids"):
        sites_of(place_cameras(monaco, count=2, city="MCO"), [1])


def test_layout_geojson_carries_the_credit(monaco: nx.MultiDiGraph) -> None:
    planned = place_cameras(monaco, count=3, city="MCO")
    collection = layout_geojson(planned, credit=ODBL_CREDIT)
    assert collection["properties"] == {"credit": ODBL_CREDIT}
    features = json.loads(json.dumps(collection))["features"]
    assert [f["properties"]["code"] for f in features] == [p.code for p in planned]
    node, distance = nearest_node(monaco, *features[0]["geometry"]["coordinates"])
    assert node == planned[0].node and distance < 1.0


def test_coverage_puts_cameras_on_every_approach_of_the_top_intersections(
    monaco: nx.MultiDiGraph,
) -> None:
    ranked = rank_intersections(monaco)
    sites = coverage_sites(monaco, 0.1, ranked=ranked)
    nodes = list(dict.fromkeys(s.node for s in sites))
    assert nodes == ranked[: len(nodes)]
    assert len(nodes) == round(0.1 * sum(1 for n in monaco if is_intersection(monaco, n)))
    assert [s.camera_id for s in sites] == list(range(1, len(sites) + 1))
    assert {(s.from_node, s.node) for s in sites} == {(u, n) for n in nodes for u in monaco.pred[n]}
    for share in (0.0, 1.5):
        with pytest.raises(CameraError, match="coverage"):
            coverage_sites(monaco, share, ranked=ranked)


def test_only_online_cameras_make_silence_count(monaco: nx.MultiDiGraph) -> None:
    planned = place_cameras(monaco, count=6, city="MCO")
    sites = {s.camera_id: s for s in sites_of(planned, [1, 2, 3, 4, 5, 6])}
    statuses = {1: "online", 2: "stale", 3: "offline", 4: "disabled", 5: "online"}
    coverage = working_coverage(monaco, sites, statuses)
    assert set(coverage.watched.values()) == {1, 5}
    assert set(coverage.watched) == {sites[1].approach, sites[5].approach}
