from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.api.conftest import PURPOSE, World

NOW = datetime.now(UTC)
WINDOW = {"start": (NOW - timedelta(days=30)).isoformat(), "end": NOW.isoformat()}


def search(
    client: TestClient, world: World, who: str = "investigator", **body: Any
) -> tuple[int, Any]:
    response = client.post(
        "/search", params=PURPOSE, json={**WINDOW, **body}, headers=world.headers[who]
    )
    return response.status_code, response.json()


def test_investigators_see_only_their_agencys_cameras(client: TestClient, world: World) -> None:
    status, page = search(client, world, plate=world.plate)
    assert status == 200, page
    assert [h["camera_id"] for h in page["hits"]] == [world.camera_a]
    assert page["total"] == 1 and page["total_capped"] is False
    assert page["hits"][0]["camera_code"] == "HCM-TD-W07-0012"

    _, other = search(client, world, "investigator-b", plate=world.plate)
    assert [h["camera_id"] for h in other["hits"]] == [world.camera_b]
    _, everyone = search(client, world, "admin", plate=world.plate)
    assert {h["camera_id"] for h in everyone["hits"]} == {world.camera_a, world.camera_b}


def test_wildcard_and_fuzzy(client: TestClient, world: World) -> None:
    _, wild = search(client, world, "admin", plate="51F*")
    assert wild["total"] == 2
    _, fuzzy = search(client, world, "admin", plate="51F1234S", max_distance=1)
    assert [h["distance"] for h in fuzzy["hits"]] == [0.5, 0.5]
    _, far = search(client, world, "admin", plate="51F1234S")
    assert far["hits"] == []


def test_area_search_and_pages(client: TestClient, world: World) -> None:
    thu_duc = {
        "type": "Polygon",
        "coordinates": [
            [[106.7, 10.8], [106.9, 10.8], [106.9, 10.9], [106.7, 10.9], [106.7, 10.8]]
        ],
    }
    _, page = search(client, world, "admin", area=thu_duc, limit=1)
    assert [h["camera_id"] for h in page["hits"]] == [world.camera_a]
    _, first = search(client, world, "admin", plate="51F*", limit=1)
    assert first["next_cursor"] is not None
    _, second = search(client, world, "admin", plate="51F*", limit=1, cursor=first["next_cursor"])
    assert second["next_cursor"] is None and second["total"] is None
    assert first["hits"][0]["id"] != second["hits"][0]["id"]


def test_every_search_is_audited_with_its_purpose(
    client: TestClient, conn: Connection, world: World
) -> None:
    search(client, world, plate="51F*", colour="white")
    row = conn.execute(
        text("SELECT actor_name, route, params, reason, case_id, result_count FROM audit_log")
    ).one()
    assert row.actor_name == "investigator" and row.route == "/search"
    assert row.params["plate"] == "51F*" and row.params["colour"] == "white"
    assert (row.reason, row.case_id) == (PURPOSE["reason"], PURPOSE["case_id"])
    assert row.result_count == 0  # the investigator's camera saw a white-less sighting


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"plate": "*"}, "at least 3 fixed"),
        ({"plate": "5?*"}, "at least 3 fixed"),
        ({"plate": "51F*", "max_distance": 1}, "cannot contain wildcards"),
        ({"plate": "51F12345", "max_distance": 2}, "reaches more than"),
        ({}, "give a plate"),
        ({"plate": "51F12345", "start": NOW.isoformat(), "end": NOW.isoformat()}, "end after"),
        ({"plate": "51F12345", "cursor": "garbage"}, "cursor"),
        ({"plate": "51F12345", "limit": 100_000}, "limit must be at most"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                }
            },
            "not a valid polygon",
        ),
        ({"area": {"type": "Polygon", "coordinates": [[1, 2]]}}, "area"),
    ],
)
def test_bad_searches_get_400_with_a_reason(
    client: TestClient, world: World, body: dict[str, Any], reason: str
) -> None:
    status, answer = search(client, world, **body)
    assert status == 400, answer
    assert reason in answer["detail"]


def test_malformed_bodies_get_422(client: TestClient, world: World) -> None:
    assert search(client, world, plate="51F12345", start="yesterday")[0] == 422
    assert search(client, world, plate="51F12345", start="2026-11-01T00:00:00")[0] == 422
    assert search(client, world, plate="51F12345", surprise=1)[0] == 422


def test_purpose_roles_and_credentials_are_enforced(client: TestClient, world: World) -> None:
    body = {**WINDOW, "plate": world.plate}
    no_purpose = client.post("/search", json=body, headers=world.headers["investigator"])
    assert no_purpose.status_code == 400 and "purpose" in no_purpose.json()["detail"]
    half = client.post(
        "/search",
        params={"reason": "x"},
        json=body,
        headers=world.headers["investigator"],
    )
    assert half.status_code == 400
    for who in ("dispatcher", "operator", "auditor", "service"):
        assert search(client, world, who, plate=world.plate)[0] == 403, who
    assert search(client, world, "anonymous", plate=world.plate)[0] == 401


def test_searches_are_rate_limited_per_user(
    client: TestClient, world: World, api_settings: Any
) -> None:
    limit = api_settings.search_rate_per_minute
    statuses = [search(client, world, plate=world.plate)[0] for _ in range(limit + 1)]
    # A minute boundary during the loop resets the window; then the last one passes too.
    assert statuses[-1] == 429 or statuses.count(200) == limit + 1
    assert search(client, world, "admin", plate=world.plate)[0] == 200  # others unaffected
