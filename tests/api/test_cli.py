"""The API's commands, on committed data: ``users add``, ``serve`` (a real server process)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from platetrace.cli import app as cli
from store.users import find_user, get_agency_by_code
from tests.conftest import ROOT

runner = CliRunner()
PASSWORD = "a long admin password"


def add(*args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = runner.invoke(cli, ["users", "add", *args, "--password", password])
    return result.exit_code, result.output


def test_users_add_creates_the_first_admin_and_agency_users(clean_engine: Engine) -> None:
    assert add("root", "--role", "admin")[0] == 0
    code, output = add(
        "lan.nguyen",
        "--role",
        "investigator",
        "--agency",
        "PC-TD",
        "--agency-name",
        "Thủ Đức police",
    )
    assert code == 0, output
    with clean_engine.connect() as conn:
        user = find_user(conn, "lan.nguyen")
        assert user is not None and user.agency_id == get_agency_by_code(conn, "PC-TD").id
        root = find_user(conn, "root")
        assert root is not None and root.password_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["root", "--role", "admin"], "short", "at least 12"),
        (["root", "--role", "wizard"], PASSWORD, "unknown role"),
        (["root", "--role", "service"], PASSWORD, "API keys"),
        (["op", "--role", "operator"], PASSWORD, "must belong to an agency"),
        (["op", "--role", "operator", "--agency", "NOPE"], PASSWORD, "does not exist"),
        (["Bad Name", "--role", "admin"], PASSWORD, "username"),
    ],
)
def test_users_add_refuses_bad_input_in_one_line(
    clean_engine: Engine, args: list[str], password: str, message: str
) -> None:
    code, output = add(*args, password=password)
    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_users_add_refuses_a_taken_name(clean_engine: Engine) -> None:
    assert add("root", "--role", "admin")[0] == 0
    code, output = add("root", "--role", "auditor")
    assert code == 2 and "taken" in output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(clean_engine: Engine) -> Iterator[str]:
    assert add("root", "--role", "admin")[0] == 0
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/platetrace"),
            "serve",
            "--port",
            str(port),
            "--as-role",
            "platetrace_api",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("platetrace serve did not come up within 30 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_serve_runs_the_api_as_its_database_role(server: str) -> None:
    token = httpx.post(
        f"{server}/auth/token", data={"username": "root", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    camera = {"code": "HCM-TD-W07-0012", "name": "Võ Văn Ngân", "lat": 10.85, "lon": 106.77}
    created = httpx.post(f"{server}/cameras", json=camera, headers=headers)
    assert created.status_code == 201
    # Committed before the response: a second request (another connection) sees it.
    assert httpx.get(f"{server}/cameras/{created.json()['id']}", headers=headers).status_code == 200
    key = httpx.post(f"{server}/api-keys", json={"name": "w"}, headers=headers).json()["key"]
    batch = {
        "sightings": [
            {
                "ingest_key": "live-1",
                "camera_id": created.json()["id"],
                "plate": "51F12345",
                "plate_raw": "51F-123.45",
                "country": "VN",
                "confidence": 0.9,
                "observed_at": "2025-06-01T08:00:00+07:00",  # a day with no partition yet
            }
        ]
    }
    ingested = httpx.post(f"{server}/sightings", json=batch, headers={"X-API-Key": key})
    assert ingested.json() == {"received": 1, "inserted": 1}
    audit = httpx.get(f"{server}/audit", headers=headers).json()
    assert [e["route"] for e in audit] == ["/sightings"]
    assert httpx.get(f"{server}/audit/verify", headers=headers).json()["intact"] is True
