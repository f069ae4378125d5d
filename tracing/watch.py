"""Match sightings against the watchlist, fast enough for every sighting of a city.

The index keeps three structures, one per pattern kind:

* exact: a dict from plate to entries;
* wildcard: each pattern filed under one n-gram of its longest fixed run; a plate looks up
  its own n-grams and only those candidates run their regex;
* fuzzy: an OCR-aware weighted edit distance: a substitution between shapes that plate readers
  confuse (``O/0``, ``I/1``, ``B/8``, ``S/5``, ``Z/2``, ``D/0``..., the table in ``lpr.plates``)
  costs 0.5, any other edit 1. Mapping each group of confusable characters onto one canonical
  character turns "weighted distance <= d" into "plain edit distance <= floor(d)" between
  canonical strings (a necessary condition). By the pigeonhole principle, one of
  ``floor(d) + 1`` pieces of the canonical pattern then occurs unchanged in the canonical plate,
  shifted by at most ``floor(d)``, so pieces are dict keys and only entries sharing a piece are
  scored with the exact distance.

``WatchlistMatcher`` keeps the index in step with the database by polling
``store.watchlist.entries_changed_since``: a change is live within one poll interval.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import Engine

from lpr.plates import TO_DIGIT, TO_LETTER
from store.watchlist import WatchlistEntry, entries_changed_since

_GRAM = 3
# A change becomes visible at its commit, a little after its updated_at; each poll re-reads
# this much before the previous poll so a late commit is not missed. Writers must commit
# within it (ours commit within milliseconds); re-reading an unchanged entry costs little.
_POLL_OVERLAP = timedelta(seconds=5)

_Table = defaultdict[Hashable, set[int]]


def _confusion_groups() -> tuple[frozenset[tuple[str, str]], dict[int, str]]:
    """Cheap substitution pairs, and a translation onto one character per connected group
    (union-find), so that every cheap pair becomes equal after translation."""
    pairs = {*TO_DIGIT.items(), *TO_LETTER.items()}
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    for a, b in pairs:
        parent[root(a)] = root(b)
    cheap = frozenset(pairs | {(b, a) for a, b in pairs})
    return cheap, str.maketrans({c: root(c) for c in parent})


_CHEAP, _CANONICAL = _confusion_groups()


def ocr_distance(a: str, b: str, *, limit: float = float("inf")) -> float:
    """Weighted edit distance; returns a value above ``limit`` as soon as it must exceed it.

    Only cells within ``limit`` of the diagonal are computed: reaching one farther away takes
    more than ``limit`` insertions or deletions.
    """
    if abs(len(a) - len(b)) > limit:
        return abs(len(a) - len(b))
    # Half-edits as integers keep the arithmetic exact.
    cap = 2 * limit
    width = len(a) + len(b) if limit == float("inf") else int(limit)
    far = 2 * (len(a) + len(b)) + 1
    previous = [2 * j if j <= width else far for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        lo, hi = max(1, i - width), min(len(b), i + width)
        current = [far] * (len(b) + 1)
        if i <= width:
            current[0] = 2 * i
        for j in range(lo, hi + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1 if (ca, cb) in _CHEAP else 2
            current[j] = min(previous[j] + 2, current[j - 1] + 2, previous[j - 1] + cost)
        best = min(current[lo - 1 : hi + 1])
        if best > cap:
            return best / 2
        previous = current
    return previous[-1] / 2


@dataclass(frozen=True, slots=True)
class Match:
    entry: WatchlistEntry
    distance: float  # 0 for exact and wildcard matches

    @property
    def fuzzy(self) -> bool:
        return self.entry.pattern.kind == "fuzzy"


class WatchIndex:
    """In-memory index of watchlist entries; ``add`` replaces an entry with the same id."""

    def __init__(self, entries: Iterable[WatchlistEntry] = ()) -> None:
        self._entries: dict[int, WatchlistEntry] = {}
        self._keys: dict[int, list[tuple[_Table, Hashable]]] = {}
        self._exact: _Table = defaultdict(set)
        self._wild: _Table = defaultdict(set)
        self._regex: dict[int, re.Pattern[str]] = {}
        self._fuzzy: _Table = defaultdict(set)
        self._fuzzy_limits: set[int] = set()
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: int) -> WatchlistEntry | None:
        return self._entries.get(entry_id)

    def add(self, entry: WatchlistEntry) -> None:
        self.remove(entry.id)
        pattern = entry.pattern
        keys: list[tuple[_Table, Hashable]] = []
        if pattern.kind == "exact":
            keys.append((self._exact, pattern.text))
        elif pattern.kind == "wildcard":
            keys.append((self._wild, _anchor_gram(pattern.text)))
            self._regex[entry.id] = pattern.regex()
        else:
            edits = int(pattern.max_distance)
            canonical = pattern.text.translate(_CANONICAL)
            for i, (start, stop) in enumerate(_pieces(len(canonical), edits)):
                keys.append((self._fuzzy, (edits, len(canonical), i, canonical[start:stop])))
            self._fuzzy_limits.add(edits)
        for table, key in keys:
            table[key].add(entry.id)
        self._entries[entry.id] = entry
        self._keys[entry.id] = keys

    def remove(self, entry_id: int) -> None:
        for table, key in self._keys.pop(entry_id, ()):
            bucket = table[key]
            bucket.discard(entry_id)
            if not bucket:
                del table[key]
        self._entries.pop(entry_id, None)
        self._regex.pop(entry_id, None)

    def match(
        self,
        plate: str,
        *,
        at: datetime,
        colour: str | None = None,
        country: str | None = None,
    ) -> list[Match]:
        """Entries active at ``at`` that ``plate`` matches, most urgent and closest first.

        An entry's colour or country only rules a sighting out when the sighting has one:
        a colour the camera could not read must not hide a wanted car.
        """
        found: dict[int, float] = {}
        for entry_id in self._exact.get(plate, ()):
            found[entry_id] = 0.0
        for gram in _grams(plate):
            for entry_id in self._wild.get(gram, ()):
                if self._regex[entry_id].fullmatch(plate):
                    found[entry_id] = 0.0
        for entry_id in self._fuzzy_candidates(plate):
            pattern = self._entries[entry_id].pattern
            distance = ocr_distance(pattern.text, plate, limit=pattern.max_distance)
            if distance <= pattern.max_distance:
                found[entry_id] = distance
        matches = [
            Match(self._entries[entry_id], distance)
            for entry_id, distance in found.items()
            if _fits(self._entries[entry_id], at=at, colour=colour, country=country)
        ]
        return sorted(matches, key=lambda m: (m.entry.priority, m.distance, m.entry.id))

    def expired(self, at: datetime) -> list[int]:
        return [e.id for e in self._entries.values() if not e.active_at(at)]

    def _fuzzy_candidates(self, plate: str) -> set[int]:
        canonical = plate.translate(_CANONICAL)
        size = len(canonical)
        candidates: set[int] = set()
        for edits in self._fuzzy_limits:
            for length in range(max(1, size - edits), size + edits + 1):
                for i, (start, stop) in enumerate(_pieces(length, edits)):
                    for shift in range(-edits, edits + 1):
                        lo, hi = start + shift, stop + shift
                        if lo >= 0 and hi <= size:
                            key = (edits, length, i, canonical[lo:hi])
                            candidates.update(self._fuzzy.get(key, ()))
        return candidates


class WatchlistMatcher:
    """A ``WatchIndex`` that follows the database, polled at most every ``refresh_every`` s."""

    def __init__(self, engine: Engine, *, refresh_every: float = 1.0) -> None:
        if refresh_every < 0:
            raise ValueError(f"refresh_every must be >= 0, got {refresh_every}")
        self._engine = engine
        self._refresh_every = refresh_every
        self._index = WatchIndex()
        self._since: datetime | None = None
        self._next_refresh = 0.0

    @property
    def index(self) -> WatchIndex:
        return self._index

    def refresh(self, *, force: bool = False) -> None:
        if not force and time.monotonic() < self._next_refresh:
            return
        with self._engine.connect() as conn:
            changes = entries_changed_since(conn, self._since)
        now = datetime.now(UTC)
        for entry in changes.entries:
            if not entry.active_at(now):
                self._index.remove(entry.id)
            elif entry != self._index.get(entry.id):
                self._index.add(entry)
        for entry_id in self._index.expired(now):
            self._index.remove(entry_id)
        self._since = changes.as_of - _POLL_OVERLAP
        self._next_refresh = time.monotonic() + self._refresh_every

    def match(
        self, plate: str, *, at: datetime, colour: str | None = None, country: str | None = None
    ) -> list[Match]:
        self.refresh()
        return self._index.match(plate, at=at, colour=colour, country=country)


def _fits(entry: WatchlistEntry, *, at: datetime, colour: str | None, country: str | None) -> bool:
    return (
        entry.active_at(at)
        and (entry.colour is None or colour is None or entry.colour == colour.lower())
        and (entry.country is None or country is None or entry.country == country)
    )


def _pieces(length: int, edits: int) -> list[tuple[int, int]]:
    """``edits + 1`` near-equal consecutive pieces of a string of ``length``."""
    bounds = [length * i // (edits + 1) for i in range(edits + 2)]
    return list(pairwise(bounds))


def _grams(text: str) -> Iterator[str]:
    for n in range(1, _GRAM + 1):
        for i in range(len(text) - n + 1):
            yield text[i : i + n]


def _anchor_gram(pattern: str) -> str:
    """The first ``_GRAM`` fixed characters of the pattern's longest fixed run."""
    longest = max(re.split(r"[?*]", pattern), key=len)
    return longest[:_GRAM]
