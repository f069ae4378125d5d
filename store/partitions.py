"""Day partitions of ``sightings`` (UTC days) and retention.

Partitions are named ``sightings_pYYYYMMDD``. Writers create the day they need on the fly
(``ensure_partitions``); ``platetrace maintain`` also creates ``partitions_ahead_days`` days in
advance, so the hot path almost never takes the parent's lock. Creating one goes through the
database function ``create_sightings_partition`` (migration 0005), so the API's database role
needs no ownership of ``sightings``. There is no default partition:
a row for a day without a partition would otherwise land there and block creating that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

PARENT = "sightings"
_PREFIX = f"{PARENT}_p"


def partition_name(day: date) -> str:
    return f"{_PREFIX}{day:%Y%m%d}"


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def list_partitions(conn: Connection) -> dict[date, str]:
    """Existing day partitions of ``sightings``, by day."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    ).scalars()
    return {datetime.strptime(name[len(_PREFIX) :], "%Y%m%d").date(): name for name in rows}


def ensure_partitions(conn: Connection, days: Iterable[date]) -> list[str]:
    """Create the partitions of ``days`` that are missing; return the names created."""
    wanted = {partition_name(d): d for d in days}
    if not wanted:
        return []
    present = set(
        conn.execute(
            text("SELECT relname FROM pg_class WHERE relname = ANY(:names)"),
            {"names": list(wanted)},
        ).scalars()
    )
    missing = {name: d for name, d in wanted.items() if name not in present}
    if not missing:
        return []
    for d in sorted(missing.values()):
        conn.execute(text("SELECT create_sightings_partition(:day)"), {"day": d})
    return sorted(missing)


def ensure_partitions_ahead(conn: Connection, *, today: date, days_ahead: int) -> list[str]:
    return ensure_partitions(conn, (today + timedelta(days=i) for i in range(days_ahead + 1)))


@dataclass(frozen=True, slots=True)
class RetentionReport:
    dropped: list[str]
    trimmed: list[str]  # expired partitions kept because a case holds some of their rows
    rows_deleted: int
    rows_held: int


def apply_retention(conn: Connection, *, retention_days: int, now: datetime) -> RetentionReport:
    """Drop day partitions wholly older than ``retention_days``, except rows a case holds.

    An expired partition holding rows of an active case hold is trimmed to those rows instead
    of dropped, so held sightings stay where every query already looks for them.
    """
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    cutoff = day_of(now) - timedelta(days=retention_days)
    dropped: list[str] = []
    trimmed: list[str] = []
    deleted = held = 0
    for day, name in sorted(list_partitions(conn).items()):
        if day >= cutoff:
            continue
        held_filter = (
            f"EXISTS (SELECT 1 FROM case_holds h WHERE h.until > :now "
            f"AND (h.plate = {name}.plate OR h.sighting_id = {name}.id))"
        )
        n_held = conn.execute(
            text(f"SELECT count(*) FROM {name} WHERE {held_filter}"), {"now": now}
        ).scalar_one()
        if n_held:
            result = conn.execute(text(f"DELETE FROM {name} WHERE NOT {held_filter}"), {"now": now})
            deleted += result.rowcount
            held += n_held
            trimmed.append(name)
        else:
            deleted += conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            conn.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return RetentionReport(dropped=dropped, trimmed=trimmed, rows_deleted=deleted, rows_held=held)
