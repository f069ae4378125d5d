"""Evidence images on disk, content-addressed: the key is the SHA-256 of the bytes plus the
format's extension, so re-uploading the same image is harmless and a key can't name a path.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from store.errors import InvalidInput, NotFound

FORMATS = {"JPEG": "jpg", "PNG": "png"}
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
_KEY = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")
# A plate crop or a full frame is far below this; anything bigger is not what we store.
MAX_PIXELS = 40_000_000


def check_image(data: bytes, *, max_bytes: int) -> str:
    """The extension of a valid JPEG or PNG; ``InvalidInput`` saying why otherwise."""
    if not data:
        raise InvalidInput("the evidence file is empty")
    if len(data) > max_bytes:
        raise InvalidInput(f"evidence images may be at most {max_bytes} bytes, got {len(data)}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("the evidence file is not a readable JPEG or PNG image") from exc
    except Image.DecompressionBombError as exc:
        raise InvalidInput("the evidence image is implausibly large") from exc
    if kind not in FORMATS:
        raise InvalidInput(f"evidence must be JPEG or PNG, got {kind}")
    if width * height > MAX_PIXELS:
        raise InvalidInput(f"the evidence image has {width}x{height} pixels; too many")
    return FORMATS[kind]


def save_evidence(root: Path, data: bytes, *, max_bytes: int) -> str:
    """Store a validated image under ``root``; return its key."""
    key = f"{hashlib.sha256(data).hexdigest()}.{check_image(data, max_bytes=max_bytes)}"
    path = evidence_path(root, key)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half an image.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(tmp).replace(path)
    return key


def evidence_path(root: Path, key: str) -> Path:
    if not _KEY.match(key):
        raise InvalidInput(f"{key!r} is not an evidence key")
    return root / key[:2] / key


def stored_evidence(root: Path, key: str) -> Path:
    path = evidence_path(root, key)
    if not path.is_file():
        raise NotFound(f"evidence {key} is not stored")
    return path
