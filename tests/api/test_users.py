from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World

NEW_USER = {"username": "minh.le", "password": "twelve chars!", "role": "dispatcher"}


def test_admin_manages_users(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    created = client.post("/users", json={**NEW_USER, "agency_id": world.agency_a}, headers=headers)
    assert created.status_code == 201, created.text
    user = created.json()
    assert "password" not in created.text and "hash" not in created.text
    assert client.get(f"/users/{user['id']}", headers=headers).json() == user
    assert (
        client.post(
            "/auth/token", data={"username": "minh.le", "password": "twelve chars!"}
        ).status_code
        == 200
    )

    patched = client.patch(
        f"/users/{user['id']}",
        json={"active": False, "password": "another long one"},
        headers=headers,
    )
    assert patched.json()["active"] is False
    assert (
        client.post(
            "/auth/token", data={"username": "minh.le", "password": "another long one"}
        ).status_code
        == 401
    )  # deactivated
    listed = client.get("/users", params={"limit": 500}, headers=headers).json()
    assert user["id"] in {u["id"] for u in listed}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({**NEW_USER, "password": "short"}, 422, "at least 12"),
        ({**NEW_USER, "role": "superuser"}, 422, "role"),
        ({**NEW_USER, "role": "service"}, 400, "API keys"),
        ({**NEW_USER}, 400, "must belong to an agency"),
        ({**NEW_USER, "agency_id": 999_999}, 404, "agency"),
        ({**NEW_USER, "username": "Has Spaces", "role": "auditor"}, 400, "username"),
        ({**NEW_USER, "username": "admin", "role": "auditor"}, 400, "taken"),
    ],
)
def test_bad_users_are_refused(
    client: TestClient, world: World, body: dict[str, Any], status: int, message: str
) -> None:
    response = client.post("/users", json=body, headers=world.headers["admin"])
    assert response.status_code == status, response.text
    assert message in response.text


def test_user_updates_are_validated(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    target = world.users["auditor"]
    assert (
        client.patch(f"/users/{target}", json={"role": "operator"}, headers=headers).status_code
        == 400
    )
    assert client.patch("/users/999999", json={"active": True}, headers=headers).status_code == 404
    assert (
        client.patch(f"/users/{target}", json={"active": "maybe"}, headers=headers).status_code
        == 422
    )
    assert client.get("/users", params={"limit": 501}, headers=headers).status_code == 400


def test_agencies_and_their_cameras(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    created = client.post(
        "/agencies", json={"code": "CITY-TRAFFIC", "name": "Traffic dept"}, headers=headers
    )
    assert created.status_code == 201
    agency = created.json()["id"]
    assert agency in {a["id"] for a in client.get("/agencies", headers=headers).json()}
    grant = client.post(
        f"/agencies/{agency}/cameras",
        json={"camera_ids": [world.camera_a, world.camera_b]},
        headers=headers,
    )
    assert grant.json() == {"granted": 2}
    assert client.get(f"/agencies/{agency}/cameras", headers=headers).json() == sorted(
        [world.camera_a, world.camera_b]
    )
    revoke = client.delete(f"/agencies/{agency}/cameras/{world.camera_b}", headers=headers)
    assert revoke.status_code == 204
    assert client.get(f"/agencies/{agency}/cameras", headers=headers).json() == [world.camera_a]
    again = client.delete(f"/agencies/{agency}/cameras/{world.camera_b}", headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/agencies", {"code": "lower", "name": "x"}, 400),
        ("POST", "/agencies", {"code": "PC-THUDUC", "name": "dup"}, 400),
        ("POST", "/agencies", {"code": "X" * 40, "name": "x"}, 422),
        ("POST", "/agencies/{a}/cameras", {"camera_ids": [999_999]}, 400),
        ("POST", "/agencies/{a}/cameras", {"camera_ids": [0]}, 422),
        ("POST", "/agencies/999999/cameras", {"camera_ids": []}, 404),
        ("GET", "/agencies/999999/cameras", None, 404),
        ("POST", "/api-keys", {"name": ""}, 400),
        ("POST", "/api-keys", {"name": "w", "agency_id": 999_999}, 404),
        ("DELETE", "/api-keys/999999", None, 404),
    ],
)
def test_bad_admin_requests_get_clear_errors(
    client: TestClient, world: World, method: str, path: str, body: Any, status: int
) -> None:
    url = path.replace("{a}", str(world.agency_a))
    response = client.request(method, url, json=body, headers=world.headers["admin"])
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_revoking_a_key_stops_it(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    key = client.post(
        "/api-keys", json={"name": "temp", "agency_id": world.agency_b}, headers=headers
    ).json()
    assert (
        client.get("/auth/me", headers={"X-API-Key": key["key"]}).json()["agency_id"]
        == world.agency_b
    )
    revoked = client.delete(f"/api-keys/{key['id']}", headers=headers)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/auth/me", headers={"X-API-Key": key["key"]}).status_code == 401
