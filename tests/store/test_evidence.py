from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from store.errors import InvalidInput, NotFound
from store.evidence import check_image, evidence_path, save_evidence, stored_evidence


def image(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "gray").save(buffer, format=kind)
    return buffer.getvalue()


def test_saved_images_are_content_addressed(tmp_path: Path) -> None:
    data = image("PNG")
    key = save_evidence(tmp_path, data, max_bytes=10_000)
    assert key.endswith(".png") and save_evidence(tmp_path, data, max_bytes=10_000) == key
    assert stored_evidence(tmp_path, key).read_bytes() == data
    assert save_evidence(tmp_path, image("JPEG"), max_bytes=10_000).endswith(".jpg")
    assert not list(tmp_path.rglob(".upload-*"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xd8\xff" + b"\x00" * 20, "not a readable"),
        (image("BMP"), "JPEG or PNG"),
        (image("PNG") + b"\x00" * 5_000, "at most"),
    ],
)
def test_only_small_valid_jpeg_and_png_pass(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_image(data, max_bytes=5_000)


def test_keys_cannot_name_paths(tmp_path: Path) -> None:
    for key in ("../../etc/passwd", "a" * 64 + ".gif", "A" * 64 + ".png", ""):
        with pytest.raises(InvalidInput):
            evidence_path(tmp_path, key)
    with pytest.raises(NotFound):
        stored_evidence(tmp_path, "b" * 64 + ".png")
