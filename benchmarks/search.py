"""Investigators' search at city scale, through the real API, side by side with plain SQL.

    .venv/bin/python -m benchmarks.search --rows 100000000 --load-only  # build, ~1 h on 2 cores
    .venv/bin/python -m benchmarks.search --reuse --keep                # query the kept database

Builds ``platetrace_bench_search`` (``--database``): 3,500 cameras over Ho Chi Minh City and
``--rows`` sightings over 30 days, generated with numpy and loaded with binary COPY into the day
partitions in time order, the indexes and keys built afterwards (``benchmarks.search_data``).
The queries go through a real uvicorn server with an agency-scoped investigator's token, the
rate limiter and the audit log on, and are timed at the client: exact plate over 30 days,
wildcard (``51F*``-style prefixes and ``*1234``-style suffixes), fuzzy (OCR distance 1) and
area + 24-hour window, first page of 100 with its count.

The baseline runs the same SQL, without the API, on a copy of every tenth row that has no index
but its primary key (``sightings_baseline``). The database is dropped afterwards unless
``--keep`` or ``--load-only``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from api.security import hash_password
from benchmarks.common import free_port, print_table
from benchmarks.search_data import (
    DAYS,
    EAST,
    NORTH,
    SOUTH,
    WEST,
    load,
    make_baseline,
    without_keys_and_indexes,
)
from platetrace.settings import get_settings
from store.migrate import upgrade
from store.plate_keys import plate_neighbourhood
from store.users import NewUser, Role, create_agency, create_user, grant_cameras

PASSWORD = "benchmark password 1234"  # noqa: S105 - a throwaway user of a scratch database
CONFUSIONS = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}

Query = tuple[str, dict[str, Any]]  # kind, request body
KINDS = {
    "exact": "exact",
    "prefix": "wildcard prefix (51F*)",
    "suffix": "wildcard suffix (*1234)",
    "fuzzy": "fuzzy (distance 1)",
    "area": "area 2x2 km + 24 h",
}
# What an exact search reads: the plate index and the rows it points to.
_PREWARM = """
SELECT coalesce(sum(pg_prewarm(i.inhrelid, 'read')), 0) FROM pg_inherits i
WHERE i.inhparent IN ('sightings'::regclass, 'ix_sightings_plate_time'::regclass)
"""


@dataclass(frozen=True, slots=True)
class Scale:
    rows: int
    baseline_rows: int
    cameras: int
    size: int  # bytes on disk
    relations: list[tuple[str, int]]  # the largest tables and indexes, partitions summed


# A partition's table or index counts towards its parent's.
_RELATION_SIZES = """
SELECT coalesce(i.inhparent, c.oid)::regclass::text AS relation, sum(pg_relation_size(c.oid))
FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
WHERE c.relkind IN ('r', 'i') AND c.relnamespace = 'public'::regnamespace
GROUP BY 1 ORDER BY 2 DESC LIMIT 10
"""


def queries(
    plates: list[str], end: datetime, *, per_kind: int, seed: int, kinds: Collection[str] = KINDS
) -> list[Query]:
    """``per_kind`` random queries of each kind, shuffled; always the same ones for a seed."""
    rng = random.Random(seed)
    month = {"start": (end - timedelta(days=DAYS)).isoformat(), "end": end.isoformat()}
    out: list[Query] = []
    for _ in range(per_kind):
        plate = rng.choice(plates)
        out.append((KINDS["exact"], {**month, "plate": plate}))
        out.append((KINDS["prefix"], {**month, "plate": plate[:3] + "*"}))
        out.append((KINDS["suffix"], {**month, "plate": "*" + plate[-4:]}))
        # A plate with a character that has a look-alike (not every plate has one).
        misread_plate = plate
        while not (digits := [i for i, c in enumerate(misread_plate) if c in CONFUSIONS]):
            misread_plate = rng.choice(plates)
        i = rng.choice(digits)
        misread = misread_plate[:i] + CONFUSIONS[misread_plate[i]] + misread_plate[i + 1 :]
        out.append((KINDS["fuzzy"], {**month, "plate": misread, "max_distance": 1}))
        lon, lat = rng.uniform(WEST, EAST - 0.02), rng.uniform(SOUTH, NORTH - 0.02)
        square = [[lon, lat], [lon + 0.02, lat], [lon + 0.02, lat + 0.02], [lon, lat + 0.02]]
        day_end = end - timedelta(hours=rng.randrange(24 * DAYS - 24))
        out.append(
            (
                KINDS["area"],
                {
                    "start": (day_end - timedelta(hours=24)).isoformat(),
                    "end": day_end.isoformat(),
                    "area": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
                },
            )
        )
    rng.shuffle(out)
    # Every kind is drawn and only then filtered, so a kind's queries are the same alone as in
    # the full mix.
    wanted = {KINDS[k] for k in kinds}
    return [q for q in out if q[0] in wanted]


def baseline_sql(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The API's query as plain SQL on the unindexed copy."""
    where = ["observed_at >= :start", "observed_at < :end"]
    params: dict[str, Any] = {"start": body["start"], "end": body["end"]}
    plate = body.get("plate")
    if plate and body.get("max_distance"):
        where.append("plate = ANY(:plates)")
        params["plates"] = sorted(plate_neighbourhood(plate, body["max_distance"]))
    elif plate and "*" in plate:
        where.append("plate LIKE :pattern")
        params["pattern"] = plate.replace("*", "%")
    elif plate:
        where.append("plate = :plate")
        params["plate"] = plate
    if "area" in body:
        where.append(
            "camera_id IN (SELECT id FROM cameras_baseline WHERE "
            "ST_Intersects(location, ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326)))"
        )
        params["area"] = json.dumps(body["area"])
    condition = " AND ".join(where)
    return (
        f"SELECT * FROM sightings_baseline WHERE {condition} "
        "ORDER BY observed_at DESC, id DESC LIMIT 101; "
        f"SELECT count(*) FROM (SELECT 1 FROM sightings_baseline WHERE {condition} "
        "LIMIT 10001) c",
        params,
    )


@contextmanager
def api_server(url: str, port: int) -> Iterator[str]:
    env = {
        **os.environ,
        "PLATETRACE_DATABASE_URL": url,
        "PLATETRACE_REDIS_URL": "redis://127.0.0.1:6379/14",
        "PLATETRACE_ENVIRONMENT": "development",
        "PLATETRACE_ACCESS_TOKEN_MINUTES": "600",
        # The limiter still runs (a Redis round trip per search); the benchmark only outpaces it.
        "PLATETRACE_SEARCH_RATE_PER_MINUTE": "100000000",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
         "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if server.poll() is not None:
                raise RuntimeError(f"the API server exited with {server.returncode}")
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def percentile(values: list[float], share: float) -> float:
    # Nearest rank over n - 1 gaps (the 3rd-largest of 200 for p99), as every search table in
    # BENCHMARKS.md was computed; benchmarks.common's picks one rank higher.
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--cameras", type=int, default=3_500)
    parser.add_argument("--queries", type=int, default=200, help="per kind, through the API")
    parser.add_argument("--baseline-queries", type=int, default=30, help="per kind")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--database", default="platetrace_bench_search", help="scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="query a kept database")
    parser.add_argument(
        "--load-only", action="store_true", help="build the database, keep it, query nothing"
    )
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="default: every kind"
    )
    parser.add_argument(
        "--prewarm",
        action="store_true",
        help="first read the sightings and their plate index into memory (pg_prewarm), as on "
        "a server whose memory holds what exact searches read",
    )
    args = parser.parse_args()

    server = get_settings().database_url.rsplit("/", 1)[0]
    url = f"{server}/{args.database}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    engine = create_engine(url)
    try:
        if args.reuse:
            upgrade(url)  # a kept database follows the code's migrations
        else:
            build(admin, engine, url, args)
        if args.load_only:
            return
        with engine.connect() as conn:
            plates = list(
                conn.execute(
                    text("SELECT DISTINCT plate FROM sightings_baseline ORDER BY plate")
                ).scalars()
            )
            end = conn.execute(text("SELECT max(observed_at) FROM sightings")).scalar_one()
            scale = Scale(
                rows=conn.execute(text("SELECT count(*) FROM sightings")).scalar_one(),
                baseline_rows=conn.execute(
                    text("SELECT count(*) FROM sightings_baseline")
                ).scalar_one(),
                cameras=conn.execute(text("SELECT count(*) FROM cameras")).scalar_one(),
                size=conn.execute(text(f"SELECT pg_database_size('{args.database}')")).scalar_one(),
                relations=[(r, int(b)) for r, b in conn.execute(text(_RELATION_SIZES))],
            )
        if args.prewarm:
            prewarm(engine)
        measure(engine, url, plates, end, scale, args.port or free_port(), args)
    finally:
        engine.dispose()
        if not (args.keep or args.load_only):
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()


def build(admin: Engine, engine: Engine, url: str, args: argparse.Namespace) -> None:
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{args.database}"'))
        c.execute(text(f"ALTER DATABASE \"{args.database}\" SET maintenance_work_mem = '1GB'"))
    # COPY into the partitions bypasses the triggers that keep seen_plates: load into the schema
    # before it, and let its migration (0006) build it from the rows, as on a grown database.
    upgrade(url, "0005")
    began = time.perf_counter()
    with without_keys_and_indexes(engine, "sightings"):
        load(engine, rows=args.rows, cameras=args.cameras, seed=1)
        loaded = time.perf_counter() - began
    upgrade(url)
    indexed = time.perf_counter() - began - loaded
    make_baseline(engine)
    print(f"loaded {args.rows:,} rows in {loaded:.0f} s (binary COPY, no indexes), rebuilt the "
          f"indexes, keys and seen_plates in {indexed:.0f} s", file=sys.stderr)  # fmt: skip
    with engine.begin() as conn:
        agency = create_agency(conn, code="PC-HCM", name="City police")
        ids = list(conn.execute(text("SELECT id FROM cameras ORDER BY id")).scalars())
        # The city police may use nine cameras in ten: every search runs the agency scope.
        grant_cameras(conn, agency.id, [i for i in ids if i % 10])
        create_user(
            conn,
            NewUser(
                username="bench.investigator",
                password_hash=hash_password(PASSWORD),
                role=Role.INVESTIGATOR,
                agency_id=agency.id,
            ),
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sightings, cameras, camera_agencies"))


def prewarm(engine: Engine) -> None:
    began = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        blocks = conn.execute(text(_PREWARM)).scalar_one()
    print(f"prewarmed {blocks * 8 / 2**20:.1f} GiB in {time.perf_counter() - began:.0f} s",
          file=sys.stderr)  # fmt: skip


def measure(
    engine: Engine,
    url: str,
    plates: list[str],
    end: datetime,
    scale: Scale,
    port: int,
    args: argparse.Namespace,
) -> None:
    workload = queries(plates, end, per_kind=args.queries, seed=2, kinds=args.kinds)
    api: dict[str, list[float]] = {}
    slowest: list[tuple[float, str, str]] = []
    purpose = {"reason": "benchmark", "case_id": "BENCH-1"}
    with api_server(url, port) as base, httpx.Client(base_url=base, timeout=60) as client:
        signed_in = client.post(
            "/auth/token", data={"username": "bench.investigator", "password": PASSWORD}
        )
        signed_in.raise_for_status()
        token = signed_in.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        # Warm-up on other plates than the measured ones: connection pool, plan caches.
        for _, body in queries(plates, end, per_kind=10, seed=3, kinds=args.kinds):
            client.post("/search", params=purpose, json=body)
        # What any authenticated request costs here, before a search does anything.
        floor = [timed(lambda: client.get("/auth/me").raise_for_status()) for _ in range(100)]
        for kind, body in workload:

            def call(body: dict[str, Any] = body) -> None:
                response = client.post("/search", params=purpose, json=body)
                response.raise_for_status()

            took = timed(call)
            api.setdefault(kind, []).append(took)
            slowest.append((took, kind, body.get("plate", "")))

    base_times: dict[str, list[float]] = {}
    per_kind: dict[str, int] = {}
    with engine.connect() as conn:
        for kind, body in workload:
            if per_kind.get(kind, 0) >= args.baseline_queries:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            page_sql, params = baseline_sql(body)

            def run(page_sql: str = page_sql, params: dict[str, Any] = params) -> None:
                for statement in page_sql.split("; "):
                    conn.execute(text(statement), params).all()

            base_times.setdefault(kind, []).append(timed(run))

    print(f"{scale.rows:,} sightings over {DAYS} days, {scale.cameras:,} cameras; database "
          f"{scale.size / 2**30:.1f} GiB on disk (with the baseline copy). API: {args.queries} "
          "queries per kind through uvicorn (investigator token, agency scope, rate limiter, "
          f"audit). Baseline: {args.baseline_queries} per kind, plain SQL on "
          f"{scale.baseline_rows:,} rows, primary key only. Times in ms, first page of 100 with "
          "its count.")  # fmt: skip
    print_table(
        ["query", "API p50", "API p99", "baseline p50", "baseline p99", "p50 ratio", "p99 ratio"],
        [
            [
                kind,
                statistics.median(api[kind]),
                percentile(api[kind], 0.99),
                statistics.median(base_times[kind]),
                percentile(base_times[kind], 0.99),
                f"{statistics.median(base_times[kind]) / statistics.median(api[kind]):.0f}x",
                f"{percentile(base_times[kind], 0.99) / percentile(api[kind], 0.99):.0f}x",
            ]
            for kind in sorted(api)
        ],
    )
    print("On disk: " + ", ".join(f"{r} {b / 2**30:.2f} GiB" for r, b in scale.relations))
    print(f"API floor (GET /auth/me, token check only): p50 {statistics.median(floor):.0f} ms, "
          f"p99 {percentile(floor, 0.99):.0f} ms")  # fmt: skip
    print("slowest API queries: " + ", ".join(
        f"{kind} {plate} {took:,.0f} ms" for took, kind, plate in sorted(slowest)[-5:]
    ))  # fmt: skip


if __name__ == "__main__":
    main()
