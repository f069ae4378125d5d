from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from lpr.images import ImageError, ImageTooLarge, decode_image, load_image


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG that claims ``width`` x ``height``: signature, IHDR, a tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def jpeg_bytes(width: int = 64, height: int = 32, **save: object) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", **save)
    return out.getvalue()


def test_a_200_megapixel_header_is_refused_before_decoding() -> None:
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match=r"huge\.png: .*more than the 50 megapixels"):
        decode_image(png_header(20_000, 10_000), name="huge.png")
    with pytest.raises(ImageTooLarge, match="9000x9000 is 81 megapixels, more than the 50"):
        decode_image(png_header(9_000, 9_000), name="big.png")
    assert time.perf_counter() - start < 1.0


def test_truncated_jpeg_is_a_clear_error() -> None:
    data = jpeg_bytes(640, 480)
    with pytest.raises(ImageError, match=r"cut\.jpg: not a readable image.*truncated"):
        decode_image(data[: len(data) // 2], name="cut.jpg")


def test_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageError, match=r"noise\.jpg: not a readable image"):
        load_image(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot read"):
        load_image(tmp_path / "absent.png")


def test_image_is_bgr_and_follows_exif_orientation(tmp_path: Path) -> None:
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_bytes(64, 32, exif=exif.tobytes(), quality=95))
    image = load_image(path)
    assert image.shape == (64, 32, 3)
    assert image.dtype == np.uint8
    blue, green, red = image[32, 16]
    assert red > 150 and blue < 80 and green < 80


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_image_from_a_url(http_root: str, tmp_path: Path) -> None:
    (tmp_path / "car.jpg").write_bytes(jpeg_bytes(80, 40))
    assert load_image(f"{http_root}/car.jpg").shape == (40, 80, 3)


def test_missing_url_is_a_clear_error(http_root: str) -> None:
    with pytest.raises(ImageError, match="HTTP 404"):
        load_image(f"{http_root}/absent.jpg")


def test_unreachable_url_is_a_clear_error(http_root: str) -> None:
    closed = http_root.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens there
    with pytest.raises(ImageError, match="cannot fetch"):
        load_image(f"{closed}/car.jpg")
