from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Connection, select

from api.ratelimit import hit
from api.routes.auth import LOGIN_ATTEMPTS_PER_MINUTE
from api.security import (
    InvalidToken,
    hash_password,
    issue_token,
    new_api_key,
    token_user_id,
    verify_password,
)
from platetrace.settings import Settings
from store.api_keys import ApiKey, revoke_api_key
from store.users import update_user
from tests.api.conftest import PASSWORD, World


def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    response = client.post("/auth/token", data={"username": username, "password": password})
    return int(response.status_code)


def test_password_flow_issues_a_working_short_lived_token(
    client: TestClient, world: World, api_settings: Settings
) -> None:
    response = client.post("/auth/token", data={"username": "investigator", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(0) < lifetime <= timedelta(minutes=api_settings.access_token_minutes)
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "id": world.users["investigator"],
        "name": "investigator",
        "role": "investigator",
        "agency_id": world.agency_a,
    }


@pytest.mark.parametrize(
    ("username", "password"),
    [("investigator", "wrong password!"), ("nobody", PASSWORD), ("", ""), ("investigator", "")],
)
def test_wrong_credentials_are_refused(
    client: TestClient, world: World, username: str, password: str
) -> None:
    assert login(client, username, password) in (401, 422)
    if username and password:
        assert login(client, username, password) == 401


def test_a_deactivated_user_can_neither_sign_in_nor_use_an_old_token(
    client: TestClient, world: World, conn: Connection
) -> None:
    update_user(conn, world.users["dispatcher"], active=False)
    assert login(client, "dispatcher") == 401
    response = client.get("/auth/me", headers=world.headers["dispatcher"])
    assert response.status_code == 401
    assert response.json() == {"detail": "user is deactivated"}


def test_missing_expired_forged_and_foreign_tokens_get_401(
    client: TestClient, world: World, api_settings: Settings
) -> None:
    user = world.users["admin"]
    expired = issue_token(user, api_settings, now=datetime.now(UTC) - timedelta(hours=2)).token
    foreign = issue_token(user, api_settings.model_copy(update={"secret_key": SecretStr("x" * 40)}))
    valid = issue_token(user, api_settings).token
    forged = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
    for headers in (
        {},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {foreign.token}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer not-a-jwt"},
    ):
        response = client.get("/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert isinstance(response.json()["detail"], str)


def test_a_token_of_a_deleted_user_id_gets_401(client: TestClient, api_settings: Settings) -> None:
    token = issue_token(999_999, api_settings).token
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_service_keys_authenticate_until_revoked(
    client: TestClient, world: World, conn: Connection
) -> None:
    me = client.get("/auth/me", headers=world.headers["service"])
    assert me.status_code == 200
    assert me.json()["role"] == "service"
    revoke_api_key(conn, world.service_key_id)
    assert client.get("/auth/me", headers=world.headers["service"]).status_code == 401
    assert client.get("/auth/me", headers={"X-API-Key": "ptk_made-up"}).status_code == 401


def test_api_keys_are_stored_only_as_hashes(
    client: TestClient, world: World, conn: Connection
) -> None:
    created = client.post("/api-keys", json={"name": "worker 7"}, headers=world.headers["admin"])
    assert created.status_code == 201
    key = created.json()["key"]
    stored = conn.execute(
        select(ApiKey.key_hash, ApiKey.prefix).where(ApiKey.id == created.json()["id"])
    ).one()
    assert key not in stored.key_hash and stored.key_hash != key
    assert key.startswith(stored.prefix)
    assert client.get("/auth/me", headers={"X-API-Key": key}).json()["name"] == "worker 7"
    listed = client.get("/api-keys", headers=world.headers["admin"]).text
    assert key not in listed


def test_password_hashes_are_argon2_and_verify() -> None:
    hashed = hash_password("s3cret passphrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret passphrase")
    assert not verify_password(hashed, "s3cret passphrasE")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_token_round_trip_and_rejections(api_settings: Settings) -> None:
    token = issue_token(42, api_settings).token
    assert token_user_id(token, api_settings) == 42
    with pytest.raises(InvalidToken):
        token_user_id(token + "x", api_settings)


def test_new_api_keys_are_random_and_hashed() -> None:
    one, two = new_api_key(), new_api_key()
    assert one.plaintext != two.plaintext
    assert one.key_hash != one.plaintext and len(one.key_hash) == 64
    assert one.plaintext.startswith(one.prefix)


def test_sign_ins_per_username_are_rate_limited(
    client: TestClient, world: World, redis_client: redis.Redis
) -> None:
    # A minute's attempts, counted as the route counts them. (Ten real sign-ins would spend
    # seconds in argon2, time enough for a concurrent test session to flush the shared Redis.)
    for _ in range(LOGIN_ATTEMPTS_PER_MINUTE):
        assert hit(redis_client, "login:investigator", limit=LOGIN_ATTEMPTS_PER_MINUTE) is None
    assert login(client, "investigator") == 429  # even the right password waits now
    assert login(client, "dispatcher") == 200  # other accounts are unaffected
