"""Watchlist alerts end to end: sightings stream → ingest workers → alerts stream → SSE client.

    .venv/bin/python -m benchmarks.alerts --rates 500,1000,2000,3000 --seconds 30

Part 1, matching: 100,000 watchlist entries (exact, wildcard and fuzzy) of which 1,000 match
the traffic; ``tracing.watch.WatchIndex`` against the baseline, a naive matcher that scans
every entry with a plain Levenshtein distance, on the same plates (matches/s and ratio).

Part 2, end to end, one step per rate: a producer thread ``XADD``s simulated sightings at the
rate (1% carry one of the 1,000 wanted plates), ``--workers`` ``platetrace ingest`` processes
consume them, a uvicorn process serves ``/alerts/stream``, and an SSE client in this process
timestamps every alert (both in ``benchmarks.alerts_load``). Latency is from the sighting's
``XADD`` to the alert's arrival at the client, split at the alert's own ``XADD`` (its stream
id): the workers' part and the server's. Each step checks that every sighting was stored
once and every alert arrived once.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, func, insert, select

from api.security import issue_token
from benchmarks.alerts_load import HOT_SHARE, Client, produce, random_plate, wait_drained
from benchmarks.common import free_port, percentile, print_table, scratch_database
from platetrace.settings import Settings
from store.cameras import NewCamera, create_cameras
from store.models import Sighting
from store.models_alerts import AlertModel, WatchlistEntryModel
from store.users import NewUser, Role, create_user
from store.watchlist import PlatePattern, WatchlistEntry
from tracing.alerts import ALERTS_STREAM
from tracing.ingest import DEAD_LETTERS, SIGHTINGS_STREAM
from tracing.watch import WatchIndex

ENTRIES = 100_000
HOT = 1_000  # entries that traffic matches
CAMERAS = 3_500
MIX = (("exact", 0.8), ("wildcard", 0.1), ("fuzzy", 0.1))


def make_entries(rng: random.Random) -> tuple[list[WatchlistEntry], list[str]]:
    """``ENTRIES`` entries in the ``MIX``; the first ``HOT`` are the plates traffic carries.

    Cold wildcards and fuzzy entries use a series letter ("Q", "W") that traffic never has,
    so only hot entries match and the expected alert count is exact.
    """
    now = datetime.now(UTC)
    entries, hot_plates = [], []
    for i in range(ENTRIES):
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        plate = random_plate(rng)
        if i >= HOT:
            plate = plate[:2] + rng.choice("QW") + plate[3:]
        else:
            hot_plates.append(plate)
        if kind == "exact":
            pattern = PlatePattern.parse(plate)
        elif kind == "wildcard":
            pattern = PlatePattern.parse(plate[:4] + "*" + plate[-2:])
        else:
            pattern = PlatePattern.parse(plate, max_distance=rng.choice((0.5, 1.0, 1.5)))
        entries.append(
            WatchlistEntry(
                id=i + 1,
                pattern=pattern,
                priority=rng.randint(1, 5),
                reason="benchmark",
                legal_basis="bench-case",
                created_by="bench",
                colour=None,
                country=None,
                expires_at=now + timedelta(days=30),
                created_at=now,
                updated_at=now,
            )
        )
    return entries, hot_plates


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


class NaiveMatcher:
    """The baseline: every entry, every time; plain Levenshtein for fuzzy entries."""

    def __init__(self, entries: Sequence[WatchlistEntry]) -> None:
        self._entries = [(e, e.pattern, e.pattern.regex()) for e in entries]

    def match(self, plate: str) -> list[int]:
        found = []
        for entry, pattern, regex in self._entries:
            if (
                (pattern.kind == "exact" and pattern.text == plate)
                or (pattern.kind == "wildcard" and regex.fullmatch(plate))
                or (
                    pattern.kind == "fuzzy"
                    and levenshtein(pattern.text, plate) <= pattern.max_distance
                )
            ):
                found.append(entry.id)
        return found


def bench_matching(entries: list[WatchlistEntry], hot: list[str], rng: random.Random) -> None:
    began = time.perf_counter()
    index = WatchIndex(entries)
    build = time.perf_counter() - began
    plates = [
        rng.choice(hot) if rng.random() < HOT_SHARE else random_plate(rng) for _ in range(20_000)
    ]
    at = datetime.now(UTC)
    began = time.perf_counter()
    hits = sum(bool(index.match(p, at=at)) for p in plates)
    indexed = len(plates) / (time.perf_counter() - began)

    sample = plates[:40]
    naive = NaiveMatcher(entries)
    began = time.perf_counter()
    naive_hits = sum(bool(naive.match(p)) for p in sample)
    baseline = len(sample) / (time.perf_counter() - began)
    same = sum(bool(index.match(p, at=at)) for p in sample) == naive_hits
    print(f"\nmatching: {len(entries):,} entries (80% exact, 10% wildcard, 10% fuzzy), "
          f"{HOT:,} matching traffic; index built in {build:.1f} s; {hits} hits in "
          f"{len(plates):,} plates; same hits as the baseline on its sample: {same}")  # fmt: skip
    print_table(
        ["matcher", "plates", "matches/s", "ratio"],
        [
            ["WatchIndex", len(plates), indexed, f"{indexed / baseline:,.0f}x"],
            ["naive scan + Levenshtein (baseline)", len(sample), baseline, "1x"],
        ],
    )  # fmt: skip


@dataclass(frozen=True)
class Step:
    rate: int
    offered: float  # what the producer managed to send per second
    sent: int
    hot: int
    stored: int
    alerts_db: int
    received: int
    duplicates: int
    sustained: float  # sightings/s from the first XADD until all were acked
    p50: float
    p99: float
    worst: float
    p99_published: float  # of the part from the sighting's XADD to the alert's XADD
    p99_delivered: float  # of the part from the alert's XADD to the client


def run_step(engine: Engine, rds: redis.Redis, sse: Client, rate: int, seconds: float,
             cameras: Sequence[int], hot: Sequence[str], step: int) -> Step:  # fmt: skip
    began = time.monotonic()
    sent_at, hot_sent = produce(rds, rate, seconds, cameras, hot, step=step)
    offered = len(sent_at) / (time.monotonic() - began)
    drained = wait_drained(rds, time.monotonic() + max(30.0, seconds))
    drain_s = time.monotonic() - began if drained else float("inf")
    prefix = f"b{step}-%"
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count(Sighting.ingest_key.distinct())).where(
                Sighting.ingest_key.like(prefix)
            )
        ).scalar_one()
        alerts_db = conn.execute(
            select(func.count()).select_from(AlertModel).where(AlertModel.ingest_key.like(prefix))
        ).scalar_one()

    def arrived() -> list[str]:  # the client records an arrival before its publish time
        return [k for k in sent_at if k in sse.published]

    deadline = time.monotonic() + 30
    while len(arrived()) < alerts_db and time.monotonic() < deadline:
        time.sleep(0.1)
    keys = arrived()
    ms = [1000 * (sse.arrivals[k] - sent_at[k]) for k in keys] or [float("nan")]
    published = [1000 * (sse.published[k] - sent_at[k]) for k in keys] or [float("nan")]
    delivered = [1000 * (sse.arrivals[k] - sse.published[k]) for k in keys] or [float("nan")]
    return Step(rate, offered, len(sent_at), hot_sent, stored, alerts_db, len(keys),
                sse.duplicates, len(sent_at) / drain_s, statistics.median(ms),
                percentile(ms, 0.99), max(ms), percentile(published, 0.99),
                percentile(delivered, 0.99))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="500,1000,2000,3000")
    parser.add_argument("--seconds", type=float, default=30.0, help="Per rate step.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    # A timeout's SIGTERM must still run the clean-up below: no orphaned workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rates = [int(r) for r in args.rates.split(",")]
    rng = random.Random(5)
    entries, hot = make_entries(rng)
    bench_matching(entries, hot, rng)

    rds = redis.Redis.from_url(args.redis_url)
    rds.delete(SIGHTINGS_STREAM, DEAD_LETTERS, ALERTS_STREAM)
    with scratch_database("platetrace_bench_alerts") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            cams = create_cameras(conn, [
                NewCamera(code=f"KHA-C{i // 1000:02d}-W01-{i % 10000:04d}", name=f"cam {i}",
                          lat=49.99 + i * 1e-5, lon=36.23)
                for i in range(CAMERAS)
            ])  # fmt: skip
            conn.execute(insert(WatchlistEntryModel), [
                {"pattern": e.pattern.text, "kind": e.pattern.kind,
                 "max_distance": e.pattern.max_distance, "priority": e.priority,
                 "reason": e.reason, "legal_basis": e.legal_basis, "created_by": e.created_by,
                 "expires_at": e.expires_at}
                for e in entries
            ])  # fmt: skip
            # Never logs in: the benchmark issues its token directly.
            nobody = "!"
            admin = create_user(
                conn, NewUser(username="bench", password_hash=nobody, role=Role.ADMIN)
            )
        settings = Settings(
            environment="test",
            database_url=url,
            redis_url=args.redis_url,
            secret_key=SecretStr(secrets.token_hex(32)),
        )
        env = {
            **os.environ,
            "PLATETRACE_ENVIRONMENT": settings.environment,
            "PLATETRACE_DATABASE_URL": url,
            "PLATETRACE_REDIS_URL": args.redis_url,
            "PLATETRACE_SECRET_KEY": settings.secret_key.get_secret_value(),
        }
        port = free_port()
        exe = str(Path(sys.executable).with_name("platetrace"))
        procs = [
            subprocess.Popen([exe, "ingest", "--consumer", f"bench-{i}", "--batch", "500"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for i in range(args.workers)
        ]  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--timeout-graceful-shutdown", "2"],
            env=env,
            text=True,
        )  # fmt: skip
        try:
            for p in procs:
                assert p.stdout is not None
                line = p.stdout.readline()
                if "running" not in line:
                    raise SystemExit(f"ingest worker did not start: {line!r}")
            token = issue_token(admin.id, settings).token
            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            sse = Client(f"http://127.0.0.1:{port}/alerts/stream", token)
            sse.start()
            if not sse.ready.wait(30):
                raise SystemExit("SSE stream did not open")
            ids = [c.id for c in cams]
            # Warm-up, not reported; it also outlasts the workers' re-reads of the bulk import.
            run_step(engine, rds, sse, 200, 8.0, ids, hot, step=0)
            steps = [run_step(engine, rds, sse, rate, args.seconds, ids, hot, step=i + 1)
                     for i, rate in enumerate(rates)]  # fmt: skip
            reconnects = sse.reconnects
        finally:
            for proc in [*procs, server]:
                proc.terminate()
            for proc in [*procs, server]:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            engine.dispose()
            rds.delete(
                SIGHTINGS_STREAM, DEAD_LETTERS, ALERTS_STREAM, *rds.scan_iter(f"{ALERTS_STREAM}:*")
            )

    print(f"\nend to end: {args.workers} ingest workers, {args.seconds:g} s per rate, "
          f"{HOT_SHARE:.0%} of sightings wanted; latency: sighting XADD → SSE client; "
          "alerts = wanted sightings + incidental fuzzy matches of random plates")  # fmt: skip
    print_table(
        ["rate/s", "offered/s", "sent", "stored", "sustained/s", "wanted", "alerts in DB",
         "at client", "duplicates", "p50 ms", "p99 ms", "max ms", "p99 to stream",
         "p99 stream→client"],
        [[s.rate, s.offered, s.sent, s.stored, s.sustained, s.hot, s.alerts_db, s.received,
          s.duplicates, s.p50, s.p99, s.worst, s.p99_published, s.p99_delivered]
         for s in steps],
    )  # fmt: skip
    print(f"\nSSE client reconnects (with Last-Event-ID): {reconnects}")
    ok = [
        s.rate
        for s in steps
        if s.p99 < 1000 and s.stored == s.sent and s.received == s.alerts_db >= s.hot
    ]
    print(f"ceiling (highest rate with p99 < 1 s, nothing lost): {max(ok) if ok else 'none'}/s")


if __name__ == "__main__":
    main()
