"""Sightings repository. The batch path is ``COPY``; a batch that repeats stored sightings
goes through a staging table and ``INSERT ... ON CONFLICT DO NOTHING``, so it stays idempotent."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import psycopg
from psycopg.errors import CheckViolation, UniqueViolation
from sqlalchemy import Connection, Row, select

from store.cameras import existing_camera_ids
from store.errors import InvalidInput, NotFound
from store.models import Sighting
from store.partitions import day_of, ensure_partitions

_PLATE = re.compile(r"^[A-Z0-9]{2,16}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Clocks of cameras drift; a sighting far in the future is a broken clock, not a car.
MAX_CLOCK_SKEW = timedelta(hours=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NewSighting:
    ingest_key: str
    camera_id: int
    plate: str  # normalised: Latin capitals and digits only
    plate_raw: str
    country: str
    confidence: float
    observed_at: datetime
    colour: str | None = None
    colour_confidence: float = 0.0
    box: tuple[int, int, int, int] | None = None
    evidence_key: str | None = None
    track_id: str | None = None


@dataclass(frozen=True, slots=True)
class SightingRow:
    id: int
    ingest_key: str
    camera_id: int
    plate: str
    plate_raw: str
    country: str
    confidence: float
    observed_at: datetime
    colour: str | None
    colour_confidence: float
    box: list[int] | None
    evidence_key: str | None
    track_id: str | None
    created_at: datetime


_ROW_FIELDS = tuple(f.name for f in fields(SightingRow))
_STAGE_COLUMNS = tuple(f.name for f in fields(NewSighting))
_ROW_COLUMNS = tuple(getattr(Sighting, name) for name in _ROW_FIELDS)


_INT4 = 2**31 - 1
_TEXTS = ("ingest_key", "plate", "plate_raw", "country")
_OPTIONAL_TEXTS = ("colour", "evidence_key", "track_id")


def _is_int(value: object, *, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= _INT4


def _check_types(s: NewSighting) -> None:
    """Sightings decoded from a stream are only as typed as the JSON was: a float in the box
    or a NUL in a text would pass the checks below and then fail the ``COPY`` of its whole
    batch, again on every redelivery."""
    for name in _TEXTS + _OPTIONAL_TEXTS:
        value = getattr(s, name)
        if not (isinstance(value, str) or (name in _OPTIONAL_TEXTS and value is None)):
            raise InvalidInput(f"sighting: {name} must be text")
        if value is not None and "\x00" in value:
            raise InvalidInput(f"sighting: {name} must not contain NUL characters")
    if not _is_int(s.camera_id):
        raise InvalidInput(f"sighting {s.ingest_key}: camera id must be an integer id")
    for name in ("confidence", "colour_confidence"):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"sighting {s.ingest_key}: {name} must be a number")
    if not isinstance(s.observed_at, datetime):
        raise InvalidInput(f"sighting {s.ingest_key}: observed time must be a timestamp")
    if s.box is not None and not (
        isinstance(s.box, tuple | list) and all(_is_int(v, low=-_INT4) for v in s.box)
    ):
        raise InvalidInput(f"sighting {s.ingest_key}: box must be [x, y, w, h] of whole pixels")


def validate_sighting(s: NewSighting, *, now: datetime) -> None:
    """Raise ``InvalidInput`` naming the first thing wrong with ``s``."""
    _check_types(s)
    if not s.ingest_key or len(s.ingest_key) > 128:
        raise InvalidInput("ingest key must be 1-128 characters")
    if not s.plate:
        raise InvalidInput(f"sighting {s.ingest_key}: plate must not be empty")
    if not _PLATE.match(s.plate):
        raise InvalidInput(
            f"sighting {s.ingest_key}: plate {s.plate!r} is not normalised "
            "(2-16 Latin capitals and digits)"
        )
    if not s.plate_raw or len(s.plate_raw) > 32:
        raise InvalidInput(f"sighting {s.ingest_key}: plate as read must be 1-32 characters")
    if not _COUNTRY.match(s.country):
        raise InvalidInput(
            f"sighting {s.ingest_key}: country must be 2 capitals, got {s.country!r}"
        )
    for name, value in (("confidence", s.confidence), ("colour confidence", s.colour_confidence)):
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise InvalidInput(f"sighting {s.ingest_key}: {name} must be within [0, 1]")
    if s.observed_at.tzinfo is None:
        raise InvalidInput(f"sighting {s.ingest_key}: observed time must carry a time zone")
    if not EARLIEST <= s.observed_at <= now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            f"sighting {s.ingest_key}: observed time {s.observed_at.isoformat()} is in the "
            "future or before 2000 (camera clock?)"
        )
    if s.box is not None and (len(s.box) != 4 or s.box[2] <= 0 or s.box[3] <= 0):
        raise InvalidInput(f"sighting {s.ingest_key}: box must be [x, y, w, h] with w, h > 0")


def add_sightings(conn: Connection, items: Sequence[NewSighting]) -> int:
    """Insert sightings idempotently; return how many were new.

    All or nothing: one bad sighting (or an unknown camera) raises ``InvalidInput`` and
    nothing of the batch is written.
    """
    if not items:
        return 0
    now = datetime.now(UTC)
    for s in items:
        validate_sighting(s, now=now)
    unknown = {s.camera_id for s in items} - existing_camera_ids(conn, [s.camera_id for s in items])
    if unknown:
        raise InvalidInput(f"unknown camera id: {', '.join(map(str, sorted(unknown)))}")
    return insert_valid_sightings(conn, items)


def insert_valid_sightings(conn: Connection, items: Sequence[NewSighting]) -> int:
    """``add_sightings`` for sightings already validated (``validate_sighting``), with the
    database checking the cameras: an unknown one raises ``ForeignKeyViolation`` and leaves
    the transaction usable, so a caller can drop what it names and go on (the ingest worker
    dead-letters it). Idempotent; returns how many were new.

    New sightings of days that have a partition are the common case: one ``COPY``, no other
    statement. A day without a partition fails it, and the batch goes again once the day is
    created; a batch that repeats a stored sighting (a re-delivery) violates the unique key,
    and takes the staged path, which skips what is already there.
    """
    if not items:
        return 0
    try:
        with conn.begin_nested():
            copy_rows(conn, "sightings", items)
        return len(items)
    except CheckViolation:  # "no partition of relation found for row": the rest is validated
        if not ensure_partitions(conn, {day_of(s.observed_at) for s in items}):
            raise
        return insert_valid_sightings(conn, items)
    except UniqueViolation:
        pass
    ensure_partitions(conn, {day_of(s.observed_at) for s in items})
    with conn.begin_nested():
        return _insert_new_ones(conn, items)


def _insert_new_ones(conn: Connection, items: Sequence[NewSighting]) -> int:
    """Stage the batch and insert what is not stored yet. On the driver's cursor like
    ``copy_rows``, so an unknown camera raises the same ``ForeignKeyViolation`` as there."""
    columns = ", ".join(_STAGE_COLUMNS)
    with _driver(conn).cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sightings_stage ("
            "ingest_key text, camera_id int, plate text, plate_raw text, country text, "
            "confidence float8, observed_at timestamptz, colour text, colour_confidence float8, "
            "box int[], evidence_key text, track_id text) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE sightings_stage")
        copy_rows(conn, "sightings_stage", items)
        cur.execute(
            f"INSERT INTO sightings ({columns}) SELECT {columns} FROM sightings_stage "
            "ON CONFLICT (ingest_key, observed_at) DO NOTHING"
        )
        return int(cur.rowcount)


def copy_rows(conn: Connection, table: str, items: Sequence[NewSighting]) -> None:
    """``COPY`` sightings into ``table`` (``sightings`` or a table of the same columns)."""
    columns = ", ".join(_STAGE_COLUMNS)
    with _driver(conn).cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for s in items:
            copy.write_row(
                (
                    s.ingest_key,
                    s.camera_id,
                    s.plate,
                    s.plate_raw,
                    s.country,
                    s.confidence,
                    s.observed_at,
                    s.colour,
                    s.colour_confidence,
                    # An array literal: psycopg's list adaptation costs more than the rest
                    # of the row together.
                    None if s.box is None else "{" + ",".join(map(str, s.box)) + "}",
                    s.evidence_key,
                    s.track_id,
                )
            )


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return cast("psycopg.Connection[Any]", raw)


def add_sighting(conn: Connection, item: NewSighting) -> bool:
    """Insert one sighting; ``False`` when it was already stored."""
    return add_sightings(conn, [item]) == 1


def _row(row: Row[Any]) -> SightingRow:
    return SightingRow(**{name: row._mapping[name] for name in _ROW_FIELDS})


def sightings_by_plate(
    conn: Connection, plate: str, start: datetime, end: datetime, *, limit: int = 10_000
) -> list[SightingRow]:
    """One plate's sightings in ``[start, end)``, oldest first."""
    if not plate:
        raise InvalidInput("plate must not be empty")
    if end <= start:
        raise InvalidInput("the window must end after it starts")
    query = (
        select(*_ROW_COLUMNS)
        .where(Sighting.plate == plate, Sighting.observed_at >= start, Sighting.observed_at < end)
        .order_by(Sighting.observed_at, Sighting.id)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(query)]


def get_sighting(conn: Connection, sighting_id: int) -> SightingRow:
    query = select(*_ROW_COLUMNS).where(Sighting.id == sighting_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"sighting {sighting_id} does not exist")
    return _row(row)
