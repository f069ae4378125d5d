from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select

from api.main import create_app
from api.security import issue_token
from platetrace.settings import Settings
from store.alerts import AlertRow, NewAlert, raise_alerts
from store.cameras import NewCamera, create_camera
from store.evidence import save_evidence
from store.models_alerts import WatchlistEntryModel
from store.users import NewUser, Role, create_agency, create_user, grant_cameras
from store.watchlist import NewWatchlistEntry, add_entry
from tests.api.conftest import PASSWORD_HASH, World, png_bytes
from tests.tracing.private_redis import PrivateRedis
from tracing.alerts import publish_alerts


def _entry(pattern: str = "51A12345", **body: object) -> dict[str, object]:
    return {"pattern": pattern, "reason": "stolen", "legal_basis": "HCM-2026-0042", **body}


def _entries(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(WatchlistEntryModel)).scalar_one()


def test_watchlist_crud_by_investigator(client: TestClient, world: World) -> None:
    h = world.headers["investigator"]
    created = client.post("/watchlist", json=_entry(colour="white", country="vn"), headers=h)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["kind"], entry["created_by"], entry["active"]) == ("exact", "investigator", True)
    assert entry["country"] == "VN"

    changed = client.patch(
        f"/watchlist/{entry['id']}", json={"pattern": "51A1234?", "priority": 1}, headers=h
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["kind"], changed.json()["priority"]) == ("wildcard", 1)

    listed = client.get("/watchlist", headers=world.headers["dispatcher"])
    assert [e["id"] for e in listed.json()] == [entry["id"]]
    expired = client.post(f"/watchlist/{entry['id']}/expire", headers=h)
    assert expired.json()["active"] is False
    assert client.get("/watchlist", headers=h).json() == []
    assert len(client.get("/watchlist?state=expired", headers=h).json()) == 1
    assert client.get("/watchlist/999999", headers=h).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (_entry("*"), 400, "not a plate"),
        (_entry("51A#2345"), 400, "not a plate"),
        (_entry(expires_at="2020-01-01T00:00:00Z"), 400, "in the past"),
        (_entry(legal_basis="   "), 400, "legal_basis is required"),
        ({"pattern": "51A12345", "reason": "stolen"}, 422, "legal_basis"),
        (_entry(max_distance=1, pattern="51A*"), 400, "wildcards"),
    ],
)
def test_bad_entries_are_refused_and_nothing_stored(
    client: TestClient,
    world: World,
    conn: Connection,
    body: dict[str, object],
    status: int,
    reason: str,
) -> None:
    response = client.post("/watchlist", json=body, headers=world.headers["investigator"])
    assert response.status_code == status
    assert reason in response.text
    assert _entries(conn) == 0


def test_dispatchers_read_but_do_not_keep_the_watchlist(client: TestClient, world: World) -> None:
    assert (
        client.post("/watchlist", json=_entry(), headers=world.headers["dispatcher"]).status_code
        == 403
    )
    assert client.get("/alerts", headers=world.headers["investigator"]).status_code == 403


def _raise(
    conn: Connection,
    camera_id: int,
    key: str,
    plate: str = "51A12345",
    evidence_key: str | None = None,
) -> AlertRow:
    entry = add_entry(
        conn,
        NewWatchlistEntry(pattern=plate, reason="stolen", legal_basis="case 1", created_by="x"),
    )
    (row,) = raise_alerts(
        conn,
        [
            NewAlert(
                entry_id=entry.id,
                ingest_key=key,
                camera_id=camera_id,
                plate=plate,
                plate_raw=plate,
                country="VN",
                confidence=0.9,
                observed_at=datetime.now(UTC) - timedelta(seconds=5),
                priority=entry.priority,
                reason=entry.reason,
                pattern=entry.pattern.text,
                fuzzy=False,
                distance=0.0,
                evidence_key=evidence_key,
            )
        ],
        quiet_window=timedelta(0),
    )
    return row


def test_dispatcher_sees_the_evidence_of_an_alert_on_their_cameras(
    client: TestClient, world: World, conn: Connection, api_settings: Settings
) -> None:
    key = save_evidence(api_settings.evidence_dir, png_bytes("blue"), max_bytes=1 << 20)
    mine = _raise(conn, world.camera_a, "e1", evidence_key=key)
    theirs = _raise(conn, world.camera_b, "e2", plate="30E99999", evidence_key=key)
    bare = _raise(conn, world.camera_a, "e3", plate="51A55555")
    h = world.headers["dispatcher"]
    shown = client.get(f"/alerts/{mine.id}/evidence", headers=h)
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "image/png"
    assert shown.content == png_bytes("blue")
    assert client.get(f"/alerts/{theirs.id}/evidence", headers=h).status_code == 404
    assert "no evidence" in client.get(f"/alerts/{bare.id}/evidence", headers=h).text
    assert client.get(f"/alerts/{mine.id}/evidence").status_code == 401
    investigator = world.headers["investigator"]
    assert client.get(f"/alerts/{mine.id}/evidence", headers=investigator).status_code == 403


def test_dispatcher_acknowledges_assigns_and_closes(
    client: TestClient, world: World, conn: Connection
) -> None:
    mine = _raise(conn, world.camera_a, "a1")
    theirs = _raise(conn, world.camera_b, "b1", plate="30E99999")
    h = world.headers["dispatcher"]
    assert [a["id"] for a in client.get("/alerts", headers=h).json()] == [mine.id]
    assert client.get(f"/alerts/{theirs.id}", headers=h).status_code == 404
    assert client.post(f"/alerts/{theirs.id}/acknowledge", headers=h).status_code == 404

    body = client.get(f"/alerts/{mine.id}", headers=h).json()
    assert body["camera"] == {
        "id": world.camera_a,
        "code": "HCM-TD-W07-0012",
        "name": "Võ Văn Ngân",
        "lat": pytest.approx(10.85),
        "lon": pytest.approx(106.77),
    }
    assert body["entry"]["reason"] == "stolen"
    acked = client.post(f"/alerts/{mine.id}/acknowledge", headers=h).json()
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "dispatcher")
    assigned = client.post(f"/alerts/{mine.id}/assign", json={"assignee": "unit 7"}, headers=h)
    assert assigned.json()["assignee"] == "unit 7"
    assert client.post(f"/alerts/{mine.id}/close", json={}, headers=h).status_code == 422
    closed = client.post(f"/alerts/{mine.id}/close", json={"outcome": "stopped"}, headers=h)
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "stopped")
    again = client.post(f"/alerts/{mine.id}/close", json={"outcome": "again"}, headers=h)
    assert again.status_code == 409
    assert "closed" in again.json()["detail"]
    assert [a["id"] for a in client.get("/alerts?status=closed", headers=h).json()] == [mine.id]


def test_stream_refuses_a_malformed_last_event_id(client: TestClient, world: World) -> None:
    response = client.get(
        "/alerts/stream", headers={**world.headers["dispatcher"], "Last-Event-ID": "yesterday"}
    )
    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["detail"]


# --- Server-Sent Events over a real server ------------------------------------------------


@pytest.fixture
def live(
    clean_engine: Engine, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, PrivateRedis, dict[str, str], list[int]]]:
    """A uvicorn server on a free port, a Redis of its own, a dispatcher of agency A, and
    cameras [A's, B's]."""
    with clean_engine.begin() as conn:
        agency_a = create_agency(conn, code="PC-THUDUC", name="Thu Duc police").id
        agency_b = create_agency(conn, code="PC-Q1", name="District 1 police").id
        cam_a = create_camera(
            conn, NewCamera(code="HCM-TD-W07-0012", name="A", lat=10.85, lon=106.77)
        )
        cam_b = create_camera(
            conn, NewCamera(code="HCM-Q1-W01-0001", name="B", lat=10.77, lon=106.70)
        )
        grant_cameras(conn, agency_a, [cam_a.id])
        grant_cameras(conn, agency_b, [cam_b.id])
        user = create_user(
            conn,
            NewUser(
                username="disp",
                password_hash=PASSWORD_HASH,
                role=Role.DISPATCHER,
                agency_id=agency_a,
            ),
        )
    with PrivateRedis(tmp_path) as private:
        settings = Settings(database_url=database_url, redis_url=private.url, data_dir=tmp_path)
        application = create_app(settings)
        config = uvicorn.Config(application, host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {issue_token(user.id, settings).token}"}
        try:
            yield f"http://127.0.0.1:{port}", private, headers, [cam_a.id, cam_b.id]
        finally:
            server.should_exit = True
            thread.join(10)
            application.state.engine.dispose()


def _read_events(lines: Iterator[str], n: int) -> Iterator[tuple[str, str, str]]:
    """(id, event, data) of the next ``n`` events; comments and ``retry`` are skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        if line:
            name, _, value = line.partition(": ")
            fields[name] = value
            continue
        if "id" in fields:
            yield fields["id"], fields["event"], fields["data"]
            n -= 1
            if n == 0:
                return
        fields = {}


def test_reconnect_with_last_event_id_replays_each_missed_alert_once_in_order(
    clean_engine: Engine, live: tuple[str, PrivateRedis, dict[str, str], list[int]]
) -> None:
    base, private, headers, (cam_a, cam_b) = live
    redis_client = private.client()

    def publish(keys: list[str], camera: int = cam_a) -> None:
        with clean_engine.begin() as conn:
            rows = [_raise(conn, camera, k, plate=f"51A{i:05d}") for i, k in enumerate(keys)]
        publish_alerts(redis_client, rows)

    timeout = httpx.Timeout(10.0)
    with httpx.Client(base_url=base, headers=headers, timeout=timeout) as http:
        with http.stream("GET", "/alerts/stream") as first:
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
            lines = first.iter_lines()
            assert next(lines) == "retry: 1000"
            publish(["k1", "k2"])
            publish(["other"], camera=cam_b)  # agency B's camera: never shown to A
            publish(["k3"])
            seen = list(_read_events(lines, 3))
        assert [e for _, e, _ in seen] == ["alert"] * 3
        assert [d.count('"ingest_key":"k') for _, _, d in seen] == [1, 1, 1]

        publish([f"m{i}" for i in range(5)])  # while the dispatcher was away
        last_id = seen[-1][0]
        with http.stream("GET", "/alerts/stream", headers={"Last-Event-ID": last_id}) as again:
            lines = again.iter_lines()
            missed = list(_read_events(lines, 5))
            publish(["live"])
            (after,) = _read_events(lines, 1)
    ids = [i for i, _, _ in seen + missed + [after]]
    assert ids == sorted(ids, key=lambda s: tuple(map(int, s.split("-"))))
    assert len(set(ids)) == len(ids)
    keys = [d.split('"ingest_key":"')[1].split('"')[0] for _, _, d in seen + missed + [after]]
    assert keys == ["k1", "k2", "k3", "m0", "m1", "m2", "m3", "m4", "live"]
