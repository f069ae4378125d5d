from __future__ import annotations

import threading

import pytest

from lpr.throttle import DropOldestQueue, RateLimiter


def test_rate_limiter_lets_through_the_configured_rate_of_a_25_fps_camera() -> None:
    limiter = RateLimiter(5.0)
    allowed = [i for i in range(50) if limiter.allow(i / 25)]
    assert allowed == list(range(0, 50, 5))


def test_rate_limiter_does_not_bank_idle_time() -> None:
    limiter = RateLimiter(2.0)
    assert limiter.allow(0.0)
    assert limiter.allow(10.0)
    assert not limiter.allow(10.1)


def test_rate_limiter_refuses_a_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_queue_drops_the_oldest_when_full() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(maxsize=3)
    for i in range(10):
        queue.put(i)
    assert len(queue) == 3
    assert queue.dropped == 7
    assert [queue.get(timeout=0), queue.get(timeout=0), queue.get(timeout=0)] == [7, 8, 9]
    assert queue.get(timeout=0.01) is None


def test_queue_get_wakes_when_another_thread_puts() -> None:
    queue: DropOldestQueue[str] = DropOldestQueue()
    threading.Timer(0.05, queue.put, args=("frame",)).start()
    assert queue.get(timeout=5) == "frame"


def test_queue_needs_room_for_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DropOldestQueue(maxsize=0)
