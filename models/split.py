"""The fixed train/test split of every real plate set: by a hash of the image's file name.

Training may use only ``"train"`` images; benchmarks report ``"test"``. The hash of the name
alone (not its folder, not the set's order) keeps an image on the same side however a set is
copied, extended or re-sorted.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Literal

Split = Literal["train", "test"]
TEST_SHARE = 5  # one image in five is test


def split_of(image: str) -> Split:
    """``"test"`` for about a fifth of images, ``"train"`` for the rest, fixed per file name."""
    name = PurePath(image).name
    if not name:
        raise ValueError(f"{image!r} has no file name to split on")
    digest = hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).digest()
    return "test" if int.from_bytes(digest[:8], "big") % TEST_SHARE == 0 else "train"
