from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from store.cameras import record_health
from store.sightings import NewSighting, add_sightings
from tests.api.conftest import World


# The hour and the window are taken when a test runs, not when the module is collected: the
# world's sightings are placed relative to that moment, and a run may cross an hour.
@pytest.fixture
def hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def day(hour: datetime) -> dict[str, str]:
    return {
        "start": (hour - timedelta(hours=23)).isoformat(),
        "end": (hour + timedelta(hours=1)).isoformat(),
    }


def seen(hour: datetime, camera_id: int, hours_ago: int, n: int) -> list[NewSighting]:
    return [
        NewSighting(
            ingest_key=f"an-{camera_id}-{hours_ago}-{i}",
            camera_id=camera_id,
            plate=f"59A{i:05d}",
            plate_raw=f"59A{i:05d}",
            country="VN",
            confidence=0.9,
            observed_at=hour - timedelta(hours=hours_ago) + timedelta(minutes=i),
        )
        for i in range(n)
    ]


@pytest.fixture
def traffic(conn: Connection, world: World, hour: datetime) -> World:
    # The world's own sightings are an hour old (B's a minute later, in this hour when the world
    # was made in an hour's last minute); add 3 five hours ago at A and 2 three hours ago at B,
    # hours no world sighting falls in.
    add_sightings(conn, seen(hour, world.camera_a, 5, 3) + seen(hour, world.camera_b, 3, 2))
    record_health(conn, world.camera_a, status="online")
    record_health(conn, world.camera_b, status="online")
    return world


def test_sightings_per_hour_are_scoped_to_the_agency(
    client: TestClient, traffic: World, day: dict[str, str]
) -> None:
    mine = client.get(
        "/analytics/sightings-per-hour", params=day, headers=traffic.headers["investigator"]
    )
    assert mine.status_code == 200, mine.text
    cells = {(c["camera_id"], c["hour"]): c["sightings"] for c in mine.json()}
    assert set(cells.values()) == {3, 1}
    assert {camera for camera, _ in cells} == {traffic.camera_a}
    assert all(datetime.fromisoformat(h).minute == 0 for _, h in cells)

    everyone = client.get(
        "/analytics/sightings-per-hour", params=day, headers=traffic.headers["admin"]
    ).json()
    assert sum(c["sightings"] for c in everyone) == 3 + 2 + 2
    only_b = client.get(
        "/analytics/sightings-per-hour",
        params={**day, "camera": [traffic.camera_b]},
        headers=traffic.headers["admin"],
    ).json()
    assert [c["sightings"] for c in only_b] == [2, 1]


def test_uptime_and_share_offline(
    client: TestClient, conn: Connection, traffic: World, day: dict[str, str]
) -> None:
    record_health(conn, traffic.camera_idle, status="offline")
    answer = client.get("/analytics/cameras", params=day, headers=traffic.headers["investigator"])
    assert answer.status_code == 200, answer.text
    health = answer.json()
    assert health["hours"] == 24
    # Agency A: camera A (online, sightings in 2 hours) and the idle one (offline, silent).
    assert health["by_status"] == {"online": 1, "stale": 0, "offline": 1, "disabled": 0}
    assert health["offline_share"] == 0.5 and health["silent_share"] == 0.5
    uptime = {c["camera_id"]: (c["active_hours"], c["uptime"]) for c in health["cameras"]}
    assert uptime == {traffic.camera_a: (2, 2 / 24), traffic.camera_idle: (0, 0.0)}

    everyone = client.get("/analytics/cameras", params=day, headers=traffic.headers["operator"])
    assert len(everyone.json()["cameras"]) == 2  # the operator is agency A's too


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end after it starts"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "longer than 31 days"),
    ],
)
def test_bad_windows_get_400(
    client: TestClient, world: World, params: dict[str, str], reason: str
) -> None:
    for path in ("/analytics/sightings-per-hour", "/analytics/cameras"):
        answer = client.get(path, params=params, headers=world.headers["admin"])
        assert answer.status_code == 400 and reason in answer.json()["detail"]


def test_malformed_and_forbidden_requests(
    client: TestClient, world: World, day: dict[str, str]
) -> None:
    path = "/analytics/sightings-per-hour"
    naive = {"start": "2026-11-01T00:00:00", "end": "2026-11-02T00:00:00"}
    assert client.get(path, params=naive, headers=world.headers["admin"]).status_code == 422
    bad_camera = {**day, "camera": "0"}
    assert client.get(path, params=bad_camera, headers=world.headers["admin"]).status_code == 422
    for who in ("auditor", "service"):
        assert client.get(path, params=day, headers=world.headers[who]).status_code == 403
    assert client.get("/analytics/cameras", params=day).status_code == 401
