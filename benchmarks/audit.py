"""Audit trail cost: hash-chained appends side by side with plain INSERTs, and chain checking.

    .venv/bin/python -m benchmarks.audit --rows 4000 --writers 1 4

Each append is its own transaction, as in a request. The chain takes an advisory lock, reads
the last hash and hashes the row; the baseline inserts the same row into the same table with
neither lock nor hash. Both run in a scratch database, emptied between runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, create_engine, insert, text

from benchmarks.common import print_table, scratch_database
from store.audit import GENESIS, AuditLog, NewAuditEntry, append, verify_chain


def entry(n: int) -> NewAuditEntry:
    return NewAuditEntry(
        actor_id=n % 50,
        actor_name=f"investigator{n % 50}",
        role="investigator",
        agency_id=n % 7,
        method="POST",
        route="/search",
        params={"plate": "51F*", "start": "2026-11-01T00:00:00Z", "cameras": [1, 2, 3]},
        reason="robbery suspect vehicle",
        case_id=f"HCM-2026-{n % 300:06d}",
        result_count=n % 100,
        client_addr="10.20.0.15",
    )


def plain_insert(conn: Connection, item: NewAuditEntry) -> None:
    values = {
        "at": text("now()"),
        "actor_id": item.actor_id,
        "actor_name": item.actor_name,
        "role": item.role,
        "agency_id": item.agency_id,
        "method": item.method,
        "route": item.route,
        "params": dict(item.params),
        "reason": item.reason,
        "case_id": item.case_id,
        "result_count": item.result_count,
        "client_addr": item.client_addr,
        "prev_hash": GENESIS,
        "hash": GENESIS,
    }
    conn.execute(insert(AuditLog).values(**values))


def run(
    engine: Engine, write: Callable[[Connection, NewAuditEntry], object], rows: int, writers: int
) -> tuple[float, list[float]]:
    """Appends per second and each append's latency (s), ``writers`` threads at once."""

    def worker(offset: int) -> list[float]:
        latencies = []
        for n in range(offset, rows, writers):
            started = time.perf_counter()
            with engine.begin() as conn:
                write(conn, entry(n))
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        latencies = [x for part in pool.map(worker, range(writers)) for x in part]
    return rows / (time.perf_counter() - started), latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    results = []
    with scratch_database("platetrace_bench_audit") as url:
        engine = create_engine(url, pool_size=max(args.writers) + 1)
        for writers in args.writers:
            measured = {}
            for name, write in (("plain INSERT", plain_insert), ("hash chain", append)):
                with engine.begin() as conn:
                    conn.execute(text("TRUNCATE audit_log"))
                measured[name] = run(engine, write, args.rows, writers)
            with engine.connect() as conn:
                started = time.perf_counter()
                assert verify_chain(conn) is None
                verify_rate = args.rows / (time.perf_counter() - started)
            base_rate, base_lat = measured["plain INSERT"]
            rate, lat = measured["hash chain"]
            results.append(
                (
                    writers,
                    base_rate,
                    rate,
                    rate / base_rate,
                    statistics.median(base_lat) * 1000,
                    statistics.median(lat) * 1000,
                    p99(base_lat) * 1000,
                    p99(lat) * 1000,
                    verify_rate,
                )
            )
        engine.dispose()
    print(f"{args.rows:,} appends per run, one transaction each")
    print_table(
        [
            "writers",
            "plain/s",
            "chain/s",
            "chain÷plain",
            "plain p50 ms",
            "chain p50 ms",
            "plain p99 ms",
            "chain p99 ms",
            "verify rows/s",
        ],
        results,
    )


if __name__ == "__main__":
    main()
