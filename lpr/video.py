"""Frames to sightings: rate limit, motion gate, read, track. The same pipeline serves video
files, streams on the command line and live cameras (``lpr.worker``)."""

from __future__ import annotations

import time
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Protocol

from lpr.live import LiveSource
from lpr.motion import MotionGate
from lpr.sources import iter_video, redact, source_kind
from lpr.throttle import RateLimiter
from lpr.tracking import Tracker
from lpr.types import BoundingBox, Frame, Image, PlateRead, Sighting


class PlateReader(Protocol):
    """Reads the plates in one picture, best first. ``lpr.recognizer.Recognizer`` is one."""

    def read(self, image: Image) -> list[PlateRead]: ...


def clear_of_edges(box: BoundingBox, width: int, height: int) -> bool:
    """True when the box keeps half its height clear of every edge of the frame.

    A plate at the edge is entering or leaving the picture and may be cut off: its read
    ("T2180" for "GWT2180") would be a valid-looking wrong plate. The detector's box of a cut
    plate stops a few pixels short of the edge, hence a margin that grows with the plate. The
    vehicle is read whole in the frames before or after.
    """
    margin = max(2, box.h // 2)
    return (
        box.x >= margin
        and box.y >= margin
        and box.x + box.w <= width - margin
        and box.y + box.h <= height - margin
    )


class SightingPipeline:
    """One camera's frames in, one sighting per vehicle passage out."""

    def __init__(
        self,
        reader: PlateReader,
        *,
        source: str,
        rate: float = 5.0,
        motion: MotionGate | None = None,
        tracker: Tracker | None = None,
    ) -> None:
        self.reader = reader
        self.limiter = RateLimiter(rate)
        self.motion = motion or MotionGate()
        self.tracker = tracker or Tracker(source=source)
        self.frames = 0
        self.reads = 0

    def push(self, frame: Frame) -> list[Sighting]:
        """Take one frame; returns the sightings it completed (usually none)."""
        self.frames += 1
        # The limiter runs on the frame's own clock, so a video file is read at the same
        # density as a live camera however fast it decodes.
        if self.limiter.allow(frame.taken_at.timestamp()) and self.motion.moved(frame.image):
            self.reads += 1
            height, width = frame.image.shape[:2]
            whole = [
                r for r in self.reader.read(frame.image) if clear_of_edges(r.box, width, height)
            ]
            return self.tracker.update(frame, whole)
        return self.tracker.advance(frame.taken_at)

    def advance(self, now: datetime) -> list[Sighting]:
        """No frame came; let the tracks age."""
        return self.tracker.advance(now)

    def close(self) -> list[Sighting]:
        return self.tracker.close()


def sighting_json(sighting: Sighting) -> dict[str, object]:
    """A sighting as one JSON object, as ``platetrace read`` and ``cameras run`` print it."""
    return {
        "source": sighting.source,
        "plate": sighting.plate,
        "country": sighting.country,
        "confidence": sighting.confidence,
        "box": sighting.box.as_list(),
        "colour": sighting.colour,
        "colour_confidence": sighting.colour_confidence,
        "observed_at": sighting.observed_at.isoformat(),
        "track_id": sighting.track_id,
    }


def read_video(
    path_or_url: str, reader: PlateReader, *, rate: float = 5.0, max_seconds: float | None = None
) -> Generator[Sighting, None, None]:
    """Sightings in a video file or a stream, as each passage ends.

    A stream is read live (dropping frames the reader cannot keep up with) until it ends for
    good or ``max_seconds`` pass; a file is read to its end, every frame considered.
    Raises ``lpr.sources.SourceError`` subclasses for sources that cannot be read.
    """
    if source_kind(path_or_url) == "image":
        raise ValueError(f"{path_or_url}: a still image, not a video")
    pipeline = SightingPipeline(reader, source=redact(path_or_url), rate=rate)
    if source_kind(path_or_url) == "video":
        for frame in iter_video(path_or_url):
            yield from pipeline.push(frame)
    else:
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        with LiveSource(path_or_url, retry=False) as live:
            while deadline is None or time.monotonic() < deadline:
                latest = live.next_frame(timeout=0.5)
                if latest is not None:
                    yield from pipeline.push(latest)
                elif live.finished:
                    break
                else:
                    yield from pipeline.advance(datetime.now(UTC))
        if live.error is not None and pipeline.frames == 0:
            raise live.error
    yield from pipeline.close()
