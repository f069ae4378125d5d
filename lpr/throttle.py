"""Cost control between a camera and the recogniser: a rate limit and a queue that never lags.

A camera that sends faster than we can read must not make us fall behind: the newest frame is
the one worth reading, so the queue drops the oldest when full.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")

# Frames 1/rate apart, give or take float rounding of their timestamps, all count as due.
_SLACK_S = 1e-3


class RateLimiter:
    """Lets through at most ``rate`` events per second of the caller's clock."""

    def __init__(self, rate: float = 5.0) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._last: float | None = None

    def allow(self, now: float) -> bool:
        """True when ``now`` (seconds, any monotonic origin) is at least one interval on."""
        if self._last is not None and now + _SLACK_S < self._last + self.interval:
            return False
        self._last = now
        return True


class DropOldestQueue(Generic[T]):
    """A bounded, thread-safe FIFO: ``put`` never blocks, it evicts the oldest item instead."""

    def __init__(self, maxsize: int = 2) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._items: deque[T] = deque(maxlen=maxsize)
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._ready:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> T | None:
        """The oldest item, or None when nothing arrived within ``timeout`` seconds."""
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._items), timeout=timeout):
                return None
            return self._items.popleft()

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)
