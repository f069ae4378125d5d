"""Still images from files or URLs, refused cleanly when corrupt, truncated or too large.

The pixel count is read from the file header before anything is decoded, so a 200-megapixel
image (or a forged header claiming one) costs a few bytes of memory, not gigabytes.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps

from lpr.types import Image

MAX_PIXELS = 50_000_000
MAX_BYTES = 64 * 1024 * 1024
URL_TIMEOUT_S = 10.0


class ImageError(ValueError):
    """An image we cannot or will not read; the message says which and why."""


class ImageTooLarge(ImageError):
    """More pixels or bytes than we decode."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def load_image(source: str | Path) -> Image:
    """A BGR image from a path or an http(s) URL."""
    name = str(source)
    data = fetch(name) if is_url(name) else _read_file(Path(source))
    return decode_image(data, name=name)


def decode_image(data: bytes, *, name: str = "image", max_pixels: int = MAX_PIXELS) -> Image:
    """Decode JPEG/PNG/WebP/... bytes to BGR, honouring EXIF orientation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)  # we refuse earlier
        try:
            with PILImage.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageTooLarge(
                        f"{name}: {width}x{height} is {width * height / 1e6:.0f} megapixels, "
                        f"more than the {max_pixels / 1e6:.0f} we decode"
                    )
                img.load()
                rgb = ImageOps.exif_transpose(img).convert("RGB")
        except ImageError:
            raise
        except PILImage.DecompressionBombError as e:  # Pillow's own, stricter-than-ours guard
            raise ImageTooLarge(
                f"{name}: more than the {max_pixels / 1e6:.0f} megapixels we decode ({e})"
            ) from e
        except (OSError, SyntaxError, ValueError) as e:
            raise ImageError(f"{name}: not a readable image ({e})") from e
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, ::-1])


def fetch(url: str, *, timeout_s: float = URL_TIMEOUT_S, max_bytes: int = MAX_BYTES) -> bytes:
    """The body of an http(s) URL, refusing errors and bodies larger than ``max_bytes``."""
    import httpx

    try:
        with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            if response.status_code != 200:
                raise ImageError(f"{url}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ImageTooLarge(f"{url}: larger than {max_bytes // 2**20} MiB")
                chunks.append(chunk)
    except httpx.HTTPError as e:
        raise ImageError(f"{url}: cannot fetch ({e.__class__.__name__}: {e})") from e
    return b"".join(chunks)


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageTooLarge(f"{path}: {size // 2**20} MiB, larger than {MAX_BYTES // 2**20}")
        return path.read_bytes()
    except ImageError:
        raise
    except OSError as e:
        raise ImageError(f"{path}: cannot read ({e.strerror or e})") from e
