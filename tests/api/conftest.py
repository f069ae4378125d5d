"""The API under test: one app for the session whose requests run inside the test's own
transaction (a savepoint per request, as the API's database role), so every test starts from
the same world and leaves nothing behind. ``world`` holds two agencies, a camera and a
sighting for each, a user of every role, and service keys.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, text

from api.deps import assume_api_role, get_conn
from api.main import create_app
from api.security import hash_api_key, hash_password, issue_token
from platetrace.settings import Settings
from store.api_keys import NewApiKey, create_api_key
from store.cameras import NewCamera, create_camera
from store.evidence import save_evidence
from store.sightings import NewSighting, add_sightings, sightings_by_plate
from store.users import NewUser, Role, create_agency, create_user, grant_cameras

PASSWORD = "correct horse battery staple"
# One argon2 hash for every test user: hashing is deliberately slow.
PASSWORD_HASH = hash_password(PASSWORD)
SERVICE_KEY = "ptk_test-service-key-for-all-cameras-000000000"
SERVICE_KEY_B = "ptk_test-service-key-for-agency-b-cameras-0000"


@pytest.fixture(scope="session")
def api_settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path_factory.mktemp("var"),
    )


@pytest.fixture(scope="session")
def app(api_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(api_settings)
    yield application
    application.state.engine.dispose()
    application.state.redis.close()


@contextmanager
def as_api_role(conn: Connection, settings: Settings) -> Iterator[None]:
    """Work in a savepoint as the API's database role; the test itself stays superuser."""
    with conn.begin_nested():
        assume_api_role(conn, settings)
        yield
        conn.execute(text("RESET ROLE"))


@contextmanager
def on_test_transaction(app: FastAPI, conn: Connection) -> Iterator[None]:
    """Route the app's requests into ``conn``'s transaction, one savepoint each."""

    def test_conn() -> Iterator[Connection]:
        with as_api_role(conn, app.state.settings):
            yield conn

    app.dependency_overrides[get_conn] = test_conn
    try:
        yield
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def client(app: FastAPI, conn: Connection, redis_client: redis.Redis) -> Iterator[TestClient]:
    """A client whose requests see (and roll back with) the test's transaction."""
    with on_test_transaction(app, conn):
        yield TestClient(app, raise_server_exceptions=False)


@dataclass(frozen=True)
class World:
    agency_a: int
    agency_b: int
    camera_a: int
    camera_b: int
    camera_idle: int  # agency A's, never saw anything
    sighting_a: int
    sighting_b: int
    plate: str
    users: dict[str, int]  # username -> id
    service_key_id: int
    headers: dict[str, dict[str, str]]  # who -> request headers


# Everyone the tests act as: a user name -> (role, agency), plus two service keys.
PEOPLE = {
    "admin": (Role.ADMIN, None),
    "investigator": (Role.INVESTIGATOR, "A"),
    "dispatcher": (Role.DISPATCHER, "A"),
    "operator": (Role.OPERATOR, "A"),
    "auditor": (Role.AUDITOR, None),
    "investigator-b": (Role.INVESTIGATOR, "B"),
}


@pytest.fixture
def world(conn: Connection, api_settings: Settings) -> World:
    agencies = {
        "A": create_agency(conn, code="PC-THUDUC", name="Thủ Đức police").id,
        "B": create_agency(conn, code="PC-DISTRICT1", name="District 1 police").id,
    }
    cam_a = create_camera(
        conn, NewCamera(code="HCM-TD-W07-0012", name="Võ Văn Ngân", lat=10.85, lon=106.77)
    )
    cam_b = create_camera(
        conn, NewCamera(code="HCM-Q1-W01-0001", name="Lê Lợi", lat=10.77, lon=106.70)
    )
    idle = create_camera(
        conn, NewCamera(code="HCM-TD-W07-0013", name="Idle", lat=10.86, lon=106.78)
    )
    grant_cameras(conn, agencies["A"], [cam_a.id, idle.id])
    evidence = save_evidence(api_settings.evidence_dir, png_bytes(), max_bytes=1 << 20)
    grant_cameras(conn, agencies["B"], [cam_b.id])
    seen = datetime.now(UTC) - timedelta(hours=1)
    plate = "51F12345"
    # As the API would: the staging temp table belongs to whichever role creates it first.
    with as_api_role(conn, api_settings):
        add_sightings(
            conn,
            [
                NewSighting(
                    ingest_key=f"world-{cam.id}",
                    camera_id=cam.id,
                    plate=plate,
                    plate_raw="51F-123.45",
                    country="VN",
                    confidence=0.9,
                    observed_at=seen + timedelta(minutes=i),
                    evidence_key=evidence,
                )
                for i, cam in enumerate((cam_a, cam_b))
            ],
        )
    by_camera = {
        s.camera_id: s.id for s in sightings_by_plate(conn, plate, seen, seen + timedelta(hours=1))
    }
    users: dict[str, int] = {}
    headers: dict[str, dict[str, str]] = {}
    for name, (role, agency) in PEOPLE.items():
        user = create_user(
            conn,
            NewUser(
                username=name,
                password_hash=PASSWORD_HASH,
                role=role,
                agency_id=agencies[agency] if agency else None,
            ),
        )
        users[name] = user.id
        token = issue_token(user.id, api_settings).token
        headers[name] = {"Authorization": f"Bearer {token}"}
    key = create_api_key(
        conn, NewApiKey(name="fleet", prefix="ptk_test", key_hash=hash_api_key(SERVICE_KEY))
    )
    create_api_key(
        conn,
        NewApiKey(
            name="agency-b-worker",
            prefix="ptk_test",
            key_hash=hash_api_key(SERVICE_KEY_B),
            agency_id=agencies["B"],
        ),
    )
    headers["service"] = {"X-API-Key": SERVICE_KEY}
    headers["service-b"] = {"X-API-Key": SERVICE_KEY_B}
    headers["anonymous"] = {}
    return World(
        agency_a=agencies["A"],
        agency_b=agencies["B"],
        camera_a=cam_a.id,
        camera_b=cam_b.id,
        camera_idle=idle.id,
        sighting_a=by_camera[cam_a.id],
        sighting_b=by_camera[cam_b.id],
        plate=plate,
        users=users,
        service_key_id=key.id,
        headers=headers,
    )


PURPOSE = {"reason": "stolen vehicle report", "case_id": "HCM-2026-000123"}


def png_bytes(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 24), colour).save(buffer, format="PNG")
    return buffer.getvalue()
