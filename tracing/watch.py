"""Match sightings against the watchlist, fast enough for every sighting of a city.

The index keeps three structures, one per pattern kind:

* exact: a dict from plate to entries;
* wildcard: each pattern filed under one n-gram of its longest fixed run; a plate looks up
  its own n-grams and only those candidates run their regex;
* fuzzy: an OCR-aware weighted edit distance: a substitution between shapes that plate readers
  confuse (``O/0``, ``I/1``, ``B/8``, ``S/5``, ``Z/2``, ``D/0``..., the table in ``lpr.plates``)
  costs 0.5, any other edit 1. Mapping each group of confusable characters onto one canonical
  character turns "weighted distance <= d" into "plain edit distance <= k = floor(d)" between
  canonical strings (a necessary condition). Two strings within edit distance k become equal
  after deleting at most k characters from each (a substitution is a deletion on both sides),
  so every entry is filed under each deletion variant of its canonical pattern (the symmetric
  delete index), and a plate looks up its own variants: only entries sharing one, a handful
  at most, are scored with the exact weighted distance. A fuzzy entry of n characters takes
  n + 1 keys at k = 1 and about n²/2 at k = 2; a plate costs the same number of lookups.

Expiry is a heap by ``expires_at``, so dropping what expired costs nothing while nothing does.

``WatchlistMatcher`` keeps the index in step with the database by polling
``store.watchlist.entries_changed_since``: a change is live within one poll interval.
"""

from __future__ import annotations

import heapq
import re
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
        self._exact: _Table = defaultdict(set)
        self._wild: _Table = defaultdict(set)
        self._regex: dict[int, re.Pattern[str]] = {}
        # One table per number of edits k: deletion variant -> entries.
        self._fuzzy: defaultdict[int, _Table] = defaultdict(lambda: defaultdict(set))
        # (expires_at, id); stale pairs of replaced or removed entries are skipped when popped.
        self._expiry: list[tuple[datetime, int]] = []
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: int) -> WatchlistEntry | None:
        return self._entries.get(entry_id)

    def add(self, entry: WatchlistEntry) -> None:
        self.remove(entry.id)
        if entry.pattern.kind == "wildcard":
            self._regex[entry.id] = entry.pattern.regex()
        for table, key in self._keys(entry):
            table[key].add(entry.id)
        self._entries[entry.id] = entry
        if len(self._expiry) > 2 * len(self._entries) + 64:
            self._expiry = [(e.expires_at, e.id) for e in self._entries.values()]
            heapq.heapify(self._expiry)
        heapq.heappush(self._expiry, (entry.expires_at, entry.id))

    def remove(self, entry_id: int) -> None:
        entry = self._entries.pop(entry_id, None)
        if entry is None:
            return
        for table, key in self._keys(entry):
            bucket = table[key]
            bucket.discard(entry_id)
            if not bucket:
                del table[key]
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
        for gram in self._wild.keys() & _grams(plate):
            for entry_id in self._wild[gram]:
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

    def drop_expired(self, at: datetime) -> list[int]:
        """Remove the entries no longer active at ``at``; return their ids."""
        dropped = []
        while self._expiry and self._expiry[0][0] <= at:
            expires_at, entry_id = heapq.heappop(self._expiry)
            entry = self._entries.get(entry_id)
            if entry is not None and entry.expires_at == expires_at:
                self.remove(entry_id)
                dropped.append(entry_id)
        return dropped

    def _keys(self, entry: WatchlistEntry) -> Iterator[tuple[_Table, Hashable]]:
        pattern = entry.pattern
        if pattern.kind == "exact":
            yield self._exact, pattern.text
        elif pattern.kind == "wildcard":
            yield self._wild, _anchor_gram(pattern.text)
        else:
            edits = int(pattern.max_distance)
            table = self._fuzzy[edits]
            for level in _deletions(pattern.text.translate(_CANONICAL), edits):
                for variant in level:
                    yield table, variant

    def _fuzzy_candidates(self, plate: str) -> set[int]:
        candidates: set[int] = set()
        if not self._fuzzy:
            return candidates
        levels = _deletions(plate.translate(_CANONICAL), max(self._fuzzy))
        for edits, table in self._fuzzy.items():
            for level in levels[: edits + 1]:
                for variant in level:
                    candidates.update(table.get(variant, ()))
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
        self._index.drop_expired(now)
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


def _deletions(text: str, edits: int) -> list[set[str]]:
    """Level i: the strings ``text`` becomes with exactly i characters deleted, i <= edits."""
    levels = [{text}]
    for _ in range(edits):
        levels.append({v[:i] + v[i + 1 :] for v in levels[-1] for i in range(len(v))})
    return levels


def _grams(text: str) -> set[str]:
    return {text[i : i + n] for n in range(1, _GRAM + 1) for i in range(len(text) - n + 1)}


def _anchor_gram(pattern: str) -> str:
    """The first ``_GRAM`` fixed characters of the pattern's longest fixed run."""
    longest = max(re.split(r"[?*]", pattern), key=len)
    return longest[:_GRAM]
