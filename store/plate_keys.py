"""Index keys for plate patterns that no index answers directly.

* ``plate_neighbourhood``: every plate within an OCR-aware distance of a plate (the distance of
  ``tracing.watch.ocr_distance``), so that fuzzy search becomes exact lookups on the plate B-tree;
* ``prefix_range``: the B-tree range of the plates that start with a wildcard's fixed start.
"""

from __future__ import annotations

from collections.abc import Iterator

from lpr.plates import TO_DIGIT, TO_LETTER
from store.errors import InvalidInput
from store.watchlist import PLATE_CHARS

# Distance 1 around an 8-character plate is ~700 plates; 1.5 is ~25,000, past what one
# index lookup per plate per day partition answers quickly.
MAX_NEIGHBOURHOOD = 5_000

# The substitutions ``tracing.watch.ocr_distance`` charges half an edit, per character.
_CHEAP: dict[str, frozenset[str]] = {
    c: frozenset(
        {b for a, b in (*TO_DIGIT.items(), *TO_LETTER.items()) if a == c}
        | {a for a, b in (*TO_DIGIT.items(), *TO_LETTER.items()) if b == c}
    )
    for c in PLATE_CHARS
}
_ALPHABET = sorted(PLATE_CHARS)


def plate_neighbourhood(
    plate: str, max_distance: float, *, limit: int = MAX_NEIGHBOURHOOD
) -> frozenset[str]:
    """Every plate within ``max_distance`` of ``plate`` by ``ocr_distance``, itself included.

    A breadth-first walk over single edits, in half-edit units: a confusable substitution
    (``O/0``, ``B/8``, ...) costs 1, any other substitution, insertion or deletion 2. Each
    plate is kept with the most budget any path reached it with, so nothing reachable is cut.
    """
    if max_distance < 0:
        raise InvalidInput(f"distance must not be negative, got {max_distance}")
    left: dict[str, int] = {plate: round(2 * max_distance)}
    frontier = [plate]
    while frontier:
        reached: list[str] = []
        for text in frontier:
            budget = left[text]
            for neighbour, cost in _single_edits(text, budget):
                rest = budget - cost
                if neighbour and left.get(neighbour, -1) < rest:
                    left[neighbour] = rest
                    reached.append(neighbour)
            if len(left) > limit:
                raise InvalidInput(
                    f"distance {max_distance:g} around {plate} reaches more than {limit} plates; "
                    "use a smaller distance or a wildcard"
                )
        frontier = [t for t in dict.fromkeys(reached) if left[t] > 0]
    return frozenset(left)


def _single_edits(text: str, budget: int) -> Iterator[tuple[str, int]]:
    for i, c in enumerate(text):
        head, tail = text[:i], text[i + 1 :]
        for other in _CHEAP[c]:
            yield head + other + tail, 1
        if budget >= 2:
            yield head + tail, 2
            for other in _ALPHABET:
                if other != c and other not in _CHEAP[c]:
                    yield head + other + tail, 2
    if budget >= 2:
        for i in range(len(text) + 1):
            for other in _ALPHABET:
                yield text[:i] + other + text[i:], 2


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """The plates starting with ``prefix`` are those in ``[low, high)``; ``high`` is ``None``
    when unbounded. Bounds stay within capitals and digits, which every collation orders the
    same way (digits first)."""
    chars = _ALPHABET  # digits, then capitals: sorted
    head = prefix
    while head:
        last = chars.index(head[-1])
        if last + 1 < len(chars):
            return prefix, head[:-1] + chars[last + 1]
        head = head[:-1]
    return prefix, None
