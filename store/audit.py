"""The audit trail: an append-only hash chain over every access to personal data.

Each row stores the hash of the row before it and a hash over its own content plus that link,
so editing a row breaks its own hash and deleting one breaks the next row's link;
``verify_chain`` names the first row that no longer fits. Appends take a transaction-scoped
advisory lock before reading the newest hash (``audit_chain_head()``, migration 0009), so two
writers never link to the same predecessor. There is deliberately no
update or delete here, and the API's database role is only granted INSERT and SELECT.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Integer,
    Row,
    String,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from store.errors import InvalidInput
from store.models import Base

GENESIS = "0" * 64

JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Copies, not foreign keys: the trail must outlive the users and agencies it names.
    actor_id: Mapped[int] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(Text)
    result_count: Mapped[int | None] = mapped_column(Integer)
    client_addr: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    actor_id: int
    actor_name: str
    role: str
    agency_id: int | None
    method: str
    route: str
    params: Mapping[str, JSONValue] = field(default_factory=dict)
    reason: str | None = None
    case_id: str | None = None
    result_count: int | None = None
    client_addr: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int
    actor_name: str
    role: str
    agency_id: int | None
    method: str
    route: str
    params: dict[str, Any]
    reason: str | None
    case_id: str | None
    result_count: int | None
    client_addr: str | None
    prev_hash: str
    hash: str


_CONTENT = (
    "at",
    "actor_id",
    "actor_name",
    "role",
    "agency_id",
    "method",
    "route",
    "params",
    "reason",
    "case_id",
    "result_count",
    "client_addr",
)
_COLUMNS = (
    AuditLog.id,
    *(getattr(AuditLog, name) for name in _CONTENT),
    AuditLog.prev_hash,
    AuditLog.hash,
)


def row_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over canonical JSON of the row's content and its predecessor's hash."""
    values = {**content, "at": content["at"].astimezone(UTC).isoformat(), "prev_hash": prev_hash}
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(conn: Connection, entry: NewAuditEntry, *, at: datetime | None = None) -> AuditRow:
    """Append one entry to the chain; the caller's commit makes it (and the lock) final."""
    if not entry.actor_name or not entry.method or not entry.route:
        raise InvalidInput("an audit entry needs an actor, a method and a route")
    if entry.result_count is not None and entry.result_count < 0:
        raise InvalidInput("result count must not be negative")
    # jsonb would silently reorder or reject what json cannot round-trip; fail here instead.
    params = json.loads(json.dumps(dict(entry.params), default=str))
    prev = conn.execute(select(func.audit_chain_head())).scalar()
    prev_hash = prev or GENESIS
    content: dict[str, Any] = {
        "at": (at or datetime.now(UTC)).astimezone(UTC),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "role": entry.role,
        "agency_id": entry.agency_id,
        "method": entry.method,
        "route": entry.route,
        "params": params,
        "reason": entry.reason,
        "case_id": entry.case_id,
        "result_count": entry.result_count,
        "client_addr": entry.client_addr,
    }
    digest = row_hash(content, prev_hash)
    row = conn.execute(
        insert(AuditLog).values(**content, prev_hash=prev_hash, hash=digest).returning(*_COLUMNS)
    ).one()
    return AuditRow(**row._mapping)


def _audit_row(row: Row[Any]) -> AuditRow:
    return AuditRow(**row._mapping)


def list_entries(
    conn: Connection,
    *,
    limit: int,
    after_id: int = 0,
    actor_name: str | None = None,
    case_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditRow]:
    """Entries in chain order, filtered; ``after_id`` pages through them."""
    query = select(*_COLUMNS).where(AuditLog.id > after_id).order_by(AuditLog.id).limit(limit)
    if actor_name is not None:
        query = query.where(AuditLog.actor_name == actor_name)
    if case_id is not None:
        query = query.where(AuditLog.case_id == case_id)
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    return [_audit_row(r) for r in conn.execute(query)]


def chain_head(conn: Connection) -> AuditRow | None:
    """The newest row. A chain cannot show that rows were cut off its end, so operators record
    the head (id and hash) elsewhere and later check it with ``holds_anchor``."""
    row = conn.execute(select(*_COLUMNS).order_by(AuditLog.id.desc()).limit(1)).first()
    return None if row is None else _audit_row(row)


def holds_anchor(conn: Connection, row_id: int, row_hash: str) -> bool:
    """Whether the row recorded earlier as ``(row_id, row_hash)`` is still there, unchanged."""
    stored = conn.execute(select(AuditLog.hash).where(AuditLog.id == row_id)).scalar()
    return stored == row_hash


def verify_chain(conn: Connection, *, batch: int = 5000) -> int | None:
    """The id of the first row whose hash or link is broken, or ``None`` when the chain holds."""
    expected_prev = GENESIS
    after_id = 0
    while True:
        rows: Sequence[Row[Any]] = conn.execute(
            select(*_COLUMNS).where(AuditLog.id > after_id).order_by(AuditLog.id).limit(batch)
        ).all()
        for row in rows:
            values = row._mapping
            content = {name: values[name] for name in _CONTENT}
            if values["prev_hash"] != expected_prev or values["hash"] != row_hash(
                content, values["prev_hash"]
            ):
                return int(values["id"])
            expected_prev = values["hash"]
        if len(rows) < batch:
            return None
        after_id = rows[-1].id
