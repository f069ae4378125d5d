"""A live camera that keeps itself connected and says truthfully how it is doing.

A reader thread pulls frames from the stream into a small drop-oldest queue, so a slow consumer
always gets the newest picture. When the stream breaks it reconnects after 1 s, 5 s, 10 s, then
every 60 s. A watchdog judges health from *new* pictures: a decoder that keeps returning the
last picture of a frozen camera (OpenCV does) is caught by a hash of the pixels. A connected
feed is "online" while at least two new pictures came in the last ``stale_after`` seconds and
"stale" otherwise, whether frames arrive or not; "offline" while it is not connected.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal

from lpr.sources import SourceError, SourceUnavailableError, iter_stream, redact
from lpr.throttle import DropOldestQueue
from lpr.types import Frame, Image

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 5.0, 10.0, 60.0)
STALE_AFTER_S = 5.0
FPS_WINDOW_S = 5.0

Status = Literal["online", "stale", "offline"]
StreamOpener = Callable[[str], Iterator[Frame]]


@dataclass(frozen=True, slots=True)
class Health:
    """How a camera is doing now; ``status`` is what ``cameras.status`` should say."""

    status: Status
    fps: float
    last_frame_at: datetime | None
    reconnects: int
    error: str | None = None


def backoff_delay(failures: int, schedule: Sequence[float] = BACKOFF_S) -> float:
    """Seconds to wait before reconnect try number ``failures`` (1 = the first try)."""
    if failures < 1:
        raise ValueError(f"failures counts from 1, got {failures}")
    return schedule[min(failures, len(schedule)) - 1]


def picture_hash(image: Image) -> int:
    """A cheap fingerprint: every 8th pixel of every 8th row is enough to tell pictures apart."""
    return zlib.crc32(image[::8, ::8].tobytes())


class LiveSource:
    """Frames from one live stream with reconnects and a watchdog; use as a context manager."""

    def __init__(
        self,
        url: str,
        *,
        opener: StreamOpener = iter_stream,
        retry: bool = True,
        backoff: Sequence[float] = BACKOFF_S,
        stale_after: float = STALE_AFTER_S,
        queue_size: int = 2,
    ) -> None:
        if not backoff or min(backoff) < 0:
            raise ValueError("backoff needs at least one delay, none negative")
        if stale_after <= 0:
            raise ValueError(f"stale_after must be positive, got {stale_after}")
        self.url = url
        self.name = redact(url)
        self.opener = opener
        self.retry = retry
        self.backoff = tuple(backoff)
        self.stale_after = stale_after
        self.queue: DropOldestQueue[Frame] = DropOldestQueue(queue_size)
        self.error: SourceError | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"live {self.name}", daemon=True)
        self._connected = False
        self._opened = 0
        self._last_hash: int | None = None
        self._last_frame_at: datetime | None = None
        self._arrivals: deque[float] = deque()  # monotonic times of new pictures
        self._window = max(FPS_WINDOW_S, stale_after)

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the reader to end; a read blocked inside the decoder ends at its read timeout."""
        self._stop.set()
        self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        """The reader has ended (only without ``retry``, or after ``stop``) and nothing is left."""
        return not self._thread.is_alive() and not len(self.queue)

    def next_frame(self, timeout: float) -> Frame | None:
        """The oldest queued new frame, or None if none came within ``timeout`` seconds."""
        return self.queue.get(timeout=timeout)

    def health(self) -> Health:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._arrivals if now - t <= FPS_WINDOW_S]
            span = recent[-1] - recent[0] if len(recent) > 1 else 0.0
            fps = (len(recent) - 1) / span if span > 0 else 0.0
            # Two new pictures, not one: a frozen stream's decoder hands over the last picture
            # it held when the read finally times out, which is no sign of life.
            fresh = sum(1 for t in self._arrivals if now - t < self.stale_after)
            status: Status
            if not self._connected:
                status = "offline"
            elif fresh < 2:
                status = "stale"
            else:
                status = "online"
            return Health(
                status=status,
                fps=round(fps, 2),
                last_frame_at=self._last_frame_at,
                reconnects=max(0, self._opened - 1),
                error=self.error.reason if self.error else None,
            )

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                for frame in self.opener(self.url):
                    if self._stop.is_set():
                        return
                    if self._take(frame):
                        failures = 0
                self._lost(SourceUnavailableError(self.name, "stream ended"))
            except SourceError as error:
                self._lost(error)
            except Exception as error:  # a camera thread must never die silently
                log.exception("%s: unexpected error in the stream reader", self.name)
                self._lost(SourceError(self.name, f"unexpected error: {error}"))
            if not self.retry:
                return
            failures += 1
            delay = backoff_delay(failures, self.backoff)
            log.warning("%s: reconnecting in %g s (%s)", self.name, delay, self.error)
            self._stop.wait(delay)

    def _take(self, frame: Frame) -> bool:
        """Queue the frame if its picture is new; True when it was."""
        fingerprint = picture_hash(frame.image)
        now = time.monotonic()
        with self._lock:
            if not self._connected:
                self._connected = True
                self._opened += 1
                self.error = None
            if fingerprint == self._last_hash:
                return False
            self._last_hash = fingerprint
            self._last_frame_at = frame.taken_at
            self._arrivals.append(now)
            while self._arrivals and now - self._arrivals[0] > self._window:
                self._arrivals.popleft()
        self.queue.put(frame)
        return True

    def _lost(self, error: SourceError) -> None:
        with self._lock:
            self._connected = False
            self.error = error
