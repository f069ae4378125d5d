"""PP-OCR's recogniser fine-tuned on plates (``models/finetune_ppocr.py``), run with onnxruntime.

The network is PP-OCRv4's own, with PP-OCR's input (colour, 48 px high, scaled to [-1, 1],
padded on the right) and a head over the 36 plate symbols instead of PP-OCR's 6,625 classes.
It reads one line. A two-row plate is read as its two halves placed side by side, top first;
since a crop does not say how many rows it holds, a crop shaped like it may have two is read
both ways and the more confident reading wins (training taught the model to read nothing
from the wrong view).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from lpr.ocr import MODELS, PlateNet, PlateNetConfig, Reading, check_crop, readers
from lpr.types import Image

HEIGHT = 48
WIDTH = 320  # PP-OCR pads every line to at least this; plates fit in it at 48 px high
MODEL_PATH = MODELS / "ppocr_plate.onnx"
CHARSET_PATH = MODELS / "ppocr_plate.json"
# Plates with two rows are at most about twice as wide as high (UA, VN); one-row plates at
# least about 2.5 times, except US plates (2:1), which this band reads both ways.
TWO_ROW_ASPECT = 2.3
# Plate fonts are narrow: at PP-OCR's 48 px a long plate gets too few of the 40 output frames
# (one per 8 px) to keep repeated characters apart, so lines are widened by this much.
STRETCH = 1.5
# Where a plate is cut into rows: each half overlaps the middle a little, so that a row not
# quite centred keeps its characters whole in one of them.
TOP_END, BOTTOM_START = 0.55, 0.45


def line(crop: Image) -> npt.NDArray[np.float32]:
    """A BGR crop of one line as PP-OCR's input: 48 px high, widened by ``STRETCH`` (at most to
    320 px), scaled to [-1, 1], zero-padded on the right."""
    check_crop(crop)
    h, w = crop.shape[:2]
    width = min(WIDTH, max(HEIGHT // 2, round(STRETCH * HEIGHT * w / h)))
    resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_AREA)
    out = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    out[:, :, :width] = (resized.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)
    return out


def side_by_side(crop: Image) -> Image:
    """The top and bottom halves of a crop as one line, top first, a gap between them."""
    h = crop.shape[0]
    top, bottom = crop[: round(TOP_END * h)], crop[round(BOTTOM_START * h) :]
    size = (bottom.shape[1], top.shape[0])
    colour = np.median(crop.reshape(-1, 3), axis=0).astype(crop.dtype)
    gap = np.broadcast_to(colour, (top.shape[0], max(1, top.shape[0] // 3), 3))
    lower = cv2.resize(bottom, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.hstack([top, gap, lower]))


def views(crop: Image) -> list[npt.NDArray[np.float32]]:
    """The inputs a crop is read as: whole, and as two rows side by side if it may have two."""
    whole = line(crop)
    if crop.shape[1] / crop.shape[0] >= TWO_ROW_ASPECT:
        return [whole]
    return [whole, line(side_by_side(crop))]


class PPOCRPlateConfig(PlateNetConfig):
    model_path: Path = MODEL_PATH
    charset_path: Path = CHARSET_PATH


class PPOCRPlateReader:
    """Reads plate crops (one or two rows) with the committed ``models/ppocr_plate.onnx``."""

    rows = 2

    def __init__(self, config: PPOCRPlateConfig | None = None) -> None:
        self.config = config or PPOCRPlateConfig()
        self._net = PlateNet(self.config)

    def read(self, crops: Sequence[Image]) -> list[Reading]:
        out = []
        for crop in crops:
            readings = self._net.read(np.stack(views(crop)))
            out.append(max(readings, key=lambda r: r.confidence))
        return out


readers.register("ppocr-plate", PPOCRPlateConfig)(PPOCRPlateReader)
