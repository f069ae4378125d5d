"""Plate formats per country: validate a read, fix letter/digit confusions, reject non-plates.

A read reaches this module as a sequence of *positions*, each a small mapping from candidate
characters to the reader's probability for them (``{"0": 0.9, "O": 0.08}``); plain text is
the special case of one candidate per position with probability 1.

Every format is a string of kinds, ``L`` (a letter from the format's alphabet) or ``D`` (a
digit). Matching a format picks, at each position, the most probable candidate of the kind the
format demands there; when the reader offered none, the confusion table (O/0, I/1, B/8, S/5,
Z/2, ...) stands in at a heavy penalty. That is how ``0KL0817`` becomes the Brazilian ``OKL0817``
while a generic European ``AB12C34`` stays itself: the correction happens only where the format
fixes the kind of the position *and* the reader found the other reading plausible.

The score of a match is the geometric mean of the chosen probabilities (so long and short plates
compare fairly), times a prior that favours the strict national formats over the generic ones,
times a price per character the format leaves out (a country strip, ``RUS``, a sticker).

Cyrillic letters are mapped to the Latin letter of the *same shape* (В→B, Н→H, Р→P, С→C, У→Y,
Х→X, І→I), never by sound; letters with no Latin twin (Ж, Ц, ...) make the read invalid.

Normalised plates (``PlateRead.plate``) are Latin capitals and digits without separators. Two-row
plates (VN ``51F-123.45``, ``29-B1 234.56``) are joined top row first before matching.
"""

from __future__ import annotations

import functools
import itertools
import math
import string
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Position = Mapping[str, float]

CYRILLIC_SHAPES = str.maketrans(
    "АВЕКМНОРСТУХІЈЅЗабекмнорстухіјѕз",
    "ABEKMHOPCTYXIJS3ABEKMHOPCTYXIJS3",
)
SEPARATORS = frozenset(" -.·:|_,/")
DIGITS = frozenset(string.digits)

# Shapes that the eye and OCR models confuse; used only where a format fixes the kind.
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "J": "1", "T": "1"}
TO_DIGIT |= {"Z": "2", "B": "8", "S": "5", "G": "6", "A": "4", "E": "3"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "8": "B", "5": "S", "6": "G", "4": "A", "7": "T"}
TO_LETTER |= {"3": "E"}

CONFUSION_PROBABILITY = 0.02  # what a table correction is worth when the reader never offered it
SAME_GLYPH_PROBABILITY = 0.3
# Price of a character a format leaves out (a country strip, RUS, a sticker between groups):
# at the ends, from SKIP_PRICE_SURE for a character read with certainty to SKIP_PRICE_UNSURE
# for a guess; between two groups always SKIP_PRICE_SURE (a seal or crest there reads as a
# sure 8 or H); inside a group, where the plate prints nothing, down to SKIP_PRICE_IN_GROUP.
SKIP_PRICE_SURE = 0.6
SKIP_PRICE_UNSURE = 0.9
SKIP_PRICE_IN_GROUP = 0.3
SHARED_PRIOR = 0.8
GENERIC_PRIOR = 0.45  # a generic format accepts almost anything with a letter and a digit
MIN_SCORE = 0.35  # below this a "plate" is mostly corrections and skipped characters

CYRILLIC_PLATE_LETTERS = "ABEKMHOPCTYX"  # the twelve letters RU and UA plates share with Latin
VN_LETTERS = "ABCDEFGHKLMNPRSTUVXYZ"


class PlateError(ValueError):
    """A text that cannot be a plate."""


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """A national format: ``pattern`` of ``L``/``D`` kinds, a space where the plate prints a gap
    between groups (or a dash, a dot, a crest, the break between two rows)."""

    country: str
    pattern: str
    letters: str = string.ascii_uppercase
    prior: float = 1.0

    @property
    def kinds(self) -> str:
        return self.pattern.replace(" ", "")

    @property
    def gapless(self) -> bool:
        """The plate prints its characters as one run, so a space or dash the reader saw
        inside it is a character the format leaves out, at that price."""
        return " " not in self.pattern

    @property
    def gaps(self) -> frozenset[int]:
        """Indices into ``kinds`` of the characters that follow a gap."""
        groups = self.pattern.split()
        return frozenset(itertools.accumulate(len(g) for g in groups[:-1]))


@dataclass(frozen=True, slots=True)
class GenericFormat:
    """A loose format for regions without one national pattern: a letter and a digit at least."""

    country: str
    min_length: int
    max_length: int


@dataclass(frozen=True, slots=True)
class PlateMatch:
    plate: str
    country: str
    score: float
    corrections: int
    probabilities: tuple[float, ...] = ()  # the reader's, per plate character


FORMATS: tuple[PlateFormat | GenericFormat, ...] = (
    PlateFormat("UA", "LL DDDD LL", CYRILLIC_PLATE_LETTERS + "I"),
    PlateFormat("UA", "DDDDD LL", CYRILLIC_PLATE_LETTERS + "I"),
    PlateFormat("RU", "L DDD LL DD", CYRILLIC_PLATE_LETTERS),
    PlateFormat("RU", "L DDD LL DDD", CYRILLIC_PLATE_LETTERS),
    # Vietnam's five-digit serials print a dot after the third digit (51F-123.45).
    PlateFormat("VN", "DDL DDD DD", VN_LETTERS),
    PlateFormat("VN", "DDL DDDD", VN_LETTERS),
    PlateFormat("VN", "DDLD DDD DD", VN_LETTERS),
    PlateFormat("VN", "DDLD DDDD", VN_LETTERS),
    PlateFormat("VN", "DDLL DDD DD", VN_LETTERS),
    PlateFormat("BR", "LLL DDDD"),
    # Mercosur plates have no gap; the old grey ones a dash (ABC-1234).
    PlateFormat("BR", "LLLDLDD"),
    # European formats several countries share (FR/IT/SK/HR..., CZ, PL, ES); each also fits
    # other plates by chance, so they rank just below the single-country formats.
    PlateFormat("EU", "LL DDD LL", prior=SHARED_PRIOR),
    PlateFormat("EU", "DLD DDDD", prior=SHARED_PRIOR),
    PlateFormat("EU", "LL DDDDD", prior=SHARED_PRIOR),
    PlateFormat("EU", "DDDD LLL", prior=SHARED_PRIOR),
    # Polish diplomatic plates: W, the mission's three digits and the car's three.
    PlateFormat("EU", "L DDD DDD", "W", prior=SHARED_PRIOR),
    GenericFormat("EU", 4, 8),
    GenericFormat("US", 2, 8),
)
COUNTRIES = tuple(dict.fromkeys(f.country for f in FORMATS))
# A Russian plate is its main part (A123BC) and a framed region code of two or three digits.
RU_MAIN_LENGTH = 6
RU_REGIONS = (PlateFormat("RU", "DD"), PlateFormat("RU", "DDD"))


def normalise(text: str) -> str:
    """Latin capitals and digits only: the form plates are stored and compared in."""
    upper = text.upper().translate(CYRILLIC_SHAPES)
    return "".join(c for c in upper if c not in SEPARATORS)


def positions_of(text: str) -> list[dict[str, float]]:
    """Plain text as positions, each certain."""
    return [{c: 1.0} for c in normalise(text)]


def join_rows(rows: Iterable[Sequence[Position]]) -> list[Position]:
    """A multi-row plate read top row first, as one sequence of positions."""
    return [p for row in rows for p in row]


def match(
    positions: Sequence[Position],
    *,
    countries: Collection[str] | None = None,
    min_score: float = MIN_SCORE,
) -> PlateMatch | None:
    """The most probable plate among the formats of ``countries`` (all when None), or None."""
    wanted = check_countries(countries)
    clean = _clean(positions)
    separated = _clean(positions, keep_separators=True)
    formats = [f for f in FORMATS if wanted is None or f.country in wanted]
    generic = [_match_generic(clean, f) for f in formats if isinstance(f, GenericFormat)]
    # Where the generic format of a country takes the read as it is, that country's formats may
    # not "fix" it: the text is already a valid plate there (ANE2734 is no EU AN32734). Same-glyph
    # swaps stay: in many fonts O and 0 are one shape, so the read never chose between them.
    as_read = {g.country for g in generic if g is not None}
    found = [
        _match_format(separated if f.gapless else clean, f, confusions=f.country not in as_read)
        for f in formats
        if isinstance(f, PlateFormat)
    ]
    best: PlateMatch | None = None
    for candidate in [*found, *generic]:
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    return best if best is not None and best.score >= min_score else None


def with_region(plate: PlateMatch, region: Sequence[Position]) -> PlateMatch | None:
    """A Russian ``plate`` with its region code from ``region``, a read of the region box alone,
    where that read is surer than the digits it replaces; otherwise None.

    The whole-plate read sees the region's digits small, beside the frame line, over RUS and the
    flag (41 reads as 61, 199 as 19). "Surer" compares the region read's score (which counts
    the stray characters it leaves out, such as RUS) with the geometric mean of the replaced
    digits' probabilities.
    """
    if plate.country != "RU" or len(plate.probabilities) != len(plate.plate):
        return None
    clean = _clean(region)
    reads = [m for m in (_match_format(clean, f) for f in RU_REGIONS) if m is not None]
    if not reads:
        return None
    best = max(reads, key=lambda m: m.score)
    main = plate.probabilities[:RU_MAIN_LENGTH]
    old = plate.probabilities[RU_MAIN_LENGTH:]
    # A region cut that clips its box's last digit reads surer for it: a region shorter than
    # the whole-plate read's is believed only where one of that read's digits is a guess.
    clipped = len(best.plate) < len(old) and min(old) >= 0.5
    if best.plate == plate.plate[RU_MAIN_LENGTH:] or best.score <= _geometric_mean(old) or clipped:
        return None
    # The plate's score less its characters' part is its prior and the price of what it skipped.
    rest = plate.score / _geometric_mean(plate.probabilities)
    probabilities = main + best.probabilities
    return PlateMatch(
        plate.plate[:RU_MAIN_LENGTH] + best.plate,
        plate.country,
        rest * _geometric_mean(probabilities),
        plate.corrections + best.corrections,
        probabilities,
    )


def check_countries(countries: Collection[str] | None) -> frozenset[str] | None:
    """The countries in capitals, or ``PlateError`` naming those with no format."""
    if countries is None:
        return None
    wanted = frozenset(c.upper() for c in countries)
    unknown = wanted - set(COUNTRIES)
    if unknown:
        raise PlateError(f"no plate format for {sorted(unknown)}; known: {list(COUNTRIES)}")
    return wanted


def parse(text: str, *, countries: Collection[str] | None = None) -> PlateMatch:
    """Validate plain text as a plate; raises ``PlateError`` with the reason when it is none."""
    found = match(positions_of(text), countries=countries)
    if found is None:
        raise PlateError(f"{text!r} matches no plate format of {list(countries or COUNTRIES)}")
    return found


def _clean(
    positions: Sequence[Position], *, keep_separators: bool = False
) -> list[dict[str, float]]:
    """Upper-case, Cyrillic by shape, separators dropped (a position whose best guess is one)
    unless ``keep_separators``: then such a position stays, holding no character of any kind."""
    out: list[dict[str, float]] = []
    for position in positions:
        merged: dict[str, float] = {}
        for char, p in position.items():
            c = char.upper().translate(CYRILLIC_SHAPES)
            merged[c] = merged.get(c, 0.0) + p
        if merged and max(merged, key=merged.__getitem__) not in SEPARATORS:
            out.append({c: p for c, p in merged.items() if c not in SEPARATORS})
        elif merged and keep_separators:
            out.append({c: p for c, p in merged.items() if c in SEPARATORS})
    return out


@functools.cache
def _letter_set(letters: str) -> frozenset[str]:
    return frozenset(letters)


def _best_of_kind(
    position: Mapping[str, float], kind: str, letters: str, confusions: bool
) -> tuple[str, float, bool]:
    """The most probable character of ``kind`` here: (char, probability, was a table fix)."""
    allowed = DIGITS if kind == "D" else _letter_set(letters)
    best = max(
        ((p, c, False) for c, p in position.items() if c in allowed), default=(0.0, "", False)
    )
    top, p_top = max(position.items(), key=lambda item: item[1])
    fixed = (TO_DIGIT if kind == "D" else TO_LETTER).get(top)
    # Many plate fonts draw O and 0, I and 1 alike: those swaps are cheap, and always allowed
    # (the read cannot tell them apart); the others cost more and only where ``confusions``.
    same = {top, fixed} in ({"O", "0"}, {"I", "1"})
    if fixed is not None and fixed in allowed and (same or confusions):
        price = SAME_GLYPH_PROBABILITY if same else CONFUSION_PROBABILITY
        best = max(best, (p_top * price, fixed, True))
    p, c, was_fixed = best
    return c, p, was_fixed


_State = tuple[float, str, int, tuple[float, ...]]  # objective, plate, table fixes, probabilities
_Place = Literal["end", "gap", "group"]  # where in a format a skipped character sits


def _match_format(
    positions: Sequence[Mapping[str, float]], fmt: PlateFormat, *, confusions: bool = True
) -> PlateMatch | None:
    """Align the format's kinds to the read, skipping stray characters at a price.

    ``confusions``: whether the confusion table (beyond the same-glyph swaps) may stand in
    where the reader offered no character of the kind the format wants.

    Dynamic programming over (characters consumed, kinds filled); the objective is the mean
    log-probability of the chosen characters plus the log-price of every skipped one.
    """
    kinds, gaps = fmt.kinds, fmt.gaps
    n, m = len(positions), len(kinds)
    if n < m:
        return None
    # What each read character is worth as either kind, and what leaving it out costs where:
    # both depend on the character, not on the cell of the table.
    best = {
        k: [_best_of_kind(p, k, fmt.letters, confusions) for p in positions] for k in set(kinds)
    }
    places: tuple[_Place, ...] = ("end", "gap", "group")
    skip = [{w: math.log(_skip_price(p, w)) for w in places} for p in positions]
    table: list[list[_State | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    table[0][0] = (0.0, "", 0, ())
    for i in range(n + 1):
        for j in range(m + 1):
            state = table[i][j]
            if state is None or i == n:
                continue
            score, plate, fixes, probs = state
            where: _Place = "end" if j in (0, m) else "gap" if j in gaps else "group"
            _keep_best(table, i + 1, j, (score + skip[i][where], plate, fixes, probs))
            if j < m:
                c, p, fixed = best[kinds[j]][i]
                if p > 0.0:
                    chosen = (score + _log(p) / m, plate + c, fixes + fixed, (*probs, p))
                    _keep_best(table, i + 1, j + 1, chosen)
    final = table[n][m]
    if final is None:
        return None
    return PlateMatch(final[1], fmt.country, math.exp(final[0]) * fmt.prior, final[2], final[3])


def _keep_best(table: list[list[_State | None]], i: int, j: int, state: _State) -> None:
    current = table[i][j]
    if current is None or state[0] > current[0]:
        table[i][j] = state


def _skip_price(position: Mapping[str, float], where: _Place) -> float:
    """What leaving a character out of the plate costs: more when the reader was sure of it.
    Flags, country strips, frame edges and the RUS tag sit at the ends of a plate, seals,
    stickers and crests in the gaps between its groups; inside a group it prints nothing."""
    sure = max(position.values())
    if where == "end":
        return SKIP_PRICE_UNSURE - (SKIP_PRICE_UNSURE - SKIP_PRICE_SURE) * sure
    if where == "gap":
        return SKIP_PRICE_SURE
    return SKIP_PRICE_SURE - (SKIP_PRICE_SURE - SKIP_PRICE_IN_GROUP) * sure


def _match_generic(
    positions: Sequence[Mapping[str, float]], fmt: GenericFormat
) -> PlateMatch | None:
    if not fmt.min_length <= len(positions) <= fmt.max_length:
        return None
    chars: list[str] = []
    probs: list[float] = []
    for position in positions:
        c, p = max(position.items(), key=lambda item: item[1])
        if not (c.isascii() and c.isalnum()):
            return None
        chars.append(c)
        probs.append(p)
    plate = "".join(chars)
    if plate.isdigit() or plate.isalpha():  # timestamps, phone numbers, badges, dealer names
        return None
    return PlateMatch(plate, fmt.country, _geometric_mean(probs) * GENERIC_PRIOR, 0, tuple(probs))


def _geometric_mean(probabilities: Sequence[float]) -> float:
    return math.exp(sum(_log(p) for p in probabilities) / max(1, len(probabilities)))


def _log(p: float) -> float:
    return math.log(max(p, 1e-12))
