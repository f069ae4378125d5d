from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from store.errors import InvalidInput, NotFound
from store.models_alerts import WatchlistEntryModel
from store.watchlist import (
    EntryChanges,
    NewWatchlistEntry,
    PlatePattern,
    add_entry,
    change_entry,
    entries_changed_since,
    expire_entry,
    get_entry,
    list_entries,
)


def _new(pattern: str = "51A12345", **kw: Any) -> NewWatchlistEntry:
    base: dict[str, Any] = {
        "pattern": pattern,
        "reason": "stolen vehicle",
        "legal_basis": "case HCM-2026-0042",
        "created_by": "dispatcher1",
    }
    return NewWatchlistEntry(**(base | kw))


def _count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(WatchlistEntryModel)).scalar_one()


@pytest.mark.parametrize(
    ("raw", "distance", "expected"),
    [
        ("51a-123.45", 0, PlatePattern("51A12345", "exact")),
        ("51A?23*", 0, PlatePattern("51A?23*", "wildcard")),
        ("*12**345", 0, PlatePattern("*12*345", "wildcard")),
        ("51A12345", 1.5, PlatePattern("51A12345", "fuzzy", 1.5)),
    ],
)
def test_patterns_are_normalised_and_classified(
    raw: str, distance: float, expected: PlatePattern
) -> None:
    assert PlatePattern.parse(raw, max_distance=distance) == expected


@pytest.mark.parametrize(
    ("raw", "distance", "reason"),
    [
        ("*", 0, "fixed letters"),
        ("??????", 0, "fixed letters"),
        ("AB*", 0, "fixed letters"),
        ("51A#123", 0, "never occur"),
        ("ÄBC123", 0, "never occur"),
        ("AB", 0, "fixed letters"),
        ("A" * 13, 0, "3-12 characters"),
        ("51A1*", 1, "cannot contain wildcards"),
        ("51A12345", 0.3, "multiple of 0.5"),
        ("51A12345", 3, "multiple of 0.5"),
        ("A123", 1, "at least 5"),
    ],
)
def test_non_plate_patterns_are_refused(raw: str, distance: float, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        PlatePattern.parse(raw, max_distance=distance)


def test_wildcard_regex_matches_whole_plate() -> None:
    regex = PlatePattern.parse("51?1*5").regex()
    assert regex.fullmatch("51A12345")
    assert not regex.fullmatch("51A123456X")
    assert not regex.fullmatch("X51A12345")


def test_add_defaults_expiry_to_thirty_days(conn: Connection) -> None:
    entry = add_entry(conn, _new(colour="Red ", country="vn"))
    now = datetime.now(UTC)
    assert entry.pattern == PlatePattern("51A12345", "exact")
    assert timedelta(days=29, hours=23) < entry.expires_at - now <= timedelta(days=30)
    assert (entry.colour, entry.country, entry.priority) == ("red", "VN", 3)
    assert get_entry(conn, entry.id) == entry


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"pattern": "**"}, "not a plate"),
        ({"legal_basis": "  "}, "legal_basis is required"),
        ({"legal_basis": ""}, "legal_basis is required"),
        ({"reason": ""}, "reason is required"),
        ({"created_by": ""}, "created_by is required"),
        ({"expires_at": datetime.now(UTC) - timedelta(minutes=1)}, "in the past"),
        ({"expires_at": datetime(2030, 1, 1)}, "time zone"),
        ({"priority": 0}, "priority"),
        ({"country": "VNM"}, "two-letter"),
    ],
)
def test_bad_entries_store_nothing(conn: Connection, changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        add_entry(conn, _new(**changes))
    assert _count(conn) == 0


def test_change_revalidates_and_keeps_unchanged_fields(conn: Connection) -> None:
    entry = add_entry(conn, _new())
    changed = change_entry(conn, entry.id, EntryChanges(pattern="51A1234?", priority=1))
    assert changed.pattern == PlatePattern("51A1234?", "wildcard")
    assert (changed.priority, changed.reason) == (1, entry.reason)
    assert changed.updated_at > entry.updated_at
    fuzzy = change_entry(conn, entry.id, EntryChanges(pattern="51A12345", max_distance=1))
    assert fuzzy.pattern == PlatePattern("51A12345", "fuzzy", 1.0)
    with pytest.raises(InvalidInput, match="in the past"):
        change_entry(conn, entry.id, EntryChanges(expires_at=datetime(2001, 1, 1, tzinfo=UTC)))
    with pytest.raises(InvalidInput, match="legal_basis"):
        change_entry(conn, entry.id, EntryChanges(legal_basis=""))
    assert get_entry(conn, entry.id) == fuzzy
    with pytest.raises(NotFound):
        change_entry(conn, entry.id + 1000, EntryChanges(priority=2))


def test_expire_lists_and_feeds_change_polling(conn: Connection) -> None:
    keep = add_entry(conn, _new("51A11111"))
    gone = add_entry(conn, _new("51A22222"))
    before = gone.updated_at
    expired = expire_entry(conn, gone.id)
    assert not expired.active_at(datetime.now(UTC))
    assert expire_entry(conn, gone.id) == expired
    assert [e.id for e in list_entries(conn)] == [keep.id]
    assert [e.id for e in list_entries(conn, active=False)] == [gone.id]
    assert [e.id for e in list_entries(conn, active=None)] == [gone.id, keep.id]
    assert [e.id for e in entries_changed_since(conn, None).entries] == [keep.id]
    changes = entries_changed_since(conn, before)
    assert [e.id for e in changes.entries] == [gone.id]
    assert changes.as_of > expired.updated_at
    with pytest.raises(NotFound):
        expire_entry(conn, 10_000)
    with pytest.raises(InvalidInput, match="limit"):
        list_entries(conn, limit=0)
