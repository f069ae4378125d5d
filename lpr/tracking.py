"""From reads in single frames to one sighting per vehicle passage, for one camera.

A read joins the open track it most plausibly continues: its plate text is similar and its box
is near where the track's box was heading, or its plate is (almost) the same wherever it is. A
track's plate is voted: every read backs its own string with its confidence, and strings one
edit away with half of it, so a single misread letter is outvoted by the reads around it.

A track becomes a sighting when it has not been seen for ``close_after`` seconds, or once it
has been seen for ``emit_after`` seconds (a vehicle standing still), and never twice. Closed
tracks are remembered for ``remember_for`` seconds: a vehicle read again where it stood (it was
parked; something else moved) continues its old track instead of starting a new sighting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lpr.types import BoundingBox, Frame, Image, PlateRead, Sighting


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions each cost one."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1.0 for equal strings, falling by one character's share per edit, 0.0 for nothing alike."""
    longest = max(len(a), len(b))
    return 1.0 - edit_distance(a, b) / longest if longest else 1.0


def vote(weights: dict[str, float]) -> str:
    """The string with most support: its own weight plus half the weight of strings one edit off."""
    if not weights:
        raise ValueError("nothing to vote on")

    def support(candidate: str) -> tuple[float, float, str]:
        near = sum(
            w for s, w in weights.items() if s != candidate and edit_distance(s, candidate) == 1
        )
        return weights[candidate] + 0.5 * near, weights[candidate], candidate

    return max(weights, key=support)


def crop(image: Image, box: BoundingBox, *, margin: float = 1.0) -> Image:
    """The box and ``margin`` times its height around it (vehicle context for evidence)."""
    pad = round(box.h * margin)
    height, width = image.shape[:2]
    top, left = max(0, box.y - pad), max(0, box.x - pad)
    bottom, right = min(height, box.y + box.h + pad), min(width, box.x + box.w + pad)
    return image[top:bottom, left:right].copy()


@dataclass(frozen=True, slots=True)
class _Evidence:
    read: PlateRead
    at: datetime
    crop: Image = field(repr=False, compare=False)


@dataclass(slots=True)
class _Track:
    id: str
    first_at: datetime
    last_at: datetime
    last_box: BoundingBox
    velocity: tuple[float, float] = (0.0, 0.0)  # box centre, pixels per second
    weights: dict[str, float] = field(default_factory=dict)
    best: dict[str, _Evidence] = field(default_factory=dict)  # per string: its most confident read
    reads: int = 0
    emitted: bool = False

    def predicted(self, at: datetime) -> BoundingBox:
        dt = (at - self.last_at).total_seconds()
        box = self.last_box
        dx, dy = self.velocity
        return BoundingBox(round(box.x + dx * dt), round(box.y + dy * dt), box.w, box.h)

    def plate(self) -> str:
        return vote(self.weights)


class Tracker:
    """Associates one camera's plate reads over time and emits one sighting per passage."""

    def __init__(
        self,
        *,
        source: str,
        close_after: float = 2.0,
        emit_after: float = 10.0,
        remember_for: float = 300.0,
        min_similarity: float = 0.5,
        same_plate: float = 0.85,
        max_jump: float = 4.0,
        crop_margin: float = 1.0,
    ) -> None:
        if not 0 < close_after <= emit_after:
            raise ValueError("need 0 < close_after <= emit_after")
        if remember_for < 0:
            raise ValueError(f"remember_for must not be negative, got {remember_for}")
        if not 0.0 <= min_similarity <= same_plate <= 1.0:
            raise ValueError("need 0 <= min_similarity <= same_plate <= 1")
        if max_jump <= 0 or crop_margin < 0:
            raise ValueError("max_jump must be positive and crop_margin not negative")
        self.source = source
        self.close_after = close_after
        self.emit_after = emit_after
        self.remember_for = remember_for
        self.min_similarity = min_similarity
        self.same_plate = same_plate
        self.max_jump = max_jump
        self.crop_margin = crop_margin
        self._open: list[_Track] = []
        self._closed: list[_Track] = []
        self._started = 0

    @property
    def open_tracks(self) -> int:
        return len(self._open)

    def update(self, frame: Frame, reads: Sequence[PlateRead]) -> list[Sighting]:
        """Add one frame's reads (possibly none); returns the sightings that became due."""
        due = self.advance(frame.taken_at)
        taken = set[int]()
        for read in sorted(reads, key=lambda r: r.confidence, reverse=True):
            track = self._match(read, frame.taken_at, exclude=taken)
            if track is None:
                track = self._revive(read) or self._start(frame.taken_at, read.box)
            taken.add(id(track))
            self._add(track, read, frame)
        return due

    def advance(self, now: datetime) -> list[Sighting]:
        """Let time pass without reads (a frame skipped by the motion gate, say)."""
        due: list[Sighting] = []
        still_open: list[_Track] = []
        for track in self._open:
            gone = (now - track.last_at).total_seconds() >= self.close_after
            long_seen = (track.last_at - track.first_at).total_seconds() >= self.emit_after
            if (gone or long_seen) and not track.emitted:
                due.append(self._sighting(track))
                track.emitted = True
            (self._closed if gone else still_open).append(track)
        self._open = still_open
        self._closed = [
            t for t in self._closed if (now - t.last_at).total_seconds() < self.remember_for
        ]
        return due

    def close(self) -> list[Sighting]:
        """End of the stream: every open track that has not yet been reported, as a sighting."""
        due = [self._sighting(t) for t in self._open if not t.emitted]
        self._closed.extend(self._open)
        self._open = []
        return due

    def _match(self, read: PlateRead, at: datetime, *, exclude: set[int]) -> _Track | None:
        best: tuple[float, _Track] | None = None
        for track in self._open:
            if id(track) in exclude:
                continue
            likeness = similarity(read.plate, track.plate())
            predicted = track.predicted(at)
            jump = _centre_distance(predicted, read.box) / max(predicted.w, read.box.w)
            if likeness >= self.same_plate or (
                likeness >= self.min_similarity and jump <= self.max_jump
            ):
                score = likeness - 0.05 * jump
                if best is None or score > best[0]:
                    best = (score, track)
        return best[1] if best else None

    def _revive(self, read: PlateRead) -> _Track | None:
        for track in self._closed:
            if similarity(read.plate, track.plate()) >= self.same_plate and (
                track.last_box.iou(read.box) >= 0.5
            ):
                self._closed.remove(track)
                self._open.append(track)
                track.velocity = (0.0, 0.0)  # it was standing; old motion predicts nothing
                return track
        return None

    def _start(self, at: datetime, box: BoundingBox) -> _Track:
        self._started += 1
        track = _Track(
            id=f"{at.strftime('%Y%m%dT%H%M%S.%f')}-{self._started}",
            first_at=at,
            last_at=at,
            last_box=box,
        )
        self._open.append(track)
        return track

    def _add(self, track: _Track, read: PlateRead, frame: Frame) -> None:
        dt = (frame.taken_at - track.last_at).total_seconds()
        if dt > 0:
            (ox, oy), (nx, ny) = _centre(track.last_box), _centre(read.box)
            vx, vy = (nx - ox) / dt, (ny - oy) / dt
            # Smoothed, so one jittery box does not send the prediction off.
            track.velocity = (0.5 * (track.velocity[0] + vx), 0.5 * (track.velocity[1] + vy))
        track.last_at = max(track.last_at, frame.taken_at)
        track.last_box = read.box
        track.reads += 1
        track.weights[read.plate] = track.weights.get(read.plate, 0.0) + read.confidence
        held = track.best.get(read.plate)
        if held is None or read.confidence > held.read.confidence:
            evidence = crop(frame.image, read.box, margin=self.crop_margin)
            track.best[read.plate] = _Evidence(read=read, at=frame.taken_at, crop=evidence)

    def _sighting(self, track: _Track) -> Sighting:
        plate = track.plate()
        evidence = track.best[plate]
        read = evidence.read
        agreement = track.weights[plate] / sum(track.weights.values())
        return Sighting(
            plate=plate,
            text=read.text,
            country=read.country,
            confidence=round(read.confidence * agreement, 4),
            box=read.box,
            observed_at=evidence.at,
            source=self.source,
            track_id=track.id,
            colour=read.colour,
            colour_confidence=read.colour_confidence,
            crop=evidence.crop,
        )


def _centre(box: BoundingBox) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2


def _centre_distance(a: BoundingBox, b: BoundingBox) -> float:
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)
