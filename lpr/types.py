"""The values that flow between recognition stages. Frozen: a stage never edits its input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # BGR, HxWx3, as OpenCV gives it


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """Axis-aligned box in pixels of the full frame."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"box must have positive size, got {self.w}x{self.h}")

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def iou(self, other: BoundingBox) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union else 0.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture from a source, with the time it was taken."""

    image: Image = field(repr=False)
    taken_at: datetime
    source: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A validated plate read in one frame."""

    plate: str  # normalised: Latin capitals and digits, no separators
    text: str  # as the reader returned it
    country: str  # ISO 3166-1 alpha-2, or "EU" / "US" for the generic formats
    confidence: float
    box: BoundingBox
    lines: int = 1
    colour: str | None = None
    colour_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Sighting:
    """One vehicle passage past one camera: the voted plate and its best evidence."""

    plate: str
    text: str
    country: str
    confidence: float
    box: BoundingBox
    observed_at: datetime
    source: str
    track_id: str
    colour: str | None = None
    colour_confidence: float = 0.0
    crop: Image | None = field(default=None, repr=False, compare=False)
