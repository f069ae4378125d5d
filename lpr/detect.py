"""Text detection: where in the frame is there a line of text. Backends register by name."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from lpr.ppocr import DET_MODEL, session
from lpr.registry import Registry
from lpr.types import BoundingBox, Image

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class TextBox:
    """One line of text: its four corners (clockwise from top-left) in frame pixels."""

    corners: tuple[Point, Point, Point, Point]
    score: float

    @property
    def width(self) -> float:
        (x0, y0), (x1, y1) = self.corners[0], self.corners[1]
        return math.hypot(x1 - x0, y1 - y0)

    @property
    def height(self) -> float:
        (x1, y1), (x2, y2) = self.corners[1], self.corners[2]
        return math.hypot(x2 - x1, y2 - y1)

    @property
    def centre(self) -> Point:
        return (
            sum(p[0] for p in self.corners) / 4,
            sum(p[1] for p in self.corners) / 4,
        )

    def bounds(self) -> BoundingBox:
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        x, y = math.floor(min(xs)), math.floor(min(ys))
        return BoundingBox(x, y, max(1, math.ceil(max(xs)) - x), max(1, math.ceil(max(ys)) - y))


class Detector(Protocol):
    def detect(self, image: Image) -> list[TextBox]:
        """Text lines in the image, any order."""
        ...


detectors: Registry[Detector] = Registry("detector")


class PPOCRDetConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: Path = DET_MODEL
    # "max": the longer side is scaled to side_len (up or down); "min": the shorter side is
    # raised to at least side_len, as rapidocr does by default.
    limit_type: Literal["max", "min"] = "max"
    side_len: int = Field(default=960, ge=64, le=4096)
    max_side_len: int = Field(default=2000, ge=64, le=8192)
    # Small pictures are enlarged at most this much: beyond it detection only costs more time.
    max_upscale: float = Field(default=2.0, ge=1.0, le=16.0)
    thresh: float = Field(default=0.3, gt=0, lt=1)
    box_thresh: float = Field(default=0.5, gt=0, lt=1)
    unclip_ratio: float = Field(default=1.6, gt=0, le=4)
    threads: int = Field(default=0, ge=0, le=64)  # 0: onnxruntime decides


class PPOCRDetector:
    """PP-OCRv4 DB text detector (the ONNX model shipped in the rapidocr wheel)."""

    def __init__(self, config: PPOCRDetConfig | None = None) -> None:
        from rapidocr.ch_ppocr_det.utils import DBPostProcess

        self.config = config or PPOCRDetConfig()
        self._session = session(self.config.model_path, self.config.threads)
        self._post = DBPostProcess(
            thresh=self.config.thresh,
            box_thresh=self.config.box_thresh,
            max_candidates=1000,
            unclip_ratio=self.config.unclip_ratio,
            use_dilation=True,
            score_mode="fast",
        )

    def detect(self, image: Image) -> list[TextBox]:
        h, w = image.shape[:2]
        scale = self._scale(h, w)
        rh, rw = (max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32))
        resized = cv2.resize(image, (rw, rh))
        blob = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
        blob = blob.transpose(2, 0, 1)[np.newaxis]
        (pred,) = self._session.run(None, {self._session.get_inputs()[0].name: blob})
        boxes, scores = self._post(pred, (h, w))
        return [_text_box(b, s) for b, s in zip(boxes, scores, strict=True)]

    def _scale(self, h: int, w: int) -> float:
        c = self.config
        if c.limit_type == "max":
            scale = c.side_len / max(h, w)
        else:
            scale = max(1.0, c.side_len / min(h, w))
        return min(scale, c.max_upscale, c.max_side_len / max(h, w))


def _text_box(corners: npt.NDArray[np.floating[Any]], score: float) -> TextBox:
    pts = [(float(x), float(y)) for x, y in corners]
    return TextBox((pts[0], pts[1], pts[2], pts[3]), float(score))


detectors.register("ppocr", PPOCRDetConfig)(PPOCRDetector)
