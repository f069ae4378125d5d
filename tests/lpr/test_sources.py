from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from lpr.sources import (
    AuthenticationError,
    SourceUnavailableError,
    UnreadableSourceError,
    image_frame,
    iter_stream,
    iter_video,
    load_image,
    onvif_stream_uri,
    redact,
    source_kind,
)
from tests.lpr.conftest import FPS, HEIGHT, WIDTH, free_port
from tests.lpr.onvif_camera import OnvifCamera


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("a/b/photo.JPG", "image"),
        ("x.webp", "image"),
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


def test_load_image_reads_a_real_photo_as_bgr(shared_data: Path) -> None:
    path = shared_data / "plates/openalpr-br/GWT2180.jpg"
    image = load_image(path)
    assert image.shape == (719, 1280, 3) and image.dtype == np.uint8
    reference = cv2.imread(str(path))
    assert reference is not None and np.array_equal(image, reference)
    frame = image_frame(path)
    assert frame.source == str(path) and frame.taken_at.tzinfo is not None


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_load_image_reads_png_and_webp_losslessly(tmp_path: Path, suffix: str) -> None:
    rgb = np.zeros((20, 30, 3), dtype=np.uint8)
    rgb[:, :, 0] = 200  # red
    PILImage.fromarray(rgb).save(tmp_path / f"red{suffix}", lossless=True)
    image = load_image(tmp_path / f"red{suffix}")
    assert image.shape == (20, 30, 3)
    assert tuple(image[0, 0]) == (0, 0, 200)  # BGR


def test_load_image_turns_a_photo_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    picture = PILImage.new("RGB", (40, 10), (255, 255, 255))
    exif = PILImage.Exif()
    exif[0x0112] = 6  # the camera was held rotated: display rotated 90 degrees clockwise
    picture.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (40, 10, 3)


def test_a_truncated_jpeg_is_refused(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "plates/openalpr-br/GWT2180.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableSourceError, match="truncated"):
        load_image(tmp_path / "cut.jpg")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "not a recognised image"), (b"hello, not a picture", "not a recognised image")],
)
def test_not_a_picture_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "x.jpg").write_bytes(content)
    with pytest.raises(UnreadableSourceError, match=reason):
        load_image(tmp_path / "x.jpg")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableSourceError, match="cannot read"):
        load_image(tmp_path / "nope.png")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height``: decoding it would need gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [(20_000, 10_000, "larger than the 50 MP allowed"), (8_000, 7_500, "8000x7500 .60 MP.")],
)
def test_a_huge_image_is_refused_before_decoding(
    tmp_path: Path, width: int, height: int, reason: str
) -> None:
    (tmp_path / "huge.png").write_bytes(png_header_only(width, height))
    with pytest.raises(UnreadableSourceError, match=reason):
        load_image(tmp_path / "huge.png")


def test_iter_video_stamps_frames_with_their_time(passing_video: Path) -> None:
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    frames = list(iter_video(passing_video, start=start))
    assert len(frames) == 3 * FPS
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
