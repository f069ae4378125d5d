"""``platetrace demo``: the service on the Ho Chi Minh City map, end to end.

Seeds (once; a second run reuses what is there): ~3,000 cameras placed at major
intersections with a share of them broken, a user of every role, a simulated morning of
traffic, a watchlist. Then it serves the API and the dashboard, runs an ingest worker, and
keeps driving the watchlisted car past working cameras so dispatchers see alerts arrive live.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import redis
import typer
from sqlalchemy import Connection, Engine

from platetrace.settings import Settings
from store.cameras import CameraRow, list_cameras, update_camera
from store.sightings import NewSighting

CITY = "HCM"
AGENCY = "HCM-PC"
PASSWORD = "demo-password-2026"  # noqa: S105 - development-only demo logins, printed on screen
ROLES = ("admin", "investigator", "dispatcher", "operator", "auditor")
SUSPECT_REASON = "stolen vehicle reported 06:40"
LEGAL_BASIS = "HCM-PC-2026-00412"
# Thủ Đức's survey found 40% of cameras broken; split by how they fail.
BROKEN = (("offline", 0.25), ("stale", 0.1), ("disabled", 0.05))


@dataclass(frozen=True, slots=True)
class DemoWorld:
    cameras: list[CameraRow]
    suspect: str
    trace_from: datetime
    trace_to: datetime


def morning_start(now: datetime) -> datetime:
    """07:00 in Ho Chi Minh City (UTC+7) of the latest morning that is over by ``now``."""
    local = now + timedelta(hours=7)
    start = local.replace(hour=7, minute=0, second=0, microsecond=0)
    if local < start + timedelta(hours=3):
        start -= timedelta(days=1)
    return start - timedelta(hours=7)


def seed_cameras(
    conn: Connection, graph: nx.MultiDiGraph, *, count: int, seed: int
) -> list[CameraRow]:
    from tracing.cameras import place_cameras, save_layout

    existing = [c for c in list_cameras(conn) if c.code.startswith(f"{CITY}-")]
    if existing:
        return existing
    planned = place_cameras(graph, count=count, city=CITY, strategy="intersections")
    rows = save_layout(conn, planned)
    rng = random.Random(seed)
    for row in rows:
        draw, status = rng.random(), "online"
        for name, share in BROKEN:
            if draw < share:
                status = name
                break
            draw -= share
        update_camera(conn, row.id, status=status)
    return list_cameras(conn, ids=[r.id for r in rows])


def seed_users(conn: Connection, cameras: Sequence[CameraRow]) -> None:
    from api.security import hash_password
    from store.errors import NotFound
    from store.users import (
        NewUser,
        Role,
        create_agency,
        create_user,
        find_user,
        get_agency_by_code,
        grant_cameras,
    )

    try:
        agency = get_agency_by_code(conn, AGENCY)
    except NotFound:
        agency = create_agency(conn, code=AGENCY, name="Công an TP. Hồ Chí Minh")
    grant_cameras(conn, agency.id, [c.id for c in cameras])
    for role in ROLES:
        if find_user(conn, f"demo.{role}") is None:
            in_agency = role in ("investigator", "dispatcher", "operator")
            create_user(
                conn,
                NewUser(
                    username=f"demo.{role}",
                    password_hash=hash_password(PASSWORD),
                    role=Role(role),
                    agency_id=agency.id if in_agency else None,
                ),
            )


def seed_traffic(
    conn: Connection,
    graph: nx.MultiDiGraph,
    cameras: Sequence[CameraRow],
    *,
    vehicles: int,
    seed: int,
    now: datetime,
) -> DemoWorld:
    from store.sightings import sightings_by_plate
    from store.watchlist import NewWatchlistEntry, add_entry, list_entries
    from tracing.cameras import attach_all
    from tracing.simulate import SimOptions, simulate, write_store

    start = morning_start(now)
    end = start + timedelta(hours=4)
    for entry in list_entries(conn, active=True, limit=10_000):
        if entry.reason == SUSPECT_REASON and sightings_by_plate(
            conn, entry.pattern.text, start, end
        ):
            return DemoWorld(list(cameras), entry.pattern.text, start, end)  # seeded before

    working = [c for c in cameras if c.status in ("online", "stale")]
    sites = attach_all(graph, working)
    sim = simulate(
        graph, list(sites.values()), vehicles=vehicles, start=start, seed=seed,
        options=SimOptions(misread_rate=0.02, departures_s=3 * 3600),
    )  # fmt: skip
    write_store(conn, sim)
    seen: dict[str, int] = {}
    for s in sim.sightings:
        seen[s.plate] = seen.get(s.plate, 0) + 1
    suspect = max(sorted(seen), key=lambda p: seen[p])
    add_entry(
        conn,
        NewWatchlistEntry(
            pattern=suspect, reason=SUSPECT_REASON, legal_basis=LEGAL_BASIS,
            created_by="demo.admin", priority=1,
        ),
    )  # fmt: skip
    return DemoWorld(list(cameras), suspect, start, end)


def live_suspect(
    settings: Settings, world: DemoWorld, stop: threading.Event, *, every_s: float
) -> None:
    """Drive the watchlisted car past a working camera now and then, through the ingest stream."""
    from tracing.ingest import publish_sightings

    client = redis.Redis.from_url(settings.redis_url)
    working = [c for c in world.cameras if c.status == "online"]
    rng = random.Random()
    while not stop.wait(every_s):
        camera = rng.choice(working)
        at = datetime.now(UTC).replace(microsecond=0)
        publish_sightings(
            client,
            [
                NewSighting(
                    ingest_key=f"demo-live-{camera.code}-{at:%Y%m%dT%H%M%S}", camera_id=camera.id,
                    plate=world.suspect, plate_raw=world.suspect, country="VN",
                    confidence=0.94, observed_at=at, colour="white", colour_confidence=0.8,
                )
            ],
        )  # fmt: skip


def run_demo(
    settings: Settings,
    *,
    city: Path,
    cameras: int,
    vehicles: int,
    seed: int,
    every_s: float,
    serve: bool,
) -> None:
    import uvicorn

    from api.main import create_app
    from api.routes.map import build_road_layer
    from store.db import make_engine
    from store.migrate import upgrade
    from tracing.graph import load_graph
    from tracing.ingest import IngestWorker, consumer_name

    typer.echo("migrating the database …")
    upgrade(settings.database_url)
    typer.echo(f"loading the road graph of {city.name} …")
    graph = load_graph(city)
    build_road_layer(city, cache_dir=settings.data_dir / "cache", graph=graph)
    engine: Engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        rows = seed_cameras(conn, graph, count=cameras, seed=seed)
        seed_users(conn, rows)
    typer.echo(f"{len(rows)} cameras, {sum(c.status != 'online' for c in rows)} of them not online")
    typer.echo(f"simulating a morning of {vehicles} vehicles …")
    with engine.begin() as conn:
        world = seed_traffic(conn, graph, rows, vehicles=vehicles, seed=seed, now=now)

    url = f"http://{settings.host}:{settings.port}/"
    typer.echo(
        f"\nplatetrace demo at {url}\n"
        + "".join(f"  {role:<13} demo.{role} / {PASSWORD}\n" for role in ROLES)
        + f"watchlisted plate {world.suspect}: trace it from {world.trace_from:%Y-%m-%d %H:%M} "
        f"to {world.trace_to:%H:%M} UTC; it passes a camera every {every_s:.0f} s (alerts)\n"
        "Map data © OpenStreetMap contributors (ODbL)."
    )
    if not serve:
        return
    stop = threading.Event()
    worker = IngestWorker(
        engine, redis.Redis.from_url(settings.redis_url), consumer=consumer_name()
    )
    threads = [
        threading.Thread(target=worker.run, args=(stop,), daemon=True),
        threading.Thread(
            target=live_suspect,
            args=(settings, world, stop),
            kwargs={"every_s": every_s},
            daemon=True,
        ),
    ]
    for t in threads:
        t.start()
    try:
        uvicorn.run(
            create_app(settings), host=settings.host, port=settings.port, log_level="warning"
        )
    finally:
        stop.set()
