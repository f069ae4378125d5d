"""Watchlist: add, change, expire and list the plates that raise alerts.

Investigators (and admins) keep the list, since every entry needs a legal basis from a case;
dispatchers may read it to understand an alert. Entries are city-wide: a wanted vehicle is
wanted at every agency's cameras.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import status as http
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.deps import Audit, DbConn, PageLimit, RequireRoles, RowId
from store.users import Principal, Role
from store.watchlist import (
    DEFAULT_PRIORITY,
    EntryChanges,
    NewWatchlistEntry,
    WatchlistEntry,
    add_entry,
    change_entry,
    expire_entry,
    get_entry,
    list_entries,
)

router = APIRouter(prefix="/watchlist", tags=["watchlist"])

Keepers = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.INVESTIGATOR))]
Readers = Annotated[
    Principal, Depends(RequireRoles(Role.ADMIN, Role.INVESTIGATOR, Role.DISPATCHER))
]
_TEXT = r"^[^\x00-\x1f\x7f]*$"
Pattern = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="A plate (51A12345), a wildcard (? one character, * any run: 51A*45) "
        "or, with max_distance, a fuzzy plate.",
        examples=["51A12345", "51A?23*"],
    ),
]
Distance = Annotated[
    float,
    Field(ge=0, le=2, description="Fuzzy: largest OCR-aware distance (O/0, I/1... cost 0.5)."),
]
Priority = Annotated[int, Field(ge=1, le=5, description="1 is the most urgent.")]
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=_TEXT)]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    pattern: Pattern
    reason: Text = Field(examples=["stolen vehicle"])
    legal_basis: Text = Field(description="Case number or warrant.", examples=["HCM-2026-0042"])
    priority: Priority = DEFAULT_PRIORITY
    max_distance: Distance = 0.0
    expires_at: AwareDatetime | None = Field(default=None, description="Default: in 30 days.")
    colour: str | None = Field(default=None, max_length=16, pattern=_TEXT, examples=["white"])
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", examples=["VN"])


class EntryChange(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    pattern: Pattern | None = None
    reason: Text | None = None
    legal_basis: Text | None = None
    priority: Priority | None = None
    max_distance: Distance | None = None
    expires_at: AwareDatetime | None = None
    colour: str | None = Field(default=None, max_length=16, pattern=_TEXT)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")


class EntryOut(BaseModel):
    id: int
    pattern: str
    kind: Literal["exact", "wildcard", "fuzzy"]
    max_distance: float
    priority: int
    reason: str
    legal_basis: str
    created_by: str
    colour: str | None
    country: str | None
    expires_at: datetime
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: WatchlistEntry, *, now: datetime) -> EntryOut:
        return cls(
            id=entry.id,
            pattern=entry.pattern.text,
            kind=entry.pattern.kind,
            max_distance=entry.pattern.max_distance,
            priority=entry.priority,
            reason=entry.reason,
            legal_basis=entry.legal_basis,
            created_by=entry.created_by,
            colour=entry.colour,
            country=entry.country,
            expires_at=entry.expires_at,
            active=entry.active_at(now),
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )


@router.post("", status_code=http.HTTP_201_CREATED)
def watchlist_add(body: EntryIn, conn: DbConn, user: Keepers, audit: Audit) -> EntryOut:
    """Add an entry. A pattern that is no plate, a past expiry or no legal basis: 400."""
    entry = add_entry(conn, NewWatchlistEntry(**body.model_dump(), created_by=user.name))
    audit.result_count = 1
    audit.params = {"entry_id": entry.id, "pattern": entry.pattern.text}
    return EntryOut.of(entry, now=datetime.now(UTC))


@router.get("")
def watchlist_list(
    conn: DbConn,
    user: Readers,
    audit: Audit,
    limit: PageLimit,
    state: Annotated[Literal["active", "expired", "all"], Query()] = "active",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[EntryOut]:
    """Entries newest first."""
    active = {"active": True, "expired": False, "all": None}[state]
    entries = list_entries(conn, active=active, limit=limit, offset=offset)
    audit.result_count = len(entries)
    now = datetime.now(UTC)
    return [EntryOut.of(e, now=now) for e in entries]


@router.get("/{entry_id}")
def watchlist_read(entry_id: RowId, conn: DbConn, user: Readers, audit: Audit) -> EntryOut:
    entry = get_entry(conn, entry_id)
    audit.result_count = 1
    return EntryOut.of(entry, now=datetime.now(UTC))


@router.patch("/{entry_id}")
def watchlist_change(
    entry_id: RowId, body: EntryChange, conn: DbConn, user: Keepers, audit: Audit
) -> EntryOut:
    """Change the given fields; the entry is validated as it would become."""
    entry = change_entry(conn, entry_id, EntryChanges(**body.model_dump()))
    audit.result_count = 1
    audit.params = body.model_dump(mode="json", exclude_none=True)
    return EntryOut.of(entry, now=datetime.now(UTC))


@router.post("/{entry_id}/expire")
def watchlist_expire(entry_id: RowId, conn: DbConn, user: Keepers, audit: Audit) -> EntryOut:
    """End an entry now; it stays on record and never matches again."""
    entry = expire_entry(conn, entry_id)
    audit.result_count = 1
    return EntryOut.of(entry, now=datetime.now(UTC))
