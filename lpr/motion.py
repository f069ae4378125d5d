"""The cheap first look at a frame: did anything move? Detection runs only when it did.

Works on a small grey copy (160 px wide by default), compared with a slowly updated background,
so it costs well under a millisecond per frame and ignores sensor noise and compression flicker.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from lpr.types import Image


class MotionGate:
    """Says whether a frame differs from the recent background of the same camera."""

    def __init__(
        self,
        *,
        width: int = 160,
        threshold: int = 25,
        min_fraction: float = 0.002,
        learning_rate: float = 0.25,
    ) -> None:
        if width < 16:
            raise ValueError(f"width must be at least 16 px, got {width}")
        if not 0 < threshold < 256:
            raise ValueError(f"threshold must be in 1..255, got {threshold}")
        if not 0.0 < min_fraction < 1.0:
            raise ValueError(f"min_fraction must be in (0, 1), got {min_fraction}")
        if not 0.0 < learning_rate <= 1.0:
            raise ValueError(f"learning_rate must be in (0, 1], got {learning_rate}")
        self.width = width
        self.threshold = threshold
        self.min_fraction = min_fraction
        self.learning_rate = learning_rate
        self._background: npt.NDArray[np.float32] | None = None

    def moved(self, image: Image) -> bool:
        """True for the first frame, after a size change, and when enough pixels changed."""
        small = self._small_grey(image)
        background = self._background
        if background is None or background.shape != small.shape:
            self._background = small.astype(np.float32)
            return True
        changed = cv2.absdiff(small, cv2.convertScaleAbs(background)) > self.threshold
        cv2.accumulateWeighted(small, background, self.learning_rate)
        return float(np.count_nonzero(changed)) >= self.min_fraction * changed.size

    def _small_grey(self, image: Image) -> npt.NDArray[np.uint8]:
        height, width = image.shape[:2]
        size = (self.width, max(1, round(height * self.width / width)))
        grey = cv2.cvtColor(
            cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        return np.asarray(cv2.GaussianBlur(grey, (5, 5), 0), dtype=np.uint8)
