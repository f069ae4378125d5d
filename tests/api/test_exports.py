from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.routes.exports import KML, route_csv, route_kml, stream_connections
from tests.api.city import PLATE, SEEN, Cameras, place_cameras, write_osm
from tests.api.conftest import PURPOSE, World

WINDOW = {
    "start": (SEEN - timedelta(hours=1)).isoformat(),
    "end": (SEEN + timedelta(hours=3)).isoformat(),
}
ROUTE = {
    "type": "FeatureCollection",
    "properties": {"plate": "51G67890", "credit": "© OpenStreetMap contributors (ODbL)"},
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[106.7, 10.8], [106.71, 10.8]]},
            "properties": {
                "kind": "route",
                "trip": 0,
                "times": ["2026-11-20T10:00:00+00:00", "2026-11-20T10:02:00+00:00"],
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.7, 10.8]},
            "properties": {
                "kind": "hit",
                "trip": 0,
                "camera_id": 7,
                "observed_at": "2026-11-20T10:00:00+00:00",
            },
        },
    ],
}


@pytest.fixture
def city(app: FastAPI, conn: Connection, world: World, tmp_path: Path) -> Iterator[Cameras]:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"city_osm": write_osm(tmp_path / "c.osm")})
    # The streamed export reads on a connection of its own; here, the test's transaction.
    app.dependency_overrides[stream_connections] = lambda: lambda: nullcontext(conn)
    yield place_cameras(conn, world.agency_a)
    app.state.settings = settings
    app.dependency_overrides.pop(stream_connections, None)


def test_route_csv_lists_hits_before_the_route_point_at_the_same_time() -> None:
    rows = list(csv.DictReader(io.StringIO(route_csv(ROUTE))))
    assert [(r["kind"], r["time"], r["camera_id"]) for r in rows] == [
        ("hit", "2026-11-20T10:00:00+00:00", "7"),
        ("route", "2026-11-20T10:00:00+00:00", ""),
        ("route", "2026-11-20T10:02:00+00:00", ""),
    ]


def test_route_kml_is_a_document_with_a_timed_line_and_point() -> None:
    root = ET.fromstring(route_kml(ROUTE))  # noqa: S314 - our own output
    ns = {"k": KML}
    assert root.findtext("k:Document/k:name", namespaces=ns) == "Route of 51G67890"
    line = root.find("k:Document/k:Placemark/k:LineString/k:coordinates", ns)
    assert line is not None and line.text == "106.7,10.8 106.71,10.8"
    when = root.findtext("k:Document/k:Placemark/k:TimeStamp/k:when", namespaces=ns)
    assert when == "2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("csv", "text/csv"), ("geojson", "application/geo+json"), ("kml", "kml+xml")],
)
def test_route_exports_are_attachments_and_audited(
    client: TestClient, conn: Connection, world: World, city: Cameras, fmt: str, media: str
) -> None:
    answer = client.get(
        "/exports/route",
        params={**PURPOSE, **WINDOW, "plate": PLATE, "format": fmt},
        headers=world.headers["investigator"],
    )
    assert answer.status_code == 200, answer.text
    assert media in answer.headers["content-type"]
    assert f'filename="route-{PLATE}.{fmt}"' in answer.headers["content-disposition"]
    assert str(city.east) in answer.text
    logged = conn.execute(text("SELECT route, result_count FROM audit_log")).one()
    assert tuple(logged) == ("/exports/route", 4)


def export(client: TestClient, world: World, who: str = "investigator", **body: Any) -> Any:
    return client.post(
        "/exports/sightings", params=PURPOSE, json={**WINDOW, **body}, headers=world.headers[who]
    )


def test_sightings_export_streams_every_match_as_csv(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    answer = export(client, world, plate="*67890")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["plate"] for r in rows] == [PLATE] * 4
    assert rows[0]["observed_at"] > rows[-1]["observed_at"]  # newest first
    assert {r["camera_code"] for r in rows} == {"HCM-TD-W01-0101", "HCM-TD-W01-0102"}
    logged = conn.execute(text("SELECT route, result_count, params FROM audit_log")).one()
    assert logged.route == "/exports/sightings" and logged.result_count == 4
    assert logged.params["plate"] == "*67890"


def test_sightings_export_is_scoped_and_refuses_trawls(
    client: TestClient, world: World, city: Cameras
) -> None:
    other = export(client, world, "investigator-b", plate=PLATE)
    assert other.status_code == 200 and other.text.count("\n") == 1  # the header only
    assert export(client, world, plate="*").status_code == 400
    assert export(client, world).status_code == 400
    assert export(client, world, "dispatcher", plate=PLATE).status_code == 403
    assert export(client, world, "anonymous", plate=PLATE).status_code == 401
    bare = client.post(
        "/exports/sightings",
        json={**WINDOW, "plate": PLATE},
        headers=world.headers["investigator"],
    )
    assert bare.status_code == 400


def test_route_export_refuses_bad_requests(client: TestClient, world: World, city: Cameras) -> None:
    base = {**PURPOSE, **WINDOW, "plate": PLATE}
    headers = world.headers["investigator"]
    assert (
        client.get("/exports/route", params={**base, "format": "pdf"}, headers=headers).status_code
        == 422
    )
    wild = client.get("/exports/route", params={**base, "plate": "51G*"}, headers=headers)
    assert wild.status_code == 400 and "one plate" in wild.json()["detail"]
    assert (
        client.get("/exports/route", params={**WINDOW, "plate": PLATE}, headers=headers).status_code
        == 400
    )
    assert (
        client.get("/exports/route", params=base, headers=world.headers["operator"]).status_code
        == 403
    )
