from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lpr.sources import (
    AuthenticationError,
    SourceUnavailableError,
    UnreadableSourceError,
    iter_stream,
    iter_video,
    onvif_stream_uri,
    redact,
    source_kind,
)
from tests.lpr.clips import FPS, HEIGHT, WIDTH
from tests.lpr.conftest import RtspCamera, free_port
from tests.lpr.onvif_camera import OnvifCamera


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("a/b/photo.JPG", "image"),
        ("x.webp", "image"),
        ("https://example.org/cars/1.jpeg?size=large", "image"),
        ("clip.mp4", "video"),
        ("rtsp://10.0.0.5/stream1", "stream"),
        ("onvif://admin:pw@10.0.0.5:80", "stream"),
        ("https://example.org/live.m3u8", "stream"),
    ],
)
def test_source_kind(given: str, kind: str) -> None:
    assert source_kind(given) == kind


def test_redact_hides_the_password_only() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5:554/s1") == "rtsp://admin:***@10.0.0.5:554/s1"
    assert redact("rtsp://10.0.0.5/s1") == "rtsp://10.0.0.5/s1"


def test_iter_video_stamps_frames_with_their_time(passing_video: Path) -> None:
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    frames = list(iter_video(passing_video, start=start))
    assert len(frames) == 2 * FPS
    assert frames[0].image.shape == (HEIGHT, WIDTH, 3)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert frames[-1].taken_at - frames[0].taken_at == timedelta(seconds=(len(frames) - 1) / FPS)
    assert frames[0].taken_at >= start


def test_iter_video_refuses_what_is_not_a_video(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(UnreadableSourceError, match="not a readable video"):
        next(iter_video(tmp_path / "x.mp4"))
    with pytest.raises(UnreadableSourceError, match="no such file"):
        next(iter_video(tmp_path / "missing.mp4"))


def test_an_unreachable_stream_says_so() -> None:
    url = f"rtsp://user:pw@127.0.0.1:{free_port()}/cam"
    with pytest.raises(SourceUnavailableError, match="cannot open stream") as caught:
        next(iter_stream(url, open_timeout=3))
    assert "pw" not in str(caught.value)


def test_onvif_camera_gives_its_stream_uri_with_credentials_added() -> None:
    with OnvifCamera(user="admin", password="right", stream_uri="rtsp://127.0.0.1:8554/cam") as cam:
        uri = asyncio.run(onvif_stream_uri("127.0.0.1", cam.port, "admin", "right", timeout=20))
    assert uri == "rtsp://admin:right@127.0.0.1:8554/cam"
    assert cam.calls[-2:] == ["GetProfiles", "GetStreamUri"]


def test_onvif_wrong_password_is_a_clear_authentication_error() -> None:
    cam = OnvifCamera(user="admin", password="right", stream_uri="rtsp://127.0.0.1:8554/cam")
    with cam, pytest.raises(AuthenticationError, match="refused the user name or password"):
        asyncio.run(onvif_stream_uri("127.0.0.1", cam.port, "admin", "wrong", timeout=20))
    assert "GetStreamUri" not in cam.calls


def test_onvif_camera_that_does_not_answer_is_unavailable() -> None:
    with pytest.raises(SourceUnavailableError):
        asyncio.run(onvif_stream_uri("127.0.0.1", free_port(), "admin", "x", timeout=5))


@pytest.mark.slow
def test_an_onvif_camera_streams_from_the_uri_it_gives(rtsp_camera: RtspCamera) -> None:
    with OnvifCamera(user="admin", password="p@ss word", stream_uri=rtsp_camera.url) as cam:
        frames = iter_stream(f"onvif://admin:p%40ss%20word@127.0.0.1:{cam.port}/?profile=main")
        first = next(frames)
        frames.close()
    assert first.image.shape == (HEIGHT, WIDTH, 3)
    assert first.source == f"onvif://admin:***@127.0.0.1:{cam.port}/?profile=main"
