from __future__ import annotations

import math
import time
from pathlib import Path

import networkx as nx
import pytest

from tracing.graph import (
    DEFAULT_SPEED_KPH,
    ODBL_CREDIT,
    GraphError,
    bearing_deg,
    best_edge,
    build_graph,
    haversine_m,
    load_graph,
    oneway_direction,
    parse_maxspeed,
    path_geometry,
    routing_index,
)

# A square A-B-C-D around a centre E, every corner also joined to E (so no corner is a mere
# bend), with F a bend between D and A. B → C is one-way, C–D is signed in mph, a footway
# A–C and a private road must not appear, and G–H is an island the largest component drops.
TOWN = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="10.7700" lon="106.7000"/>
  <node id="2" lat="10.7700" lon="106.7020"/>
  <node id="3" lat="10.7680" lon="106.7020"/>
  <node id="4" lat="10.7680" lon="106.7000"/>
  <node id="5" lat="10.7690" lon="106.7010"/>
  <node id="6" lat="10.7690" lon="106.6995"/>
  <node id="7" lat="10.7800" lon="106.7100"/>
  <node id="8" lat="10.7800" lon="106.7110"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/>
    <tag k="oneway" v="yes"/><tag k="maxspeed" v="VN:urban"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="tertiary"/>
    <tag k="maxspeed" v="30 mph"/></way>
  <way id="13"><nd ref="4"/><nd ref="6"/><nd ref="1"/><tag k="highway" v="residential"/></way>
  <way id="14"><nd ref="1"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="15"><nd ref="2"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="16"><nd ref="3"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="17"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="18"><nd ref="1"/><nd ref="3"/><tag k="highway" v="footway"/></way>
  <way id="19"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/>
    <tag k="access" v="private"/></way>
  <way id="20"><nd ref="7"/><nd ref="8"/><tag k="highway" v="primary"/></way>
</osm>
"""


@pytest.fixture(scope="module")
def town_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "town.osm"
    path.write_text(TOWN, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def town(town_file: Path) -> nx.MultiDiGraph:
    return build_graph(town_file)


@pytest.mark.parametrize(
    ("value", "highway", "expected"),
    [
        ("50", "primary", 50.0),
        ("50 km/h", "primary", 50.0),
        ("30 mph", "primary", 30 * 1.609344),
        ("VN:urban", "residential", 50.0),
        ("RU:living_street", "residential", 20.0),
        ("XX:unknown", "tertiary", DEFAULT_SPEED_KPH["tertiary"]),
        ("20;10", "residential", 20.0),
        ("none", "trunk", DEFAULT_SPEED_KPH["trunk"]),
        ("walk", "living_street", DEFAULT_SPEED_KPH["living_street"]),
        ("900", "primary", DEFAULT_SPEED_KPH["primary"]),
        ("", "secondary", DEFAULT_SPEED_KPH["secondary"]),
        (None, "primary_link", DEFAULT_SPEED_KPH["primary"] * 0.75),
    ],
)
def test_maxspeed_is_parsed_robustly(value: str | None, highway: str, expected: float) -> None:
    assert parse_maxspeed(value, highway) == pytest.approx(expected)


def test_haversine_and_bearing_agree_with_known_values() -> None:
    # One degree of latitude is about 111.2 km; due east is 90°.
    assert haversine_m(106.7, 10.0, 106.7, 11.0) == pytest.approx(111_195, rel=1e-3)
    assert bearing_deg(106.7, 10.77, 106.71, 10.77) == pytest.approx(90.0, abs=0.1)
    assert bearing_deg(106.7, 10.77, 106.7, 10.76) == pytest.approx(180.0, abs=0.1)


def test_one_way_streets_go_one_way_only(town: nx.MultiDiGraph) -> None:
    assert town.has_edge(2, 3)
    assert not town.has_edge(3, 2)
    assert town.has_edge(1, 2) and town.has_edge(2, 1)


def test_footways_private_roads_and_islands_are_left_out(town: nx.MultiDiGraph) -> None:
    assert not town.has_edge(1, 3) and not town.has_edge(3, 1)
    assert not town.has_edge(2, 4)
    assert 7 not in town and 8 not in town
    assert nx.is_strongly_connected(town)


def test_bends_are_merged_into_edges_that_keep_their_shape(town: nx.MultiDiGraph) -> None:
    assert 6 not in town
    edge = best_edge(town, 4, 1)
    assert len(edge["geometry"]) == 3
    assert edge["geometry"][1] == (106.6995, 10.769)
    straight = haversine_m(106.7, 10.768, 106.7, 10.77)
    assert edge["length"] > straight
    legs = haversine_m(106.7, 10.768, 106.6995, 10.769) + haversine_m(
        106.6995, 10.769, 106.7, 10.77
    )
    assert edge["length"] == pytest.approx(legs)


def test_speeds_and_travel_times_follow_the_tags(town: nx.MultiDiGraph) -> None:
    mph = best_edge(town, 3, 4)
    assert mph["speed_kph"] == pytest.approx(30 * 1.609344)
    assert mph["travel_time"] == pytest.approx(mph["length"] / (mph["speed_kph"] / 3.6))
    assert best_edge(town, 2, 3)["speed_kph"] == pytest.approx(50.0)
    assert best_edge(town, 1, 5)["speed_kph"] == pytest.approx(DEFAULT_SPEED_KPH["residential"])
    assert town.graph["credit"] == ODBL_CREDIT


def test_monaco_graph_is_sound(monaco: nx.MultiDiGraph) -> None:
    assert 800 < monaco.number_of_nodes() < 3000
    assert nx.is_strongly_connected(monaco)
    one_way = sum(1 for u, v in monaco.edges() if not monaco.has_edge(v, u))
    assert one_way > 50  # Monaco has many one-way streets
    for u, v, data in monaco.edges(data=True):
        assert data["length"] > 0 and data["travel_time"] > 0
        assert data["geometry"][0] == (monaco.nodes[u]["x"], monaco.nodes[u]["y"])
        assert data["geometry"][-1] == (monaco.nodes[v]["x"], monaco.nodes[v]["y"])


def test_second_load_comes_from_the_cache(
    monaco_pbf: Path, graph_cache: Path, monaco: nx.MultiDiGraph
) -> None:
    (cached,) = graph_cache.glob("graph-*.pickle")
    written = cached.stat().st_mtime_ns
    began = time.perf_counter()
    again = load_graph(monaco_pbf, cache_dir=graph_cache)
    assert time.perf_counter() - began < 1.0
    assert again is not monaco and nx.utils.graphs_equal(again, monaco)
    assert list(graph_cache.glob("graph-*.pickle")) == [cached]
    assert cached.stat().st_mtime_ns == written  # read, not rebuilt


def test_a_damaged_cache_is_rebuilt(
    monaco_pbf: Path, graph_cache: Path, monaco: nx.MultiDiGraph, tmp_path: Path
) -> None:
    (good,) = graph_cache.glob("graph-*.pickle")  # written when ``monaco`` was built
    damaged = tmp_path / good.name
    damaged.write_bytes(good.read_bytes()[:1000])
    rebuilt = load_graph(monaco_pbf, cache_dir=tmp_path)
    assert nx.utils.graphs_equal(rebuilt, monaco)
    assert damaged.stat().st_size > 1000  # written anew
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_and_broken_files_raise_graph_error(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="not found"):
        load_graph(tmp_path / "nowhere.osm.pbf", cache_dir=tmp_path)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(GraphError, match="cannot read"):
        build_graph(broken)
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'></osm>", encoding="utf-8")
    with pytest.raises(GraphError, match="no drivable roads"):
        build_graph(empty)


def test_path_geometry_follows_streets(monaco: nx.MultiDiGraph) -> None:
    nodes = list(monaco.nodes)
    path = nx.shortest_path(monaco, nodes[0], nodes[500], weight="travel_time")
    points = path_geometry(monaco, path)
    assert points[0] == (monaco.nodes[path[0]]["x"], monaco.nodes[path[0]]["y"])
    assert points[-1] == (monaco.nodes[path[-1]]["x"], monaco.nodes[path[-1]]["y"])
    assert len(points) >= len(path)
    assert path_geometry(monaco, [path[0]]) == [points[0]]


def test_routing_index_matches_the_graph(monaco: nx.MultiDiGraph) -> None:
    index = routing_index(monaco)
    assert routing_index(monaco) is index
    u, v = next(iter(monaco.edges()))
    cost = index.forward[index.position[u], index.position[v]]
    assert math.isclose(cost, best_edge(monaco, u, v)["travel_time"])
    assert index.forward.nnz == len({(a, b) for a, b in monaco.edges()})


@pytest.mark.parametrize(
    ("tags", "highway", "expected"),
    [
        ({"oneway": "yes"}, "primary", 1),
        ({"oneway": "true"}, "primary", 1),
        ({"oneway": "1"}, "residential", 1),
        ({"oneway": "-1"}, "residential", -1),
        ({"oneway": "no"}, "motorway", 0),
        ({}, "motorway", 1),
        ({}, "motorway_link", 1),
        ({"junction": "roundabout"}, "tertiary", 1),
        ({}, "tertiary", 0),
        ({"oneway": "reversible"}, "primary", 0),
    ],
)
def test_one_way_rules(tags: dict[str, str], highway: str, expected: int) -> None:
    assert oneway_direction(tags, highway) == expected
