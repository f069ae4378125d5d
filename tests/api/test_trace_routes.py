from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from store.cameras import NewCamera, create_camera, update_camera
from store.users import grant_cameras
from tests.api.city import PLATE, SEEN, SOUTH, STEP, WEST, Cameras, place_cameras, write_osm
from tests.api.conftest import PURPOSE, World

WINDOW = {
    "start": (SEEN - timedelta(hours=1)).isoformat(),
    "end": (SEEN + timedelta(hours=3)).isoformat(),
}


@pytest.fixture
def city(app: FastAPI, conn: Connection, world: World, tmp_path: Path) -> Iterator[Cameras]:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"city_osm": write_osm(tmp_path / "c.osm")})
    yield place_cameras(conn, world.agency_a)
    app.state.settings = settings


def trace(client: TestClient, world: World, who: str = "investigator", **params: Any) -> Any:
    return client.get(
        "/trace", params={**PURPOSE, **WINDOW, "plate": PLATE, **params}, headers=world.headers[who]
    )


def test_trace_gives_trips_with_inferred_streets(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    answer = trace(client, world)
    assert answer.status_code == 200, answer.text
    route = answer.json()
    assert route["plate"] == PLATE and route["cameras_off_map"] == []
    # An hour between the passes splits them into two trips, west to east each time.
    assert len(route["trips"]) == 2
    for trip in route["trips"]:
        (segment,) = trip["segments"]
        assert (segment["from_camera"], segment["to_camera"]) == (city.west, city.east)
        assert not segment["impossible"]
        assert 900 < segment["length_m"] < 1100
    logged = conn.execute(text("SELECT route, result_count, case_id FROM audit_log")).one()
    assert tuple(logged) == ("/trace", 4, PURPOSE["case_id"])


def test_trace_as_geojson_has_timed_lines_and_hits(
    client: TestClient, world: World, city: Cameras
) -> None:
    answer = trace(client, world, format="geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    features = answer.json()["features"]
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert len(lines) == 2
    assert all(len(f["properties"]["times"]) == len(f["geometry"]["coordinates"]) for f in lines)
    assert sum(f["properties"]["kind"] == "hit" for f in features) == 4


def test_other_agencies_see_no_route(client: TestClient, world: World, city: Cameras) -> None:
    answer = trace(client, world, "investigator-b")
    assert answer.status_code == 404 and "no sightings" in answer.json()["detail"]
    assert trace(client, world, "admin").status_code == 200


def test_cameras_off_the_map_are_named_not_fatal(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    conn.execute(
        text(
            "UPDATE cameras SET location = ST_SetSRID(ST_MakePoint(106.9, 10.9), 4326) "
            "WHERE id = :id"
        ),
        {"id": city.east},
    )
    answer = trace(client, world)
    assert answer.status_code == 200, answer.text
    assert answer.json()["cameras_off_map"] == [city.east]


def test_no_city_map_says_how_to_configure_one(client: TestClient, world: World) -> None:
    answer = trace(client, world)
    assert answer.status_code == 404 and "PLATETRACE_CITY_OSM" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"plate": "51G*"}, 400, "one plate"),
        ({"plate": "5!"}, 400, "not a plate"),
        ({"end": WINDOW["start"]}, 400, "end after it starts"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, 400, "longer than 31"),
        ({"format": "kml"}, 422, None),
        ({"start": "2026-01-01T00:00:00"}, 422, None),
    ],
)
def test_bad_trace_requests(
    client: TestClient,
    world: World,
    city: Cameras,
    params: dict[str, str],
    status: int,
    reason: str | None,
) -> None:
    answer = trace(client, world, **params)
    assert answer.status_code == status, answer.text
    if reason:
        assert reason in answer.json()["detail"]


def test_trace_needs_purpose_role_and_credentials(client: TestClient, world: World) -> None:
    bare = client.get("/trace", params={**WINDOW, "plate": PLATE}, headers=world.headers["admin"])
    assert bare.status_code == 400 and "purpose" in bare.json()["detail"]
    for who in ("dispatcher", "operator", "auditor", "service"):
        assert trace(client, world, who).status_code == 403, who
    assert trace(client, world, "anonymous").status_code == 401


def _middle_camera(conn: Connection, status: str) -> int:
    """A camera watching eastbound traffic into the middle of the plate's street."""
    return create_camera(
        conn,
        NewCamera(
            code="HCM-TD-W01-0103",
            name="Middle",
            lat=SOUTH + STEP,
            lon=WEST + STEP,
            heading=90.0,
            status=status,
        ),
    ).id


def _confidences(client: TestClient, world: World) -> list[float]:
    answer = trace(client, world)
    assert answer.status_code == 200, answer.text
    return [s["confidence"] for t in answer.json()["trips"] for s in t["segments"]]


def test_a_silent_online_camera_on_the_way_makes_the_route_less_certain(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    unmonitored = _confidences(client, world)
    middle = _middle_camera(conn, "offline")
    grant_cameras(conn, world.agency_a, [middle])
    # An offline camera may have seen the plate without reporting: its silence says nothing.
    assert _confidences(client, world) == unmonitored
    update_camera(conn, middle, status="online")
    silent = _confidences(client, world)
    assert all(s < u for s, u in zip(silent, unmonitored, strict=True))


def test_cameras_the_caller_may_not_use_say_nothing_by_their_silence(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    unmonitored = _confidences(client, world)
    _middle_camera(conn, "online")  # agency A is not granted it
    assert _confidences(client, world) == unmonitored
