"""Watchlist entries: which plates a dispatcher must hear about, why, and until when.

A pattern is exact (``51A12345``), a wildcard (``?`` one character, ``*`` any run) or fuzzy
(exact text plus a maximum OCR-aware distance, see ``tracing.watch``). Every entry names its
legal basis and expires; an expired entry stays for the record but never matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Connection, Row, Table, func, insert, select, update

from store.errors import InvalidInput, NotFound
from store.models_alerts import WatchlistEntryModel

PatternKind = Literal["exact", "wildcard", "fuzzy"]

PLATE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
MIN_PLATE_LENGTH = 3
MAX_PLATE_LENGTH = 12
# A wildcard needs this many fixed characters, or it would alert on a large share of all traffic.
MIN_FIXED_CHARACTERS = 3
# Below this length a fuzzy pattern within distance 1-2 matches too many unrelated plates.
MIN_FUZZY_LENGTH = 5
MAX_DISTANCE = 2.0
DEFAULT_LIFETIME = timedelta(days=30)
DEFAULT_PRIORITY = 3  # 1 is the most urgent

_SEPARATORS = str.maketrans("", "", " -.·_")
_COUNTRY = re.compile(r"[A-Z]{2}")
_T = cast(Table, WatchlistEntryModel.__table__)


@dataclass(frozen=True, slots=True)
class PlatePattern:
    """A validated, normalised pattern. Build it with ``PlatePattern.parse``."""

    text: str
    kind: PatternKind
    max_distance: float = 0.0

    @classmethod
    def parse(cls, raw: str, *, max_distance: float = 0.0) -> PlatePattern:
        text = re.sub(r"\*+", "*", raw.strip().upper().translate(_SEPARATORS))
        illegal = sorted(set(text) - PLATE_CHARS - {"?", "*"})
        if illegal:
            raise InvalidInput(
                f"pattern {raw!r} is not a plate: characters {''.join(illegal)!r} never occur"
            )
        fixed = sum(c in PLATE_CHARS for c in text)
        if fixed < MIN_FIXED_CHARACTERS:
            raise InvalidInput(
                f"pattern {raw!r} is not a plate: it needs at least "
                f"{MIN_FIXED_CHARACTERS} fixed letters or digits, it has {fixed}"
            )
        length = len(text.replace("*", ""))
        if not MIN_PLATE_LENGTH <= length <= MAX_PLATE_LENGTH:
            raise InvalidInput(
                f"pattern {raw!r} is not a plate: a plate has {MIN_PLATE_LENGTH}"
                f"-{MAX_PLATE_LENGTH} characters"
            )
        wild = "?" in text or "*" in text
        if not max_distance:
            return cls(text, "wildcard" if wild else "exact")
        if wild:
            raise InvalidInput(f"pattern {raw!r}: a fuzzy pattern cannot contain wildcards")
        if not 0 < max_distance <= MAX_DISTANCE or (max_distance * 2) % 1:
            raise InvalidInput(
                f"max distance must be a multiple of 0.5 in (0, {MAX_DISTANCE}], got {max_distance}"
            )
        if length < MIN_FUZZY_LENGTH:
            raise InvalidInput(
                f"pattern {raw!r}: fuzzy matching needs at least {MIN_FUZZY_LENGTH} characters"
            )
        return cls(text, "fuzzy", float(max_distance))

    def regex(self) -> re.Pattern[str]:
        """The wildcard as a regular expression for ``fullmatch``."""
        return re.compile("".join({"?": ".", "*": ".*"}.get(c, c) for c in self.text))


@dataclass(frozen=True, slots=True)
class NewWatchlistEntry:
    pattern: str
    reason: str
    legal_basis: str  # case number or warrant reference
    created_by: str
    priority: int = DEFAULT_PRIORITY
    max_distance: float = 0.0
    expires_at: datetime | None = None  # None: DEFAULT_LIFETIME from now
    colour: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class EntryChanges:
    """Fields to change on an entry; ``None`` leaves a field as it is."""

    pattern: str | None = None
    max_distance: float | None = None
    priority: int | None = None
    reason: str | None = None
    legal_basis: str | None = None
    expires_at: datetime | None = None
    colour: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    id: int
    pattern: PlatePattern
    priority: int
    reason: str
    legal_basis: str
    created_by: str
    colour: str | None
    country: str | None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime

    def active_at(self, when: datetime) -> bool:
        return when < self.expires_at


def add_entry(conn: Connection, new: NewWatchlistEntry) -> WatchlistEntry:
    """Validate and store ``new``; raise ``InvalidInput`` (nothing stored) when it is unfit."""
    now = _db_now(conn)
    values = _validated(
        pattern=PlatePattern.parse(new.pattern, max_distance=new.max_distance),
        priority=new.priority,
        reason=new.reason,
        legal_basis=new.legal_basis,
        expires_at=new.expires_at or now + DEFAULT_LIFETIME,
        colour=new.colour,
        country=new.country,
        now=now,
    )
    values["created_by"] = _required_text("created_by", new.created_by)
    row = conn.execute(
        insert(_T).values(**values, updated_at=func.clock_timestamp()).returning(*_T.c)
    ).one()
    return _entry(row)


def get_entry(conn: Connection, entry_id: int) -> WatchlistEntry:
    row = conn.execute(select(_T).where(_T.c.id == entry_id)).one_or_none()
    if row is None:
        raise NotFound(f"watchlist entry {entry_id} does not exist")
    return _entry(row)


def list_entries(
    conn: Connection, *, active: bool | None = True, limit: int = 100, offset: int = 0
) -> list[WatchlistEntry]:
    """Entries newest first; ``active`` True/False filters by expiry, None lists all."""
    if not 1 <= limit <= 10_000 or offset < 0:
        raise InvalidInput(f"limit must be 1-10000 and offset >= 0, got {limit}, {offset}")
    query = select(_T).order_by(_T.c.id.desc()).limit(limit).offset(offset)
    if active is not None:
        query = query.where((_T.c.expires_at > func.now()) == active)
    return [_entry(r) for r in conn.execute(query)]


def change_entry(conn: Connection, entry_id: int, changes: EntryChanges) -> WatchlistEntry:
    """Apply ``changes`` after validating the entry as it would become."""
    current = get_entry(conn, entry_id)
    pattern = current.pattern
    if changes.pattern is not None or changes.max_distance is not None:
        pattern = PlatePattern.parse(
            changes.pattern if changes.pattern is not None else pattern.text,
            max_distance=(
                changes.max_distance if changes.max_distance is not None else pattern.max_distance
            ),
        )

    values = _validated(
        pattern=pattern,
        priority=current.priority if changes.priority is None else changes.priority,
        reason=current.reason if changes.reason is None else changes.reason,
        legal_basis=current.legal_basis if changes.legal_basis is None else changes.legal_basis,
        expires_at=changes.expires_at or current.expires_at,
        colour=changes.colour or current.colour,
        country=changes.country or current.country,
        now=_db_now(conn),
        check_expiry=changes.expires_at is not None,
    )
    row = conn.execute(
        update(_T)
        .where(_T.c.id == entry_id)
        .values(**values, updated_at=func.clock_timestamp())
        .returning(*_T.c)
    ).one()
    return _entry(row)


def expire_entry(conn: Connection, entry_id: int) -> WatchlistEntry:
    """End an entry now; expiring an already expired entry changes nothing."""
    row = conn.execute(
        update(_T)
        .where(_T.c.id == entry_id, _T.c.expires_at > func.now())
        .values(expires_at=func.now(), updated_at=func.clock_timestamp())
        .returning(*_T.c)
    ).one_or_none()
    return _entry(row) if row is not None else get_entry(conn, entry_id)


@dataclass(frozen=True, slots=True)
class WatchlistChanges:
    as_of: datetime  # the database clock before the read: poll from here next time
    entries: list[WatchlistEntry]


def entries_changed_since(conn: Connection, since: datetime | None) -> WatchlistChanges:
    """Entries updated after ``since`` (expired ones too, so a matcher can drop them);
    with ``since`` None, every active entry."""
    as_of: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
    query = select(_T).order_by(_T.c.updated_at)
    if since is None:
        query = query.where(_T.c.expires_at > func.now())
    else:
        query = query.where(_T.c.updated_at > since)
    return WatchlistChanges(as_of, [_entry(r) for r in conn.execute(query)])


def _validated(
    *,
    pattern: PlatePattern,
    priority: int,
    reason: str,
    legal_basis: str,
    expires_at: datetime,
    colour: str | None,
    country: str | None,
    now: datetime,
    check_expiry: bool = True,
) -> dict[str, Any]:
    if not 1 <= priority <= 5:
        raise InvalidInput(f"priority must be 1 (most urgent) to 5, got {priority}")
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at must carry a time zone")
    if check_expiry and expires_at <= now:
        raise InvalidInput(f"expires_at {expires_at.isoformat()} is in the past")
    if country is not None and not _COUNTRY.fullmatch(country.upper()):
        raise InvalidInput(f"country must be a two-letter code, got {country!r}")
    return {
        "pattern": pattern.text,
        "kind": pattern.kind,
        "max_distance": pattern.max_distance,
        "priority": priority,
        "reason": _required_text("reason", reason),
        "legal_basis": _required_text("legal_basis", legal_basis),
        "expires_at": expires_at,
        "colour": colour.strip().lower() or None if colour is not None else None,
        "country": country.upper() if country is not None else None,
    }


def _required_text(name: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{name} is required")
    return value.strip()


def _db_now(conn: Connection) -> datetime:
    now: datetime = conn.execute(select(func.now())).scalar_one()
    return now.astimezone(UTC)


def _entry(row: Row[Any]) -> WatchlistEntry:
    return WatchlistEntry(
        id=row.id,
        pattern=PlatePattern(row.pattern, row.kind, row.max_distance),
        priority=row.priority,
        reason=row.reason,
        legal_basis=row.legal_basis,
        created_by=row.created_by,
        colour=row.colour,
        country=row.country,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
