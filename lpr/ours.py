"""Our plate reader: a small CRNN trained on plates only (``models/``), run with onnxruntime.

The model sees a grey crop letterboxed into ``HEIGHT`` x ``WIDTH`` and reads it as two rows of
features, the top row's columns then the bottom row's, so a two-row plate comes out top row
first and a one-row plate on whichever row the model chose, with blanks on the other. Plate
symbols only: digits and Latin capitals; Cyrillic plate letters read as their Latin twins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from lpr.ocr import Reading, readers
from lpr.ppocr import session
from lpr.types import Image

HEIGHT = 48
WIDTH = 160
MODELS = Path(__file__).resolve().parents[1] / "models"
MODEL_PATH = MODELS / "plate_rec.onnx"
CHARSET_PATH = MODELS / "plate_rec.json"
# A crop this small has no readable characters; refuse it rather than guess.
MIN_SIDE = 4


def prepare(crop: Image) -> npt.NDArray[np.float32]:
    """A BGR crop as the model's input: grey, letterboxed top-left, contrast standardised.

    Standardising per crop rather than scaling by 255 keeps night and glare crops in the range
    the model was trained on.
    """
    if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < MIN_SIDE:
        raise ValueError(f"expected a BGR crop of at least {MIN_SIDE} px a side, got {crop.shape}")
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


def greedy_ctc(
    probs: npt.NDArray[np.float32], symbols: Sequence[str], alternatives: int
) -> Reading:
    """Best path through CTC frames (blank is symbol 0), each character with its alternatives.

    A character's probability and alternatives come from the frame of its run where it peaks.
    """
    best = probs.argmax(axis=1)
    chars: list[str] = []
    scores: list[float] = []
    positions: list[Mapping[str, float]] = []
    t = 0
    while t < len(best):
        end = t
        while end + 1 < len(best) and best[end + 1] == best[t]:
            end += 1
        if best[t] != 0:
            run = probs[t : end + 1]
            peak = run[int(run[:, best[t]].argmax())]
            top = np.argsort(peak[1:])[::-1][:alternatives] + 1
            chars.append(symbols[best[t]])
            scores.append(float(peak[best[t]]))
            positions.append({symbols[i]: float(peak[i]) for i in top if peak[i] > 1e-4})
        t = end + 1
    confidence = float(np.mean(scores)) if scores else 0.0
    return Reading("".join(chars), confidence, tuple(positions))


class OursConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: Path = MODEL_PATH
    charset_path: Path = CHARSET_PATH
    alternatives: int = Field(default=4, ge=1, le=16)
    # One thread: the model is small, and the service reads many cameras in parallel.
    threads: int = Field(default=1, ge=0, le=64)
    batch: int = Field(default=32, ge=1, le=1024)


class OursReader:
    """Reads plate crops (one or two rows) with the committed ``models/plate_rec.onnx``."""

    def __init__(self, config: OursConfig | None = None) -> None:
        self.config = config or OursConfig()
        self._session = session(self.config.model_path, self.config.threads)
        self._input = self._session.get_inputs()[0].name
        charset = json.loads(self.config.charset_path.read_text(encoding="utf-8"))
        self._symbols = ["", *charset["symbols"]]

    def read(self, crops: Sequence[Image]) -> list[Reading]:
        out: list[Reading] = []
        for start in range(0, len(crops), self.config.batch):
            batch = np.stack([prepare(c) for c in crops[start : start + self.config.batch]])
            (probs,) = self._session.run(None, {self._input: batch})
            out += [greedy_ctc(p, self._symbols, self.config.alternatives) for p in probs]
        return out


readers.register("ours", OursConfig)(OursReader)
