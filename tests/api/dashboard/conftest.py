"""A live service for the dashboard's browser tests: uvicorn and an ingest worker as real
subprocesses on 127.0.0.1, over PostGIS and Redis seeded with the HCM map's 3,094 cameras
(placed by the tracing package's layout tool, a share of them broken), a user of each role,
a plate's drive past several cameras, and a watchlisted plate.

Data is committed (the server is another process) and every table is emptied afterwards.
The road graph is cached in ``var/cache`` beside the project, so only the first run on a
machine pays for parsing the city's OSM file.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import httpx
import networkx as nx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Playwright, sync_playwright
from sqlalchemy import Engine, update

from api.security import hash_password
from store.cameras import NewCamera, create_cameras
from store.evidence import save_evidence
from store.models import Camera
from store.sightings import NewSighting, add_sightings
from store.users import NewUser, Role, create_agency, create_user, grant_cameras
from store.watchlist import NewWatchlistEntry, add_entry
from tests.conftest import ROOT, _truncate_all, require_shared_data
from tests.tracing.private_redis import PrivateRedis
from tracing.cameras import PlannedCamera, place_cameras
from tracing.graph import haversine_m, load_graph

CAMERAS = 3094
PASSWORD = "dashboard-test-password"
ROLES = ("admin", "investigator", "dispatcher", "operator", "auditor")
ROUTE_PLATE = "51F24680"
WATCHED_PLATE = "59X77777"
CASE = {"reason": "hit and run on Điện Biên Phủ", "case_id": "HCM-2026-000777"}
CACHE = ROOT / "var" / "cache"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Seeded:
    cameras: int
    broken: int
    route: tuple[str, ...]  # camera codes the route plate passed, in order
    route_start: datetime
    clone_camera: str  # where a clone of the route plate was seen: impossible travel
    alert_camera_id: int


@dataclass(frozen=True)
class Live:
    url: str
    redis_url: str
    seeded: Seeded


def plate_image(text: str) -> bytes:
    """A stand-in evidence crop: the plate's characters on a white plate."""
    image = Image.new("RGB", (160, 48), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((1, 1, 158, 46), outline="black", width=2)
    draw.text((18, 14), text, fill="black", font_size=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _status(index: int) -> str:
    # About a fifth broken, like a city that has not replaced its dead cameras yet.
    if index % 9 == 4:
        return "offline"
    if index % 13 == 6:
        return "stale"
    if index % 50 == 17:
        return "disabled"
    return "online"


def _drive(
    graph: nx.MultiDiGraph, planned: list[PlannedCamera], ids: list[int]
) -> tuple[list[tuple[int, float]], int]:
    """Cameras a vehicle passes on a fastest path across town, with seconds since the start,
    and a camera far from where it ended (where its clone is seen)."""
    at_node: dict[int, int] = {}
    for camera, camera_id in zip(planned, ids, strict=True):
        at_node.setdefault(camera.node, camera_id)
    first, last = planned[0], planned[0]
    for candidate in planned[1:400]:
        metres = haversine_m(first.lon, first.lat, candidate.lon, candidate.lat)
        if 2500 < metres < 3500:
            last = candidate
            break
    path = nx.shortest_path(graph, first.node, last.node, weight="travel_time")
    passed: list[tuple[int, float]] = [(at_node[first.node], 0.0)]
    elapsed = 0.0
    for u, v in pairwise(path):
        # Real traffic is slower than free flow; the route fit expects that.
        elapsed += min(d["travel_time"] for d in graph[u][v].values()) * 1.5
        if v in at_node and elapsed - passed[-1][1] > 45:
            passed.append((at_node[v], elapsed))
    far = max(planned, key=lambda c: haversine_m(last.lon, last.lat, c.lon, c.lat))
    return passed, ids[planned.index(far)]


def _seed(engine: Engine, graph: nx.MultiDiGraph, evidence_dir: Path) -> Seeded:
    planned = place_cameras(graph, count=CAMERAS, city="HCM")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        agency = create_agency(conn, code="PC-HCM", name="Ho Chi Minh City police")
        rows = create_cameras(
            conn,
            [
                NewCamera(
                    code=c.code,
                    name=c.name,
                    lat=c.lat,
                    lon=c.lon,
                    heading=c.heading,
                    graph_node=c.node,
                    status=_status(i),
                )
                for i, c in enumerate(planned)
            ],
        )
        ids = [r.id for r in rows]
        conn.execute(update(Camera).values(last_frame_at=now - timedelta(seconds=20)))
        conn.execute(
            update(Camera)
            .where(Camera.status.in_(("offline", "stale")))
            .values(last_frame_at=now - timedelta(hours=5))
        )
        grant_cameras(conn, agency.id, ids)
        password_hash = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
        for role in ROLES:
            create_user(
                conn,
                NewUser(
                    username=role,
                    password_hash=password_hash,
                    role=Role(role),
                    agency_id=None if role in ("admin", "auditor") else agency.id,
                ),
            )
        passed, clone_at = _drive(graph, planned, ids)
        start = now - timedelta(hours=2)
        evidence = save_evidence(evidence_dir, plate_image("51F-246.80"), max_bytes=1 << 20)
        drive = [
            NewSighting(
                ingest_key=f"e2e-route-{i}",
                camera_id=camera_id,
                plate=ROUTE_PLATE,
                plate_raw="51F-246.80",
                country="VN",
                confidence=0.93,
                observed_at=start + timedelta(seconds=seconds),
                colour="white",
                colour_confidence=0.8,
                evidence_key=evidence,
            )
            for i, (camera_id, seconds) in enumerate(passed)
        ]
        clone = NewSighting(
            ingest_key="e2e-route-clone",
            camera_id=clone_at,
            plate=ROUTE_PLATE,
            plate_raw="51F-246.80",
            country="VN",
            confidence=0.9,
            observed_at=drive[-1].observed_at + timedelta(seconds=60),
            colour="white",
            evidence_key=evidence,
        )
        add_sightings(conn, [*drive, clone])
        add_entry(
            conn,
            NewWatchlistEntry(
                pattern=WATCHED_PLATE,
                reason="stolen motorbike, armed suspect",
                legal_basis="warrant HCM-W-2026-0042",
                created_by="admin",
                priority=1,
            ),
        )
    code_of = {r.id: r.code for r in rows}
    return Seeded(
        cameras=len(rows),
        broken=sum(1 for r in rows if r.status in ("offline", "stale")),
        route=tuple(code_of[camera_id] for camera_id, _ in passed),
        route_start=start,
        clone_camera=code_of[clone_at],
        alert_camera_id=passed[0][0],
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not come up in {timeout_s} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def live(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    city = require_shared_data(require_shared_data() / "osm" / "hcm_2018.osm.pbf")
    data_dir = tmp_path_factory.mktemp("dashboard-var")
    CACHE.mkdir(parents=True, exist_ok=True)
    (data_dir / "cache").symlink_to(CACHE, target_is_directory=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PLATETRACE_CITY_OSM": str(city),
        "PLATETRACE_DATA_DIR": str(data_dir),
    }
    # A Redis of the module's own: the live ingest worker and the SSE stream block on their
    # streams for the whole module, and other test sessions flush the shared test database.
    streams = PrivateRedis(data_dir)
    streams.start()
    env["PLATETRACE_REDIS_URL"] = streams.url
    logs = data_dir / "logs"
    logs.mkdir()
    with (
        (logs / "server.log").open("wb") as server_log,
        (logs / "ingest.log").open("wb") as ingest_log,
    ):
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        ingest = subprocess.Popen(
            [str(Path(sys.executable).parent / "platetrace"), "ingest", "--batch", "50"],
            cwd=ROOT,
            env=env,
            stdout=ingest_log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Seeding while the service starts: neither needs the other until the first page.
            _truncate_all(engine)
            seeded = _seed(engine, load_graph(city, cache_dir=CACHE), data_dir / "evidence")
            _wait_until_up(url, server)
            yield Live(url=url, redis_url=streams.url, seeded=seeded)
        finally:
            _stop(ingest)
            _stop(server)
            streams.stop()
            _truncate_all(engine)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is required (Debian's chromium package; scripts/setup.sh)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
