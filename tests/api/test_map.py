"""The map's data routes: the road layer drawn from the city's OSM extract, and the cameras."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import networkx as nx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.map import MapError, build_road_layer, road_features
from tests.api.conftest import World
from tests.conftest import require_shared_data
from tracing.graph import ODBL_CREDIT


@pytest.fixture
def use_city(app: FastAPI) -> Iterator[Callable[[Path], None]]:
    """Point the app's ``city_osm`` at a file for one test."""
    original = app.state.settings

    def use(osm: Path) -> None:
        app.state.settings = original.model_copy(update={"city_osm": osm})

    yield use
    app.state.settings = original


def street_graph() -> nx.MultiDiGraph:
    """A two-way residential street with a redundant middle point, and a one-way primary."""
    graph = nx.MultiDiGraph(source="test.osm.pbf")
    for node, (x, y) in {1: (0.0, 0.0), 2: (0.002, 0.0), 3: (0.002, 0.002)}.items():
        graph.add_node(node, x=x, y=y)
    street = ((0.0, 0.0), (0.001, 0.0), (0.002, 0.0))
    graph.add_edge(1, 2, highway="residential", geometry=street)
    graph.add_edge(2, 1, highway="residential", geometry=street[::-1])
    graph.add_edge(2, 3, highway="primary_link", geometry=((0.002, 0.0), (0.002, 0.002)))
    return graph


def test_road_features_draw_each_street_once_by_class_minor_first() -> None:
    layer = road_features(street_graph())
    assert layer["properties"]["credit"] == ODBL_CREDIT
    assert layer["bbox"] == [0.0, 0.0, 0.002, 0.002]
    classes = [f["properties"]["highway"] for f in layer["features"]]
    assert classes == ["residential", "primary_link"]
    assert [f["properties"]["rank"] for f in layer["features"]] == [1, 4]
    residential = layer["features"][0]["geometry"]
    assert residential["type"] == "MultiLineString"
    # Both directions of the street collapse to one line; the collinear point is simplified away.
    assert len(residential["coordinates"]) == 1
    assert len(residential["coordinates"][0]) == 2


def test_road_features_keep_points_when_not_simplifying() -> None:
    layer = road_features(street_graph(), tolerance_deg=0.0, digits=7)
    assert layer["features"][0]["geometry"]["coordinates"][0] == [
        [0.0, 0.0],
        [0.001, 0.0],
        [0.002, 0.0],
    ]


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"tolerance_deg": -1.0}, "tolerance"), ({"digits": 9}, "digits")],
)
def test_road_features_refuse_bad_options(options: dict[str, float], reason: str) -> None:
    with pytest.raises(MapError, match=reason):
        road_features(street_graph(), **options)  # type: ignore[arg-type]


def test_road_features_refuse_an_empty_graph() -> None:
    with pytest.raises(MapError, match="no edges"):
        road_features(nx.MultiDiGraph())


def test_build_road_layer_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="not found"):
        build_road_layer(tmp_path / "nowhere.osm.pbf", cache_dir=tmp_path)


def test_build_road_layer_draws_once_then_reads_its_cache(tmp_path: Path) -> None:
    osm = tmp_path / "city.osm.pbf"
    osm.write_bytes(b"stands in for the extract: only its hash names the cache")
    first = build_road_layer(osm, cache_dir=tmp_path, graph=street_graph())
    assert json.loads(gzip.decompress(first.gzipped)) == road_features(street_graph())
    # No graph now, and the file is no real extract: only the cache can answer.
    again = build_road_layer(osm, cache_dir=tmp_path)
    assert again == first


def test_roads_without_a_city_map_say_how_to_configure_one(
    client: TestClient, world: World
) -> None:
    response = client.get("/map/roads", headers=world.headers["operator"])
    assert response.status_code == 404
    assert "PLATETRACE_CITY_OSM" in response.json()["detail"]


def test_roads_with_a_missing_file_say_so(
    client: TestClient, world: World, use_city: Callable[[Path], None], tmp_path: Path
) -> None:
    use_city(tmp_path / "gone.osm.pbf")
    response = client.get("/map/roads", headers=world.headers["operator"])
    assert response.status_code == 404
    assert "cannot be drawn" in response.json()["detail"]


@pytest.mark.slow
def test_roads_of_monaco_are_gzipped_geojson_with_credit_and_etag(
    client: TestClient, world: World, use_city: Callable[[Path], None]
) -> None:
    monaco = require_shared_data() / "osm" / "monaco.osm.pbf"
    use_city(require_shared_data(monaco))
    headers = world.headers["dispatcher"]

    # httpx announces and undoes gzip itself; the raw stream shows what went over the wire.
    with client.stream("GET", "/map/roads", headers=headers) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    layer = json.loads(gzip.decompress(raw))
    assert layer["properties"]["credit"] == ODBL_CREDIT
    west, south, east, north = layer["bbox"]
    assert 7.3 < west < east < 7.5 and 43.6 < south < north < 43.8
    assert {f["geometry"]["type"] for f in layer["features"]} == {"MultiLineString"}
    assert sum(len(f["geometry"]["coordinates"]) for f in layer["features"]) > 500

    plain = client.get("/map/roads", headers={**headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == layer

    again = client.get("/map/roads", headers={**headers, "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_cameras_are_limited_to_the_agency_and_carry_health_and_district(
    client: TestClient, world: World
) -> None:
    response = client.get("/map/cameras", headers=world.headers["investigator"])
    assert response.status_code == 200
    features = {f["id"]: f for f in response.json()["features"]}
    assert set(features) == {world.camera_a, world.camera_idle}
    camera = features[world.camera_a]
    assert camera["geometry"]["coordinates"] == [106.77, 10.85]
    assert camera["properties"] == {
        "code": "HCM-TD-W07-0012",
        "name": "Võ Văn Ngân",
        "status": "offline",
        "district": "TD",
        "ward": "W07",
        "heading": None,
        "last_frame_at": None,
    }


def test_admin_sees_every_camera(client: TestClient, world: World) -> None:
    response = client.get("/map/cameras", headers=world.headers["admin"])
    ids = {f["id"] for f in response.json()["features"]}
    assert ids == {world.camera_a, world.camera_b, world.camera_idle}


@pytest.mark.parametrize("who", ["auditor", "service", "anonymous"])
def test_cameras_are_refused_to_those_without_a_map(
    client: TestClient, world: World, who: str
) -> None:
    response = client.get("/map/cameras", headers=world.headers[who])
    assert response.status_code == (401 if who == "anonymous" else 403)
