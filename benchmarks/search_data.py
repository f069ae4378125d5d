"""Simulated city-scale sightings for the search benchmark, loaded at COPY speed.

Rows are generated with numpy and sent as binary ``COPY ... FREEZE`` straight into each day
partition (one transaction per day, which first truncates the day so the rows can be written
frozen: no hint-bit or freeze rewrites later). The secondary indexes and keys of ``sightings``
are dropped for the load and rebuilt afterwards from their own definitions, then analysed:
legitimate for a scratch database, and about two orders of magnitude faster than maintaining
five indexes row by row.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import psycopg
from sqlalchemy import Connection, Engine, text

from store.cameras import NewCamera, create_cameras
from store.partitions import ensure_partitions, partition_name

DAYS = 30
# Ho Chi Minh City, roughly the urban districts.
WEST, EAST, SOUTH, NORTH = 106.60, 106.82, 10.70, 10.90
# Vehicles registered in the city (41, 50-59) dominate its traffic; the rest come from anywhere.
CITY_PROVINCES = [41, *range(50, 60)]
SERIES = np.frombuffer(b"ABCDEFGHKLMNPSTUVXYZ", dtype=np.uint8)
COLOURS = np.array([b"white", b"black", b"grey", b"silver", b"red", b"blue", b"yellow"])
CHUNK = 250_000  # rows per COPY write, ~25 MB
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_COLUMNS = (
    "id, ingest_key, camera_id, plate, plate_raw, country, confidence, observed_at, colour, "
    "colour_confidence"
)


# One binary COPY tuple: field count, then each field's byte length and value (big-endian).
# Colour is the only variable-length field: it is stored padded and the padding cut out below.
_FIELDS = [
    ("id", ">i8"),
    ("ingest_key", "S10"),
    ("camera_id", ">i4"),
    ("plate", "S8"),
    ("plate_raw", "S10"),
    ("country", "S2"),
    ("confidence", ">f8"),
    ("observed_at", ">i8"),
    ("colour", f"S{COLOURS.itemsize}"),
    ("colour_confidence", ">f8"),
]
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        *[f for name, kind in _FIELDS for f in ((f"{name}_len", ">i4"), (name, kind))],
    ]
)
_COLOUR_AT = 2 + sum(4 + np.dtype(kind).itemsize for _, kind in _FIELDS[:8]) + 4
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_TRAILER = b"\xff\xff"


def plates_of(count: int, rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.bytes_]]:
    """Vietnamese-style plates ``51F12345``: province, series letter, five digits."""
    local = rng.random(count) < 0.7
    province = np.where(local, rng.choice(CITY_PROVINCES, count), rng.integers(11, 100, count))
    chars = np.empty((count, 8), dtype=np.uint8)
    chars[:, :2] = _digits(province, 2)
    chars[:, 2] = rng.choice(SERIES, count)
    chars[:, 3:] = _digits(rng.integers(0, 100_000, count), 5)
    return chars.view("S8").ravel()


def _digits(values: np.ndarray[Any, Any], width: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Zero-padded decimal ASCII digits of non-negative integers, one row per value."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def _raw_plates(plates: np.ndarray[Any, np.dtype[np.bytes_]]) -> np.ndarray[Any, Any]:
    """``51F12345`` as a camera prints it: ``51F-123.45``."""
    chars = plates.view(np.uint8).reshape(-1, 8)
    raw = np.empty((len(plates), 10), dtype=np.uint8)
    raw[:, :3], raw[:, 3], raw[:, 4:7], raw[:, 7], raw[:, 8:] = (
        chars[:, :3], ord("-"), chars[:, 3:6], ord("."), chars[:, 6:],
    )  # fmt: skip
    return raw.view("S10").ravel()


def _copy_rows(
    first_id: int,
    seconds: np.ndarray[Any, np.dtype[np.float64]],
    plates: np.ndarray[Any, np.dtype[np.bytes_]],
    raw_plates: np.ndarray[Any, np.dtype[np.bytes_]],
    camera_ids: np.ndarray[Any, np.dtype[np.int32]],
    rng: np.random.Generator,
) -> bytes:
    """Binary COPY tuples for sightings at ``seconds`` (Unix time) of random vehicles."""
    n = len(seconds)
    rows = np.zeros(n, dtype=_ROW)
    rows["fields"] = len(_FIELDS)
    for name, kind in _FIELDS:
        rows[f"{name}_len"] = np.dtype(kind).itemsize
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    rows["id"] = ids
    keys = np.empty((n, 10), dtype=np.uint8)
    keys[:, 0], keys[:, 1:] = ord("b"), _digits(ids, 9)
    rows["ingest_key"] = keys.view("S10").ravel()
    vehicle = rng.integers(0, len(plates), n)
    rows["plate"], rows["plate_raw"] = plates[vehicle], raw_plates[vehicle]
    rows["camera_id"] = camera_ids[rng.integers(0, len(camera_ids), n)]
    rows["country"] = b"VN"
    rows["confidence"] = rng.uniform(0.6, 1.0, n).round(3)
    rows["observed_at"] = np.round((seconds - _PG_EPOCH) * 1e6).astype(np.int64)
    colour = rng.integers(0, len(COLOURS), n)
    lengths = np.char.str_len(COLOURS)[colour]
    rows["colour_len"], rows["colour"] = lengths, COLOURS[colour]
    rows["colour_confidence"] = 0.8
    keep = np.ones((n, _ROW.itemsize), dtype=bool)
    keep[:, _COLOUR_AT : _COLOUR_AT + COLOURS.itemsize] = (
        np.arange(COLOURS.itemsize) < lengths[:, None]
    )
    data: bytes = rows.view(np.uint8).reshape(n, _ROW.itemsize)[keep].tobytes()
    return data


def create_city_cameras(conn: Connection, count: int, rng: np.random.Generator) -> list[int]:
    return [
        c.id
        for c in create_cameras(
            conn,
            [
                NewCamera(
                    code=f"HCM-D{i % 24 + 1:02d}-W{i // 24 % 16 + 1:02d}-{i:04d}",
                    name=f"camera {i}",
                    lat=float(rng.uniform(SOUTH, NORTH)),
                    lon=float(rng.uniform(WEST, EAST)),
                    status="online",
                )
                for i in range(count)
            ],
        )
    ]


def load(engine: Engine, *, rows: int, cameras: int, seed: int) -> tuple[list[str], datetime]:
    """Cameras and ``rows`` sightings over the last 30 days, in time order, day by day.

    Returns the vehicles' plates and the end of the 30 days. 200,000 vehicles per 10 M rows.
    """
    rng = np.random.default_rng(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    days = [start.date() + timedelta(days=d) for d in range(DAYS + 1)]
    with engine.begin() as conn:
        camera_ids = np.array(create_city_cameras(conn, cameras, rng), dtype=np.int32)
        ensure_partitions(conn, days)
    plates = plates_of(max(1000, rows // 50), rng)
    raw_plates = _raw_plates(plates)
    # Day d holds the part of [start, end) that falls in it, and its share of the rows.
    midnights = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days]
    midnights.append(midnights[-1] + timedelta(days=1))
    bounds = np.clip([m.timestamp() for m in midnights], start.timestamp(), end.timestamp())
    cumulative = np.round((bounds - bounds[0]) / (bounds[-1] - bounds[0]) * rows).astype(int)
    began, next_id = time.perf_counter(), 1
    for day, lo, hi, count in zip(days, bounds[:-1], bounds[1:], np.diff(cumulative), strict=True):
        name = partition_name(day)
        with engine.begin() as conn:
            raw = cast(psycopg.Connection[Any], conn.connection.driver_connection)
            raw.execute(f"TRUNCATE {name}")
            statement = f"COPY {name} ({_COLUMNS}) FROM STDIN (FORMAT binary, FREEZE)"
            with raw.cursor().copy(statement) as copy:
                copy.write(_HEADER)
                for first in range(0, count, CHUNK):
                    n = min(CHUNK, count - first)
                    # Each chunk covers its own slice of the day: rows arrive in time order.
                    a, b = lo + (hi - lo) * first / count, lo + (hi - lo) * (first + n) / count
                    seconds = np.sort(rng.uniform(a, b, n))
                    copy.write(_copy_rows(next_id, seconds, plates, raw_plates, camera_ids, rng))
                    next_id += n
                copy.write(_TRAILER)
        rate = (next_id - 1) / (time.perf_counter() - began)
        print(f"  loaded {next_id - 1:,} / {rows:,} ({rate:,.0f} rows/s)", file=sys.stderr)
    with engine.begin() as conn:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('sightings', 'id'), :last)"),
            {"last": next_id - 1},
        )
    return [p.decode() for p in plates], end


@contextmanager
def without_keys_and_indexes(engine: Engine, table: str) -> Iterator[None]:
    """Drop ``table``'s indexes, keys and foreign keys; rebuild them from their definitions.

    Check constraints stay (they cost little per row). Indexes first, then keys, then foreign
    keys, whose validation is then one join instead of a lookup per row.
    """
    with engine.begin() as conn:
        constraints = conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f', 'x') "
                "ORDER BY contype = 'f', conname"
            ),
            {"t": table},
        ).all()
        indexes = conn.execute(
            text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                "ORDER BY c.relname"
            ),
            {"t": table},
        ).all()
        for name, _, _ in reversed(constraints):
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    yield
    for name, definition in indexes:
        # A partitioned table's definition reads "ON ONLY": built that way, no partition gets it.
        _timed_ddl(engine, name, definition.replace(" ON ONLY ", " ON ", 1))
    for name, definition, _ in constraints:
        _timed_ddl(engine, name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _timed_ddl(engine: Engine, name: str, statement: str) -> None:
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(statement))
    took = time.perf_counter() - began
    print(f"  built {name} in {took:.0f} s", file=sys.stderr, flush=True)


def make_baseline(engine: Engine) -> None:
    """Every tenth sighting, indexed by its primary key only; cameras likewise."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS sightings_baseline, cameras_baseline"))
        conn.execute(
            text("CREATE TABLE sightings_baseline AS SELECT * FROM sightings WHERE id % 10 = 0")
        )
        conn.execute(text("ALTER TABLE sightings_baseline ADD PRIMARY KEY (id)"))
        conn.execute(text("CREATE TABLE cameras_baseline AS SELECT * FROM cameras"))
        conn.execute(text("ALTER TABLE cameras_baseline ADD PRIMARY KEY (id)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sightings_baseline, cameras_baseline"))
