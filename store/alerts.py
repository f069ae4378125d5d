"""Alerts: a watchlist match a dispatcher must see, and what became of it.

An alert copies what the dispatcher needs from the sighting, the camera and the entry at the
moment it was raised: sightings are dropped at retention and entries change, the record of
the alert must not. ``ingest_key`` is unique, so a re-delivered sighting raises nothing new.

Lifecycle: ``new`` → ``acknowledged`` → ``assigned`` → ``closed`` (with an outcome); an alert
can be assigned or closed straight from ``new``, and reassigned while assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Interval,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert

from store.errors import InvalidInput, NotFound
from store.models import Camera
from store.models_alerts import AlertModel

AlertStatus = Literal["new", "acknowledged", "assigned", "closed"]
STATUSES: tuple[AlertStatus, ...] = ("new", "acknowledged", "assigned", "closed")

_T = cast(Table, AlertModel.__table__)
_COLUMNS = (
    *(c for c in _T.c if c.name != "camera_location"),
    func.ST_Y(_T.c.camera_location).label("camera_lat"),
    func.ST_X(_T.c.camera_location).label("camera_lon"),
)


class AlertStateError(InvalidInput):
    """The alert is not in a state that allows the requested step."""


@dataclass(frozen=True, slots=True)
class NewAlert:
    entry_id: int
    ingest_key: str
    camera_id: int
    plate: str
    plate_raw: str
    country: str
    confidence: float
    observed_at: datetime
    priority: int
    reason: str
    pattern: str
    fuzzy: bool
    distance: float
    colour: str | None = None
    box: tuple[int, int, int, int] | None = None
    evidence_key: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    entry_id: int
    ingest_key: str
    plate: str
    plate_raw: str
    country: str
    confidence: float
    colour: str | None
    observed_at: datetime
    box: list[int] | None
    evidence_key: str | None
    camera_id: int
    camera_code: str
    camera_name: str
    camera_lat: float
    camera_lon: float
    priority: int
    reason: str
    pattern: str
    fuzzy: bool
    distance: float
    status: AlertStatus
    assignee: str | None
    outcome: str | None
    stream_id: str | None
    created_at: datetime
    published_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    updated_at: datetime


def raise_alerts(
    conn: Connection, items: Iterable[NewAlert], *, quiet_window: timedelta
) -> list[AlertRow]:
    """Insert the alerts that are new; return them in insertion order.

    Skipped: an alert whose ingest key already raised one (a re-delivered sighting), and one
    whose plate already alerted at the same camera within ``quiet_window`` of it (noise
    control). Concurrent workers serialise on an advisory lock per (plate, camera), taken
    in a fixed order so two batches cannot deadlock.
    """
    if quiet_window < timedelta(0):
        raise InvalidInput(f"quiet window must not be negative, got {quiet_window}")
    ordered = sorted(items, key=lambda a: (a.plate, a.camera_id, a.observed_at, a.ingest_key))
    raised: list[AlertRow] = []
    for item in ordered:
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_lock_key(item), 0))))
        row = conn.execute(_INSERT, {**_params(item), "window": quiet_window}).one_or_none()
        if row is not None:
            raised.append(_row(row))
    return raised


def unpublished(conn: Connection, ingest_keys: Sequence[str]) -> list[AlertRow]:
    """Alerts of these sightings that never reached the alerts stream, oldest first."""
    if not ingest_keys:
        return []
    query = (
        select(*_COLUMNS)
        .where(_T.c.ingest_key.in_(ingest_keys), _T.c.stream_id.is_(None))
        .order_by(_T.c.id)
    )
    return [_row(r) for r in conn.execute(query)]


def mark_published(conn: Connection, published: Iterable[tuple[int, str]]) -> None:
    """Record the alerts-stream id each alert got."""
    values = [{"alert_id": alert_id, "sid": stream_id} for alert_id, stream_id in published]
    if values:
        conn.execute(
            update(_T)
            .where(_T.c.id == bindparam("alert_id"))
            .values(stream_id=bindparam("sid"), published_at=func.now()),
            values,
        )


def get_alert(conn: Connection, alert_id: int) -> AlertRow:
    row = conn.execute(select(*_COLUMNS).where(_T.c.id == alert_id)).one_or_none()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return _row(row)


def list_alerts(
    conn: Connection,
    *,
    status: AlertStatus | None = None,
    plate: str | None = None,
    camera_ids: Sequence[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AlertRow]:
    """Alerts newest first, optionally of one status, plate or set of cameras."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInput(f"limit must be 1-1000 and offset >= 0, got {limit}, {offset}")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    query = select(*_COLUMNS).order_by(_T.c.id.desc()).limit(limit).offset(offset)
    if status is not None:
        query = query.where(_T.c.status == status)
    if plate is not None:
        query = query.where(_T.c.plate == plate)
    if camera_ids is not None:
        query = query.where(_T.c.camera_id.in_(camera_ids))
    return [_row(r) for r in conn.execute(query)]


def acknowledge(conn: Connection, alert_id: int, *, by: str) -> AlertRow:
    """Mark an alert seen; acknowledging it again changes nothing."""
    by = _required("by", by)
    current = _locked(conn, alert_id)
    if current.status == "acknowledged":
        return current
    _require_status(current, ("new",), "acknowledged")
    return _set(
        conn, alert_id, status="acknowledged", acknowledged_at=func.now(), acknowledged_by=by
    )


def assign(conn: Connection, alert_id: int, *, assignee: str, by: str) -> AlertRow:
    """Hand an alert to a unit or officer; an assigned alert may be reassigned."""
    assignee, by = _required("assignee", assignee), _required("by", by)
    current = _locked(conn, alert_id)
    _require_status(current, ("new", "acknowledged", "assigned"), "assigned")
    return _set(
        conn,
        alert_id,
        status="assigned",
        assignee=assignee,
        assigned_at=func.now(),
        acknowledged_at=func.coalesce(_T.c.acknowledged_at, func.now()),
        acknowledged_by=func.coalesce(_T.c.acknowledged_by, by),
    )


def close(conn: Connection, alert_id: int, *, outcome: str, by: str) -> AlertRow:
    """Close an alert with what happened (intercepted, false read, not found...)."""
    outcome, by = _required("outcome", outcome), _required("by", by)
    if len(outcome) > 2000:
        raise InvalidInput("outcome must be at most 2000 characters")
    current = _locked(conn, alert_id)
    _require_status(current, ("new", "acknowledged", "assigned"), "closed")
    return _set(
        conn, alert_id, status="closed", outcome=outcome, closed_at=func.now(), closed_by=by
    )


def _lock_key(item: NewAlert) -> str:
    return f"alert:{item.plate}:{item.camera_id}"


def _params(item: NewAlert) -> dict[str, Any]:
    return {
        "entry_id": item.entry_id,
        "ingest_key": item.ingest_key,
        "camera_id": item.camera_id,
        "plate": item.plate,
        "plate_raw": item.plate_raw,
        "country": item.country,
        "confidence": item.confidence,
        "observed_at": item.observed_at,
        "priority": item.priority,
        "reason": item.reason,
        "pattern": item.pattern,
        "fuzzy": item.fuzzy,
        "distance": item.distance,
        "colour": item.colour,
        "box": list(item.box) if item.box is not None else None,
        "evidence_key": item.evidence_key,
    }


def _insert_statement() -> ReturningInsert[Any]:
    names = (
        "entry_id",
        "ingest_key",
        "plate",
        "plate_raw",
        "country",
        "confidence",
        "observed_at",
        "priority",
        "reason",
        "pattern",
        "fuzzy",
        "distance",
        "colour",
        "box",
        "evidence_key",
    )
    at = bindparam("observed_at", type_=DateTime(timezone=True))
    window = bindparam("window", type_=Interval())
    recent = (
        select(literal(1))
        .select_from(_T)
        .where(
            _T.c.plate == bindparam("plate"),
            _T.c.camera_id == bindparam("camera_id"),
            _T.c.observed_at > at - window,
            _T.c.observed_at < at + window,
        )
    )
    source = select(
        *(bindparam(n, type_=_T.c[n].type).label(n) for n in names),
        Camera.id.label("camera_id"),
        Camera.code.label("camera_code"),
        Camera.name.label("camera_name"),
        Camera.location.label("camera_location"),
    ).where(and_(Camera.id == bindparam("camera_id"), ~exists(recent)))
    return (
        insert(_T)
        .from_select([*names, "camera_id", "camera_code", "camera_name", "camera_location"], source)
        .on_conflict_do_nothing(index_elements=["ingest_key"])
        .returning(*_COLUMNS)
    )


_INSERT = _insert_statement()


def _locked(conn: Connection, alert_id: int) -> AlertRow:
    row = conn.execute(
        select(*_COLUMNS).where(_T.c.id == alert_id).with_for_update(of=_T)
    ).one_or_none()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return _row(row)


def _require_status(alert: AlertRow, allowed: Sequence[AlertStatus], step: str) -> None:
    if alert.status not in allowed:
        raise AlertStateError(f"alert {alert.id} is {alert.status}; it cannot become {step}")


def _set(conn: Connection, alert_id: int, **values: Any) -> AlertRow:
    row = conn.execute(
        update(_T)
        .where(_T.c.id == alert_id)
        .values(**values, updated_at=func.now())
        .returning(*_COLUMNS)
    ).one()
    return _row(row)


def _required(name: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{name} is required")
    return value.strip()


def _row(row: Row[Any]) -> AlertRow:
    return AlertRow(**row._mapping)
