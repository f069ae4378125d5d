"""The committed fine-tuned PP-OCR plate reader, through onnxruntime only."""

from __future__ import annotations

import random

import numpy as np
import pytest

from lpr.ocr import readers
from lpr.ppocr_plate import (
    HEIGHT,
    MODEL_PATH,
    STRETCH,
    TWO_ROW_ASPECT,
    WIDTH,
    PPOCRPlateReader,
    line,
    side_by_side,
    views,
)
from lpr.registry import BackendError
from models.synth import LAYOUTS, layout, render, sample
from tests.models.generated import read_every_layout

PER_LAYOUT = 8
# Floors for clean plates (gentle geometry, no damage): the committed model reads 75 of 80, 7 or
# 8 of each format; its misses are listed in models/cards/ppocr_plate.md.
MIN_PER_LAYOUT = 6
MIN_OVERALL = 0.9


@pytest.fixture(scope="module")
def reader() -> PPOCRPlateReader:
    if not MODEL_PATH.is_file():
        pytest.fail(f"{MODEL_PATH} is not committed; fine-tune and export it (models/README.md)")
    return PPOCRPlateReader()


def test_reads_generated_plates_of_every_format(
    reader: PPOCRPlateReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fine-tuned before the generator drew plates in its own stroke font: read what it learnt.
    monkeypatch.setattr(render, "STROKE_SHARE", 0.0)
    read, misses = read_every_layout(reader, PER_LAYOUT)
    weak = {name: n for name, n in read.items() if n < MIN_PER_LAYOUT}
    assert not weak, f"formats read too rarely (of {PER_LAYOUT}): {weak}; misses: {misses}"
    assert sum(read.values()) >= MIN_OVERALL * PER_LAYOUT * len(LAYOUTS), misses


def test_is_a_reader_backend_by_name() -> None:
    assert "ppocr-plate" in readers.names()
    assert isinstance(readers.create("ppocr-plate"), PPOCRPlateReader)
    with pytest.raises(BackendError, match="bad options"):
        readers.create("ppocr-plate", alternatives=0)


def test_a_crop_that_may_hold_two_rows_is_read_both_ways() -> None:
    two_rows = sample(random.Random(1), layout("vn-moto-2row"), clean=True).image
    one_row = sample(random.Random(1), layout("ru"), clean=True).image
    assert two_rows.shape[1] / two_rows.shape[0] < TWO_ROW_ASPECT
    assert len(views(two_rows)) == 2 and len(views(one_row)) == 1
    rows = side_by_side(two_rows)
    assert rows.shape[0] < two_rows.shape[0] and rows.shape[1] > 2 * two_rows.shape[1]


def test_input_is_ppocrs_line() -> None:
    crop = np.full((30, 600, 3), 255, dtype=np.uint8)
    x = line(crop)
    assert x.shape == (3, HEIGHT, WIDTH) and x.dtype == np.float32
    assert (x == 1.0).all()  # squeezed to the full width: nothing padded
    narrow = line(np.zeros((48, 96, 3), dtype=np.uint8))
    width = round(STRETCH * 96)
    assert (narrow[:, :, :width] == -1.0).all() and (narrow[:, :, width:] == 0.0).all()


def test_a_degenerate_crop_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        line(np.zeros((2, 50, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="BGR"):
        views(np.zeros((20, 50), dtype=np.uint8))
