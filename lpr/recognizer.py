"""Plates in a picture: detect text lines, group them into plate candidates, read, validate.

Stages (each a small function over frozen values):

1. ``Detector`` finds text lines anywhere in the frame.
2. ``lpr.candidates`` groups them the way plates are laid out: a single line; neighbours on one
   line (a Russian plate's region, a plate the detector split at its gaps); and two stacked
   lines (Vietnamese, motorcycle and square plates). Shapes no plate has are dropped.
3. Each row is cut out along its rotated rectangle with a margin, warped upright, once as it
   is and once stretched wide (``VIEWS``); where those find no plate, once more reaching past
   the detected box along the line (``WIDE_VIEW``). A reader of two rows gets two stacked rows
   as one cut instead, unstretched (``STACK_VIEWS``).
4. ``Reader`` reads all cuts in batches. Per candidate, views that agree on the number of
   characters are averaged, rows are joined top first, and ``lpr.plates.match`` picks the most
   probable valid plate, fixing letter/digit confusions. A plate whose outline leans against
   its text line (seen from the side) or reaches well past it (the detector left a group out)
   is also cut along that outline (``lpr.rectify``).
5. A Russian plate's region code is read again from its own box, right of the main part's
   text line (``lpr.region``), and replaces the whole-plate read's where it is surer.
6. Overlapping candidates keep only their best read, and ``lpr.colour`` names the paint.

A picture shaped like a plate (a plate crop) is also read whole, as one row.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from lpr.candidates import Candidate, Row, candidates
from lpr.colour import vehicle_colour
from lpr.detect import Detector, PPOCRDetector, TextBox
from lpr.ocr import PPOCRReader, Reader, Reading
from lpr.plates import (
    GENERIC_PRIOR,
    RU_MAIN_LENGTH,
    PlateMatch,
    Position,
    check_countries,
    join_rows,
    match,
    with_region,
)
from lpr.rectify import clockwise_from_top_left, plate_quad, upright
from lpr.region import region_corners, region_of_line
from lpr.types import BoundingBox, Image, PlateRead

PLATE_CROP_ASPECT = (1.8, 7.0)  # a whole picture this shape may be a plate crop
# How each row is cut for reading: (margin around it, in text heights; horizontal stretch;
# reach, more text heights along the line on each side). Plate fonts are narrow and the reader
# squeezes every line to 48 px high, so a stretched copy keeps neighbouring characters apart
# ("25" no longer reads as "0"). The wide view reaches past the detected box, whose detector
# leaves out characters beyond a gap or at a dark edge (a first group, a last digit); it is read
# only when the tight views find no plate better than a sure generic read (GENERIC_PRIOR), as
# the neighbouring text it takes in would outvote good reads.
View = tuple[float, float, float]
VIEWS: tuple[View, ...] = ((0.12, 1.0, 0.0), (0.12, 1.8, 0.0))
WIDE_VIEW: View = (0.12, 1.8, 1.5)
# A reader of two rows (``Reader.rows``) reads a stacked plate whole, cut as it learnt stacked
# plates: unstretched, not reaching past them. The stack's view in place of each row view; its
# margin is a share of the stack's height, two rows, so its 0.06 is a row's 0.12.
STACK_VIEWS: dict[View, View] = {
    VIEWS[0]: (0.12, 1.0, 0.0),
    VIEWS[1]: (0.06, 1.0, 0.0),
    WIDE_VIEW: (0.06, 1.0, 0.0),
}
SURE = 0.75  # a read this good from the first view ends the search (shared formats cap at 0.8)


@dataclass(frozen=True, slots=True)
class Found:
    candidate: Candidate
    plate: PlateMatch
    text: str


class Recognizer:
    """Reads plates in still images; the one entry point other stages use."""

    def __init__(
        self,
        detector: Detector | None = None,
        reader: Reader | None = None,
        *,
        countries: Collection[str] | None = None,
        min_score: float = 0.35,
        colour: bool = True,
    ) -> None:
        self.detector = detector or PPOCRDetector()
        self.reader = reader or PPOCRReader()
        self.countries = check_countries(countries)
        self.min_score = min_score
        self.colour = colour

    @classmethod
    def from_names(
        cls,
        detector: str = "ppocr",
        reader: str = "ppocr",
        *,
        detector_options: dict[str, object] | None = None,
        reader_options: dict[str, object] | None = None,
        countries: Collection[str] | None = None,
    ) -> Recognizer:
        from lpr.detect import detectors
        from lpr.ocr import readers

        return cls(
            detectors.create(detector, **(detector_options or {})),
            readers.create(reader, **(reader_options or {})),
            countries=countries,
        )

    def read(self, image: Image) -> list[PlateRead]:
        """Plates in the image, best first, each with the vehicle's colour when visible."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected a BGR uint8 image, got {image.dtype} {image.shape}")
        boxes = self.detector.detect(image)
        cands = candidates(boxes)
        if _is_plate_shaped(image):
            h, w = image.shape[:2]
            whole = TextBox(((0.0, 0.0), (w, 0.0), (w, h), (0.0, h)), 1.0)
            cands.append(Candidate((Row((whole,)),)))
        readings: dict[tuple[Row, View], Reading] = {}
        found = self._read_candidates(image, cands, readings)
        found = self._with_regions(image, found, boxes, readings)
        return [self._plate_read(image, f) for f in _best_apart(found)]

    def _with_regions(
        self,
        image: Image,
        found: Sequence[Found],
        boxes: Sequence[TextBox],
        readings: Mapping[tuple[Row, View], Reading],
    ) -> list[Found]:
        """Russian plates with the region code read from its own crop where that read is surer.

        Only Russian reads pay for this: one more reading per distinct region crop.
        """
        crops: dict[Hashable, Image] = {}
        regions: dict[int, Hashable] = {}
        for f in found:
            if f.plate.country == "RU" and (region := self._region(image, f, boxes, readings)):
                regions[id(f)] = region[0]
                crops.setdefault(*region)
        if not crops:
            return list(found)
        read = dict(zip(crops, self.reader.read(list(crops.values())), strict=True))
        out = list(found)
        for i, f in enumerate(found):
            if id(f) in regions:
                reading = read[regions[id(f)]]
                plate = with_region(f.plate, reading.positions)
                if plate is not None:
                    out[i] = replace(f, plate=plate, text=f"{f.text} / {reading.text}")
        return out

    @staticmethod
    def _region(
        image: Image,
        found: Found,
        boxes: Sequence[TextBox],
        readings: Mapping[tuple[Row, View], Reading],
    ) -> tuple[Hashable, Image] | None:
        """The crop of a Russian plate's region digits, and what names it among the others."""
        corners = region_corners(found.candidate.bounds(), boxes, image.shape[1])
        if corners is not None:
            return corners, crop(image, corners)
        # No box of its own: the plate's line runs through its region. Every row has its
        # stretched view read, which says where the characters are.
        if len(found.candidate.rows) != 1:
            return None
        row = found.candidate.rows[0]
        margin, stretch, reach = view = VIEWS[-1]
        length = len(found.plate.plate) - RU_MAIN_LENGTH
        line = crop(image, row.corners, margin=margin, stretch=stretch, reach=reach)
        region = region_of_line(line, readings[row, view], length, margin=margin)
        return None if region is None else ((row, length), region)

    def _read_candidates(
        self, image: Image, cands: Sequence[Candidate], readings: dict[tuple[Row, View], Reading]
    ) -> list[Found]:
        # First the stretched view of each row alone: a clean plate is settled by it. Only when
        # no read is sure does every row get every view, and rows of several boxes are also
        # read box by box (that drops frame edges between them, such as a region's border read
        # as 1, which a whole-row read keeps).
        quick = VIEWS[-1:]
        found = self._match(cands, self._read(image, cands, quick, readings), quick, split=False)
        if any(f.plate.score >= SURE for f in found):
            return found
        found += self._match(cands, self._read(image, cands, VIEWS, readings), VIEWS)
        found = self._with_outlines(image, found)
        if any(f.plate.score > GENERIC_PRIOR for f in found):
            return found
        # Nothing fits a national format better than a sure generic read does: maybe the
        # detector cut the line short. The wide view is matched alone (its characters do not
        # line up with the tight views').
        wide = (WIDE_VIEW,)
        return found + self._match(
            cands, self._read(image, cands, wide, readings), wide, split=False
        )

    def _with_outlines(self, image: Image, found: list[Found]) -> list[Found]:
        """``found`` with plates read again along their own outline where it leans against
        their line or reaches well past it (``lpr.rectify``), matched alone. A read of the
        whole plate replaces the candidate's reads of part of it (``4X4WP`` in ``VW4X4WP``).

        Only candidates already read as some plate: badges and signs lean too.
        """
        cuts: dict[Candidate, Image] = {}
        for cand in dict.fromkeys(f.candidate for f in found):
            quad = plate_quad(image, cand.boxes[0]) if len(cand.boxes) == 1 else None
            if quad is not None:
                cuts[cand] = upright(image, quad)
        if not cuts:
            return found
        wholes = []
        for cand, reading in zip(cuts, self.reader.read(list(cuts.values())), strict=True):
            plate = match(reading.positions, countries=self.countries, min_score=self.min_score)
            if plate is not None:
                wholes.append(Found(cand, plate, reading.text))
        parts = [
            f
            for f in found
            if not any(
                w.candidate == f.candidate and _part_of(f.plate.plate, w.plate.plate)
                for w in wholes
            )
        ]
        return parts + wholes

    def _whole(self, cand: Candidate) -> bool:
        """Whether ``cand`` is a stacked plate the reader reads whole."""
        return len(cand.rows) == 2 and self.reader.rows >= 2

    def _cuts(self, cand: Candidate, view: View) -> list[tuple[Row, View]]:
        """What is read of ``cand`` in ``view``, top first: its rows, or the stack whole."""
        if self._whole(cand):
            return [(Row(cand.boxes), STACK_VIEWS[view])]
        return [(r, view) for r in cand.rows]

    def _read(
        self,
        image: Image,
        cands: Sequence[Candidate],
        views: Sequence[View],
        readings: dict[tuple[Row, View], Reading],
    ) -> dict[tuple[Row, View], Reading]:
        """Readings of every cut of ``cands`` in ``views`` and of their rows box by box, reusing
        those already made."""
        cuts = [cut for v in views for c in cands for cut in self._cuts(c, v)]
        rows = [r for c in cands if not self._whole(c) for r in c.rows]
        cuts += [(Row((b,)), v) for v in views for r in rows for b in r.boxes]
        keys = [k for k in dict.fromkeys(cuts) if k not in readings]
        crops = [crop(image, r.corners, margin=m, stretch=x, reach=e) for r, (m, x, e) in keys]
        readings.update(zip(keys, self.reader.read(crops), strict=True))
        return readings

    def _match(
        self,
        cands: Sequence[Candidate],
        readings: dict[tuple[Row, View], Reading],
        views: Sequence[View],
        *,
        split: bool = True,
    ) -> list[Found]:
        found = []
        for cand in cands:
            variants = [[readings[cut] for cut in self._cuts(cand, v)] for v in views]
            boxes = [Row((b,)) for b in cand.boxes]
            if split and len(boxes) > len(cand.rows) and not self._whole(cand):
                variants.append([readings[r, views[0]] for r in boxes])
            for positions, text in _agreeing(variants):
                plate = match(positions, countries=self.countries, min_score=self.min_score)
                if plate is not None:
                    found.append(Found(cand, plate, text))
        return found

    def _plate_read(self, image: Image, found: Found) -> PlateRead:
        box = found.candidate.bounds()
        colour = vehicle_colour(image, box) if self.colour else None
        return PlateRead(
            plate=found.plate.plate,
            text=found.text,
            country=found.plate.country,
            confidence=round(found.plate.score, 4),
            box=box,
            lines=len(found.candidate.rows),
            colour=colour.name if colour else None,
            colour_confidence=colour.confidence if colour else 0.0,
        )


def _part_of(part: str, whole: str) -> bool:
    return part != whole and part in whole


def _agreeing(variants: Sequence[Sequence[Reading]]) -> list[tuple[list[Position], str]]:
    """Readings of one candidate as positions; those of equal length are averaged into one.

    Two views that agree on the number of characters are two opinions on each character;
    averaging keeps a confident misread in one view from outvoting both (O against 0).
    """
    by_length: dict[int, list[tuple[list[Position], str]]] = {}
    for parts in variants:
        positions = join_rows(p.positions for p in parts)
        by_length.setdefault(len(positions), []).append(
            (positions, " ".join(p.text for p in parts))
        )
    out = []
    for group in by_length.values():
        texts = [text for _, text in group]
        averaged: list[Position] = [
            {c: sum(p.get(c, 0.0) for p in column) / len(column) for c in set().union(*column)}
            for column in zip(*(positions for positions, _ in group), strict=True)
        ]
        out.append((averaged, max(set(texts), key=texts.count)))
    return out


def crop(
    image: Image,
    points: Sequence[tuple[float, float]],
    *,
    margin: float = 0.12,
    stretch: float = 1.0,
    reach: float = 0.0,
) -> Image:
    """The text around ``points`` cut along their rotated rectangle, with a margin, upright;
    ``reach`` more text heights along the line on either side, whatever the rectangle's own
    angle convention (``clockwise_from_top_left``)."""
    rect = cv2.minAreaRect(np.array(points, dtype=np.float32))
    p0, p1, p2, p3 = clockwise_from_top_left(np.asarray(cv2.boxPoints(rect), dtype=np.float32))
    w, h = float(np.linalg.norm(p1 - p0)), float(np.linalg.norm(p3 - p0))
    pad = margin * min(w, h)
    side = pad + reach * min(w, h)
    ux, uy = (p1 - p0) / max(w, 1e-6) * side, (p3 - p0) / max(h, 1e-6) * pad
    src = np.array([p0 - ux - uy, p1 + ux - uy, p2 + ux + uy, p3 - ux + uy], dtype=np.float32)
    out_w, out_h = max(8, round((w + 2 * side) * stretch)), max(8, round(h + 2 * pad))
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(
        image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(warped, dtype=np.uint8)


def _best_apart(found: Sequence[Found]) -> list[Found]:
    """Best read first; a read overlapping a better one is the same plate read worse."""
    kept: list[Found] = []
    for f in sorted(found, key=lambda f: f.plate.score, reverse=True):
        box = f.candidate.bounds()
        if all(_overlap(box, k.candidate.bounds()) < 0.3 for k in kept):
            kept.append(f)
    return kept


def _overlap(a: BoundingBox, b: BoundingBox) -> float:
    """Intersection over the smaller box: a plate inside a larger candidate counts as the same."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy / min(a.w * a.h, b.w * b.h)


def _is_plate_shaped(image: Image) -> bool:
    h, w = image.shape[:2]
    return PLATE_CROP_ASPECT[0] <= w / h <= PLATE_CROP_ASPECT[1]
