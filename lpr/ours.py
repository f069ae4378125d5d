"""Our plate reader: a small CRNN trained on plates only (``models/``), run with onnxruntime.

The model sees a grey crop letterboxed into ``HEIGHT`` x ``WIDTH`` and reads it as two rows of
features, the top row's columns then the bottom row's, so a two-row plate comes out top row
first and a one-row plate on whichever row the model chose, with blanks on the other. Plate
symbols only: digits and Latin capitals (Cyrillic plate letters read as their Latin twins), and
``-`` for a dash or dot printed between groups, which ``lpr.plates`` weighs as a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from lpr.ocr import MODELS, PlateNet, PlateNetConfig, Reading, check_crop, readers
from lpr.types import Image

HEIGHT = 48
WIDTH = 160
MODEL_PATH = MODELS / "plate_rec.onnx"
CHARSET_PATH = MODELS / "plate_rec.json"


def prepare(crop: Image) -> npt.NDArray[np.float32]:
    """A BGR crop as the model's input: grey, letterboxed top-left, contrast standardised.

    Standardising per crop rather than scaling by 255 keeps night and glare crops in the range
    the model was trained on.
    """
    check_crop(crop)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    scale = min(HEIGHT / h, WIDTH / w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(grey, (new_w, new_h), interpolation=cv2.INTER_AREA)
    boxed = cv2.copyMakeBorder(
        resized, 0, HEIGHT - new_h, 0, WIDTH - new_w, cv2.BORDER_REPLICATE
    ).astype(np.float32)
    standard = (boxed - boxed.mean()) / max(float(boxed.std()), 8.0)
    return np.asarray(standard, dtype=np.float32)[None]


class OursConfig(PlateNetConfig):
    model_path: Path = MODEL_PATH
    charset_path: Path = CHARSET_PATH
    batch: int = Field(default=32, ge=1, le=1024)


class OursReader:
    """Reads plate crops (one or two rows) with the committed ``models/plate_rec.onnx``."""

    rows = 2

    def __init__(self, config: OursConfig | None = None) -> None:
        self.config = config or OursConfig()
        self._net = PlateNet(self.config)

    def read(self, crops: Sequence[Image]) -> list[Reading]:
        out: list[Reading] = []
        for start in range(0, len(crops), self.config.batch):
            batch = np.stack([prepare(c) for c in crops[start : start + self.config.batch]])
            out += self._net.read(batch)
        return out


readers.register("ours", OursConfig)(OursReader)
