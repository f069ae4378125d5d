"""Text reading: what does a cropped line of text say. Backends register by name.

A reader returns, besides the text, each character's alternatives with their probabilities, so
that ``lpr.plates`` can correct a letter/digit confusion only where the reader found the other
reading plausible.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from lpr.ppocr import REC_MODEL, session
from lpr.registry import Registry
from lpr.types import Image


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    confidence: float
    positions: tuple[Mapping[str, float], ...]  # per character: candidate -> probability
    # Per character, where it is: a share of the crop's width (empty where a reader cannot tell).
    columns: tuple[float, ...] = ()


class Reader(Protocol):
    # The rows of characters it reads in one crop: a reader of two is given a stacked plate
    # whole, as it learnt to read it, rather than row by row.
    rows: int

    def read(self, crops: Sequence[Image]) -> list[Reading]:
        """One reading per crop, in order; a crop with no text reads as empty text."""
        ...


readers: Registry[Reader] = Registry("reader")

# Where our own readers' weights are committed.
MODELS = Path(__file__).resolve().parents[1] / "models"
# A crop this small has no readable characters; refuse it rather than guess.
MIN_SIDE = 4

PLATE_SYMBOLS = string.digits + string.ascii_uppercase + " -."
# Lower-case shapes that a plate's capitals and digits are misread as, mapped by shape.
LOWER_SHAPES = {c: c.upper() for c in "cksuvwxz"} | {"o": "O", "l": "I"}


def check_crop(crop: Image) -> None:
    """Refuses what is not a BGR crop with room for characters."""
    if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < MIN_SIDE:
        raise ValueError(f"expected a BGR crop of at least {MIN_SIDE} px a side, got {crop.shape}")


def greedy_ctc(
    probs: npt.NDArray[np.float32],
    symbols: Sequence[str],
    alternatives: int,
    *,
    filled: float | None = None,
) -> Reading:
    """Best path through CTC frames (blank is symbol 0), each character with its alternatives.

    A character's probability and alternatives come from the frame of its run where it peaks.
    ``filled``: the share of the model's input the crop took (the rest padding), when known:
    then each character's column is the middle of its run, as a share of the crop's width.
    """
    best = probs.argmax(axis=1)
    chars: list[str] = []
    scores: list[float] = []
    positions: list[Mapping[str, float]] = []
    columns: list[float] = []
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
            if filled is not None:
                columns.append(min(1.0, (t + end + 1) / 2 / len(best) / filled))
        t = end + 1
    confidence = float(np.mean(scores)) if scores else 0.0
    return Reading("".join(chars), confidence, tuple(positions), tuple(columns))


class PlateNetConfig(BaseModel):
    """What every reader of one of our committed plate models is configured with; each reader
    names its own files as the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: Path
    charset_path: Path
    alternatives: int = Field(default=4, ge=1, le=16)
    # One thread: the models are small, and the service reads many cameras in parallel.
    threads: int = Field(default=1, ge=0, le=64)


class PlateNet:
    """A committed plate-reading ONNX model and its symbols (``models/*.json``): batches of
    prepared lines in, one greedy CTC reading per line out."""

    def __init__(self, config: PlateNetConfig) -> None:
        self._session = session(config.model_path, config.threads)
        self._input = self._session.get_inputs()[0].name
        charset = json.loads(config.charset_path.read_text(encoding="utf-8"))
        self._symbols = ["", *charset["symbols"]]
        self._alternatives = config.alternatives

    def read(self, batch: npt.NDArray[np.float32]) -> list[Reading]:
        (probs,) = self._session.run(None, {self._input: batch})
        return [greedy_ctc(p, self._symbols, self._alternatives) for p in probs]


class PPOCRRecConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: Path = REC_MODEL
    # "plate": decode only plate symbols (digits, Latin capitals, separators) and keep each
    # character's alternatives; "full": the model's whole dictionary, as plain PP-OCR does.
    alphabet: Literal["plate", "full"] = "plate"
    height: int = Field(default=48, ge=16, le=128)
    max_width: int = Field(default=640, ge=64, le=4096)
    min_width: int = Field(default=320, ge=16, le=4096)
    alternatives: int = Field(default=4, ge=1, le=16)
    threads: int = Field(default=0, ge=0, le=64)


class PPOCRReader:
    """PP-OCRv4 CTC recogniser (the ONNX model shipped in the rapidocr wheel)."""

    rows = 1

    def __init__(self, config: PPOCRRecConfig | None = None) -> None:
        self.config = config or PPOCRRecConfig()
        self._session = session(self.config.model_path, self.config.threads)
        self._input = self._session.get_inputs()[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        # PaddleOCR's CTC layout: blank first, then the dictionary, then a space.
        self._classes = ["", *meta["character"].splitlines(), " "]
        self._symbols, self._fold = self._folding()

    def read(self, crops: Sequence[Image]) -> list[Reading]:
        # One crop per run: how far a crop is padded changes what the model reads at its right
        # edge, so the answer must not depend on which other crops share a batch.
        readings = []
        for crop in crops:
            batch = self._batch([crop])
            (probs,) = self._session.run(None, {self._input: batch})
            readings.append(self._decode(probs[0], filled=self._width(crop) / batch.shape[3]))
        return readings

    def _folding(self) -> tuple[list[str], list[npt.NDArray[np.intp]] | None]:
        """Symbols we decode to (blank first) and, per symbol, the model classes it sums."""
        if self.config.alphabet == "full":
            return self._classes, None
        symbols = ["", *PLATE_SYMBOLS]
        sources: dict[str, list[int]] = {s: [] for s in symbols}
        for i, c in enumerate(self._classes):
            target = LOWER_SHAPES.get(c, c)
            if target in sources:
                sources[target].append(i)
        # Column k of the folded probabilities is the sum of classes fold[0][k], fold[1][k]...
        depth = max(len(v) for v in sources.values())
        zero = len(self._classes)  # an extra all-zero column pads symbols with fewer classes
        fold = [np.array([(v + [zero] * depth)[d] for v in sources.values()]) for d in range(depth)]
        return symbols, fold

    def _width(self, crop: Image) -> int:
        """The crop's width in the model's input, scaled to the input's height."""
        h = self.config.height
        return min(
            self.config.max_width, max(h // 2, math.ceil(h * crop.shape[1] / max(1, crop.shape[0])))
        )

    def _batch(self, crops: Sequence[Image]) -> npt.NDArray[np.float32]:
        h = self.config.height
        widths = [self._width(c) for c in crops]
        # PaddleOCR pads every line to at least 320 px: the model expects room on the right.
        batch = np.zeros((len(crops), 3, h, max(self.config.min_width, *widths)), dtype=np.float32)
        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            resized = cv2.resize(crop, (w, h)).astype(np.float32)
            batch[i, :, :, :w] = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        return batch

    def _decode(self, probs: npt.NDArray[np.float32], *, filled: float) -> Reading:
        if self._fold is None:
            folded = probs
        else:
            padded = np.concatenate([probs, np.zeros((len(probs), 1), probs.dtype)], axis=1)
            folded = sum((padded[:, idx] for idx in self._fold[1:]), padded[:, self._fold[0]])
        return greedy_ctc(folded, self._symbols, self.config.alternatives, filled=filled)


readers.register("ppocr", PPOCRRecConfig)(PPOCRReader)

# Our own plate readers register themselves ("ours", "ppocr-plate"); they import this module's
# Reading and readers.
import lpr.ours  # noqa: E402
import lpr.ppocr_plate  # noqa: E402, F401
