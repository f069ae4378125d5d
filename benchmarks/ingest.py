"""Batch ingest of synthetic sightings through the repository, side by side with raw COPY.

    .venv/bin/python -m benchmarks.ingest --rows 1000000 --cameras 3500

Both paths write the same rows into the same partitioned, indexed ``sightings`` table of a
scratch database; the table is emptied between them. Rounds alternate the order so that
neither path always runs on a warmer cache.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, create_engine, text

from benchmarks.common import print_table, scratch_database
from store.cameras import NewCamera, create_cameras
from store.partitions import day_of, ensure_partitions
from store.sightings import NewSighting, add_sightings, copy_rows

LETTERS = "ABCDEFGHKLMNPSTUVXYZ"


def make_sightings(rows: int, camera_ids: Sequence[int], *, seed: int) -> list[NewSighting]:
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    span = int(timedelta(days=3).total_seconds()) - 3600
    out = []
    for i in range(rows):
        plate = f"{rng.randint(10, 99)}{rng.choice(LETTERS)}{rng.randint(10000, 99999)}"
        at = start + timedelta(seconds=rng.randrange(span))
        out.append(
            NewSighting(
                ingest_key=f"bench-{seed}-{i}",
                camera_id=rng.choice(camera_ids),
                plate=plate,
                plate_raw=plate,
                country="VN",
                confidence=round(rng.uniform(0.6, 1.0), 3),
                observed_at=at,
                colour=rng.choice(("white", "black", "grey", "red", "blue")),
                colour_confidence=0.7,
                box=(rng.randrange(1000), rng.randrange(600), 120, 40),
                track_id=f"t{i}",
            )
        )
    return out


def via_repository(engine: Engine, rows: Sequence[NewSighting], batch: int) -> float:
    began = time.perf_counter()
    for i in range(0, len(rows), batch):
        with engine.begin() as conn:
            add_sightings(conn, rows[i : i + batch])
    return time.perf_counter() - began


def via_raw_copy(engine: Engine, rows: Sequence[NewSighting], batch: int) -> float:
    began = time.perf_counter()
    for i in range(0, len(rows), batch):
        with engine.begin() as conn:
            ensure_partitions(conn, {day_of(s.observed_at) for s in rows[i : i + batch]})
            copy_rows(conn, "sightings", rows[i : i + batch])
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cameras", type=int, default=3_500)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with scratch_database("platetrace_bench_ingest") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            cams = create_cameras(
                conn,
                [
                    NewCamera(code=f"KHA-C{i // 1000:02d}-W01-{i % 10000:04d}", name=f"cam {i}",
                              lat=49.99 + i * 1e-5, lon=36.23)
                    for i in range(args.cameras)
                ],
            )  # fmt: skip
        rows = make_sightings(args.rows, [c.id for c in cams], seed=1)
        paths = {"repository batch path": via_repository, "raw COPY (baseline)": via_raw_copy}
        seconds: dict[str, list[float]] = {name: [] for name in paths}
        for r in range(args.rounds):
            order = list(paths.items()) if r % 2 == 0 else list(reversed(paths.items()))
            for name, run in order:
                with engine.begin() as conn:
                    conn.execute(text("TRUNCATE sightings"))
                    conn.execute(text("CHECKPOINT"))
                seconds[name].append(run(engine, rows, args.batch))
        engine.dispose()

    best = {name: min(times) for name, times in seconds.items()}
    baseline = best["raw COPY (baseline)"]
    print(f"{args.rows:,} sightings, {args.cameras:,} cameras, batches of {args.batch:,}, "
          f"best of {args.rounds} rounds")  # fmt: skip
    print_table(
        ["path", "seconds", "sightings/s", "share of raw COPY"],
        [[name, t, args.rows / t, f"{baseline / t:.0%}"] for name, t in best.items()],
    )


if __name__ == "__main__":
    main()
