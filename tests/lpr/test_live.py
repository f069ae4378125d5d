from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lpr.live import BACKOFF_S, Health, LiveSource, backoff_delay, picture_hash
from lpr.sources import SourceUnavailableError, iter_video
from lpr.types import Frame
from tests.lpr.conftest import RtspCamera


def wait_for(
    live: LiveSource, done: Callable[[Health], bool], *, within: float, step: float = 0.1
) -> Health:
    """Poll the health until ``done`` says so; fail with the last health after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        health = live.health()
        if done(health):
            return health
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {within} s; last health: {health}")
        # Keep the queue drained, as a consumer would.
        live.next_frame(timeout=step)


def test_backoff_goes_1_5_10_then_60_seconds() -> None:
    assert [backoff_delay(n) for n in range(1, 7)] == [1.0, 5.0, 10.0, 60.0, 60.0, 60.0]
    assert BACKOFF_S == (1.0, 5.0, 10.0, 60.0)
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0)


def test_picture_hash_tells_pictures_apart_cheaply() -> None:
    a = np.zeros((360, 640, 3), dtype=np.uint8)
    b = a.copy()
    b[100:140, 200:260] = 255
    assert picture_hash(a) == picture_hash(a.copy())
    assert picture_hash(a) != picture_hash(b)


def repeating(video: Path, *, fresh: int) -> Callable[[str], Iterator[Frame]]:
    """A decoder that, like OpenCV on a frozen camera, returns the last picture again and again."""

    def opener(_url: str) -> Iterator[Frame]:
        frames = iter_video(video)
        last = next(frames)
        for _ in range(fresh):
            last = next(frames)
            yield last
        while True:
            time.sleep(0.02)
            yield Frame(image=last.image.copy(), taken_at=datetime.now(UTC), source="frozen")

    return opener


def test_a_decoder_repeating_the_last_picture_is_stale(passing_video: Path) -> None:
    live = LiveSource("rtsp://frozen", opener=repeating(passing_video, fresh=5), stale_after=0.5)
    with live:
        wait_for(live, lambda h: h.status == "online", within=10)
        health = wait_for(live, lambda h: h.status == "stale", within=5)
    assert health.reconnects == 0
    assert health.last_frame_at is not None


def test_one_late_picture_from_a_frozen_stream_does_not_make_it_online(
    passing_video: Path,
) -> None:
    # A frozen stream's decoder hands over the picture it held when its read times out.
    def frozen_then_flushed(_url: str) -> Iterator[Frame]:
        frames = iter_video(passing_video)
        yield from itertools.islice(frames, 5)
        time.sleep(1.0)
        yield next(frames)
        released.wait(60)

    released = threading.Event()
    seen: list[str] = []
    live = LiveSource("rtsp://frozen", opener=frozen_then_flushed, stale_after=0.5)
    with live:
        wait_for(live, lambda h: h.status == "online", within=10)
        wait_for(live, lambda h: h.status == "stale", within=5)
        deadline = time.monotonic() + 1.5  # past the late picture
        while time.monotonic() < deadline:
            seen.append(live.health().status)
            live.next_frame(timeout=0.05)
        released.set()
    assert set(seen) == {"stale"}


def test_a_failing_source_is_offline_and_retried(passing_video: Path) -> None:
    tries: list[float] = []
    before_frames: list[str] = []

    def flaky(url: str) -> Iterator[Frame]:
        tries.append(time.monotonic())
        if len(tries) <= 2:
            before_frames.append(live.health().status)
            raise SourceUnavailableError(url, "connection refused")
        yield from iter_video(passing_video)

    live = LiveSource("rtsp://flaky", opener=flaky, backoff=(0.05, 0.2))
    with live:
        wait_for(live, lambda h: h.status == "online", within=10)
        health = live.health()
        # The clip ends: the source counts as lost, and is reopened with the same back-off.
        wait_for(live, lambda h: h.reconnects >= 1, within=10)
    assert before_frames == ["offline", "offline"]
    assert health.error is None
    assert tries[1] - tries[0] >= 0.05 and tries[2] - tries[1] >= 0.2


def test_without_retry_the_reader_ends_with_the_error() -> None:
    def refused(url: str) -> Iterator[Frame]:
        raise SourceUnavailableError(url, "connection refused")
        yield  # a generator, like every opener

    with LiveSource("rtsp://gone", opener=refused, retry=False) as live:
        assert live.next_frame(timeout=0.2) is None
        deadline = time.monotonic() + 5
        while not live.finished and time.monotonic() < deadline:
            time.sleep(0.01)
    assert live.finished
    assert isinstance(live.error, SourceUnavailableError)
    assert live.health().status == "offline"


@pytest.mark.parametrize("options", [{"backoff": ()}, {"backoff": (-1.0,)}, {"stale_after": 0}])
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LiveSource("rtsp://x", **options)  # type: ignore[arg-type]


@pytest.mark.slow
def test_rtsp_camera_streams_and_reports_fps(rtsp_camera: RtspCamera) -> None:
    with LiveSource(rtsp_camera.url) as live:
        health = wait_for(live, lambda h: h.status == "online" and h.fps > 0, within=30)
        frame = live.next_frame(timeout=5)
    assert frame is not None and frame.image.shape == (360, 640, 3)
    assert health.last_frame_at is not None and health.reconnects == 0


@pytest.mark.slow
def test_rtsp_camera_killed_and_restarted_is_reconnected(rtsp_camera: RtspCamera) -> None:
    with LiveSource(rtsp_camera.url) as live:
        wait_for(live, lambda h: h.status == "online", within=30)
        rtsp_camera.kill()
        wait_for(live, lambda h: h.status == "offline", within=15)
        rtsp_camera.start()
        # Back-off 1 s then 5 s: the camera is back in time for the second try at the latest.
        health = wait_for(live, lambda h: h.status == "online" and h.reconnects == 1, within=30)
    assert health.error is None


@pytest.mark.slow
def test_frozen_rtsp_camera_is_stale_within_6_seconds(rtsp_camera: RtspCamera) -> None:
    with LiveSource(rtsp_camera.url) as live:
        wait_for(live, lambda h: h.status == "online", within=30)
        rtsp_camera.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        try:
            wait_for(live, lambda h: h.status == "stale", within=6, step=0.05)
            assert time.monotonic() - frozen_at <= 6.5  # the poll's own step included
        finally:
            rtsp_camera.signal(signal.SIGCONT)
