from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.api.city import COMPANION, PLATE, SEEN, Cameras, place_cameras
from tests.api.conftest import PURPOSE, World

WINDOW = {
    "start": (SEEN - timedelta(hours=1)).isoformat(),
    "end": (SEEN + timedelta(hours=3)).isoformat(),
}


@pytest.fixture
def city(conn: Connection, world: World) -> Cameras:
    return place_cameras(conn, world.agency_a)


def cotravel(client: TestClient, world: World, who: str = "investigator", **params: Any) -> Any:
    return client.get(
        "/cotravel",
        params={**PURPOSE, **WINDOW, "plate": PLATE, **params},
        headers=world.headers[who],
    )


def stakeout(client: TestClient, world: World, who: str = "investigator", **body: Any) -> Any:
    return client.post("/stakeout", params=PURPOSE, json=body, headers=world.headers[who])


def test_the_companion_is_found_on_the_agencys_cameras(
    client: TestClient, conn: Connection, world: World, city: Cameras
) -> None:
    answer = cotravel(client, world)
    assert answer.status_code == 200, answer.text
    (companion,) = answer.json()
    assert companion["plate"] == COMPANION
    assert (companion["together"], companion["cameras"], companion["share"]) == (4, 2, 1.0)
    assert companion["mean_offset_s"] == pytest.approx(4.0)
    logged = conn.execute(text("SELECT route, result_count FROM audit_log")).one()
    assert tuple(logged) == ("/cotravel", 1)
    # Agency B may not use these cameras: nothing to see there.
    assert cotravel(client, world, "investigator-b").json() == []


def test_stakeout_finds_plates_in_both_windows(
    client: TestClient, world: World, city: Cameras
) -> None:
    windows = [
        {
            "cameras": [city.west],
            "start": SEEN.isoformat(),
            "end": (SEEN + timedelta(minutes=1)).isoformat(),
        },
        {
            "cameras": [city.east],
            "start": (SEEN + timedelta(minutes=1)).isoformat(),
            "end": (SEEN + timedelta(minutes=5)).isoformat(),
        },
    ]
    answer = stakeout(client, world, windows=windows)
    assert answer.status_code == 200, answer.text
    assert sorted(r["plate"] for r in answer.json()) == sorted([PLATE, COMPANION])
    assert all(r["windows"] == [0, 1] for r in answer.json())
    hidden = stakeout(client, world, "investigator-b", windows=windows)
    assert hidden.status_code == 404 and "unknown camera" in hidden.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"plate": "51G*"}, 400), ({"within_s": 0}, 422), ({"end": WINDOW["start"]}, 400)],
)
def test_bad_cotravel_requests(
    client: TestClient, world: World, params: dict[str, Any], status: int
) -> None:
    assert cotravel(client, world, **params).status_code == status


def test_bad_stakeouts_and_access(client: TestClient, world: World) -> None:
    start = SEEN.isoformat()
    long_window = {
        "cameras": [world.camera_a],
        "start": start,
        "end": (SEEN + timedelta(days=2)).isoformat(),
    }
    too_long = stakeout(client, world, windows=[long_window])
    assert too_long.status_code == 400 and "longer than" in too_long.json()["detail"]
    assert stakeout(client, world, windows=[]).status_code == 422
    assert stakeout(client, world, windows=[long_window], min_windows=3).status_code == 400
    for who in ("dispatcher", "auditor", "service"):
        assert stakeout(client, world, who, windows=[long_window]).status_code == 403
        assert cotravel(client, world, who).status_code == 403
    assert cotravel(client, world, "anonymous").status_code == 401
    bare = client.get(
        "/cotravel", params={**WINDOW, "plate": PLATE}, headers=world.headers["admin"]
    )
    assert bare.status_code == 400
