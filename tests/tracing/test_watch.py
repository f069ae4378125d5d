from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from store.watchlist import (
    EntryChanges,
    NewWatchlistEntry,
    PlatePattern,
    WatchlistEntry,
    add_entry,
    change_entry,
    expire_entry,
)
from tracing.watch import WatchIndex, WatchlistMatcher, ocr_distance

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ALPHABET = "ABCDEFGHKLMNPSTUVXYZ0123456789"


def _entry(
    entry_id: int,
    pattern: str,
    distance: float = 0.0,
    *,
    priority: int = 3,
    colour: str | None = None,
    country: str | None = None,
    expires_at: datetime = NOW + timedelta(days=1),
) -> WatchlistEntry:
    return WatchlistEntry(
        id=entry_id,
        pattern=PlatePattern.parse(pattern, max_distance=distance),
        priority=priority,
        reason="test",
        legal_basis="case 1",
        created_by="tester",
        colour=colour,
        country=country,
        expires_at=expires_at,
        created_at=NOW,
        updated_at=NOW,
    )


def _ids(index: WatchIndex, plate: str, **kw: str) -> list[int]:
    return [m.entry.id for m in index.match(plate, at=NOW, **kw)]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("51A12345", "51A12345", 0.0),
        ("51A12345", "5IA12345", 0.5),  # I/1
        ("51A12345", "51A1Z34S", 1.0),  # Z/2 and S/5
        ("51A12345", "51A12346", 1.0),  # 5/6 is no OCR confusion
        ("51A12345", "51A1234", 1.0),  # a lost character
        ("D0B8", "0O88", 1.5),  # D/0, 0/O, B/8
    ],
)
def test_ocr_distance_weighs_confusions_at_half(a: str, b: str, distance: float) -> None:
    assert ocr_distance(a, b) == distance
    assert ocr_distance(b, a) == distance


def test_ocr_distance_stops_early_beyond_limit() -> None:
    assert ocr_distance("51A12345", "99X99999", limit=1) > 1


def test_exact_wildcard_and_fuzzy_matches_are_ordered_by_urgency() -> None:
    index = WatchIndex(
        [
            _entry(1, "51A12345", priority=3),
            _entry(2, "51A*45", priority=2),
            _entry(3, "51A1234?", priority=3),
            _entry(4, "51A12845", 1.0, priority=1),
            _entry(5, "30E99999"),
        ]
    )
    matches = index.match("51A12345", at=NOW)
    assert [m.entry.id for m in matches] == [4, 2, 1, 3]
    assert [(m.fuzzy, m.distance) for m in matches] == [
        (True, 1.0),
        (False, 0.0),
        (False, 0.0),
        (False, 0.0),
    ]
    assert _ids(index, "51A1Z3A5") == []
    assert _ids(index, "51AB45") == [2]


def test_fuzzy_match_marks_the_distance() -> None:
    index = WatchIndex([_entry(1, "51A12345", 1.5)])
    (match,) = index.match("5IA1Z3A5", at=NOW)
    assert (match.fuzzy, match.distance) == (True, 1.5)
    assert _ids(index, "5IA1Z3A6") == []


def test_expired_entries_never_match() -> None:
    index = WatchIndex([_entry(1, "51A12345", expires_at=NOW), _entry(2, "51A*", 0)])
    assert _ids(index, "51A12345") == [2]
    assert index.drop_expired(NOW) == [1]
    assert index.drop_expired(NOW) == []
    assert len(index) == 1


def test_drop_expired_follows_replaced_expiry() -> None:
    index = WatchIndex([_entry(1, "51A12345", expires_at=NOW), _entry(2, "30E9999", 1.0)])
    index.add(_entry(1, "51A12345", expires_at=NOW + timedelta(hours=1)))
    index.remove(2)
    assert index.drop_expired(NOW) == []
    assert _ids(index, "51A12345") == [1]
    assert index.drop_expired(NOW + timedelta(hours=1)) == [1]
    assert len(index) == 0


def test_colour_and_country_narrow_only_when_read() -> None:
    index = WatchIndex([_entry(1, "51A12345", colour="red", country="VN")])
    assert _ids(index, "51A12345", colour="Red", country="VN") == [1]
    assert _ids(index, "51A12345") == [1]
    assert _ids(index, "51A12345", colour="blue") == []
    assert _ids(index, "51A12345", country="UA") == []


def test_remove_and_replace_keep_index_consistent() -> None:
    index = WatchIndex([_entry(1, "51A12345"), _entry(2, "51A*", 0)])
    index.add(_entry(1, "30E99999", 1.0))
    assert _ids(index, "51A12345") == [2]
    assert _ids(index, "30E9999B") == [1]
    index.remove(2)
    index.remove(99)
    assert _ids(index, "51A12345") == []
    assert len(index) == 1


def test_index_finds_exactly_what_a_linear_scan_finds() -> None:
    rng = random.Random(7)

    def plate() -> str:
        return "".join(rng.choices(ALPHABET, k=rng.randint(6, 9)))

    def wildcard(p: str) -> str:
        chars = list(p)
        chars[rng.randrange(len(chars))] = "?"
        return "".join(chars[:-2]) + "*" if rng.random() < 0.5 else "".join(chars)

    entries = []
    for i in range(900):
        kind = i % 3
        if kind == 0:
            entries.append(_entry(i, plate()))
        elif kind == 1:
            entries.append(_entry(i, wildcard(plate())))
        else:
            entries.append(_entry(i, plate(), rng.choice([0.5, 1.0, 1.5, 2.0])))
    index = WatchIndex(entries)

    def mutate(p: str) -> str:
        chars = list(p)
        for _ in range(rng.randint(0, 3)):
            op, i = rng.random(), rng.randrange(len(chars))
            if op < 0.4:
                chars[i] = rng.choice(ALPHABET)
            elif op < 0.7 and len(chars) > 5:
                del chars[i]
            else:
                chars.insert(i, rng.choice(ALPHABET))
        return "".join(chars)

    queries = [mutate(e.pattern.text.replace("?", "A").replace("*", "")) for e in entries[::6]]
    hits = 0
    for query in queries:
        expected = set()
        for e in entries:
            p = e.pattern
            if (
                (p.kind == "exact" and p.text == query)
                or (p.kind == "wildcard" and p.regex().fullmatch(query))
                or (p.kind == "fuzzy" and ocr_distance(p.text, query, limit=9) <= p.max_distance)
            ):
                expected.add(e.id)
        assert set(_ids(index, query)) == expected, query
        hits += bool(expected)
    assert hits >= 20  # the comparison covered real matches, not only misses


def _new(pattern: str) -> NewWatchlistEntry:
    return NewWatchlistEntry(
        pattern=pattern, reason="stolen", legal_basis="case 7", created_by="tester"
    )


def test_matcher_follows_database_changes(clean_engine: Engine) -> None:
    with clean_engine.begin() as conn:
        first = add_entry(conn, _new("51A12345"))
    matcher = WatchlistMatcher(clean_engine, refresh_every=0)
    now = datetime.now(UTC)
    assert [m.entry.id for m in matcher.match("51A12345", at=now)] == [first.id]

    with clean_engine.begin() as conn:
        second = add_entry(conn, _new("30E*"))
        change_entry(conn, first.id, EntryChanges(pattern="51A99999"))
    assert [m.entry.id for m in matcher.match("30E12345", at=now)] == [second.id]
    assert matcher.match("51A12345", at=now) == []
    assert [m.entry.id for m in matcher.match("51A99999", at=now)] == [first.id]

    with clean_engine.begin() as conn:
        expire_entry(conn, second.id)
    assert matcher.match("30E12345", at=datetime.now(UTC)) == []
    assert len(matcher.index) == 1


def test_matcher_polls_no_more_often_than_asked(clean_engine: Engine) -> None:
    matcher = WatchlistMatcher(clean_engine, refresh_every=3600)
    matcher.refresh()
    with clean_engine.begin() as conn:
        add_entry(conn, _new("51A12345"))
    assert matcher.match("51A12345", at=datetime.now(UTC)) == []
    matcher.refresh(force=True)
    assert len(matcher.match("51A12345", at=datetime.now(UTC))) == 1
