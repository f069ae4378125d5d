"""The recogniser on drawn plates and on real photos from the shared evaluation sets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lpr.detect import PPOCRDetector, TextBox, detectors
from lpr.images import load_image
from lpr.ocr import PPOCRReader, Reader, readers
from lpr.ours import OursReader
from lpr.recognizer import Recognizer, crop
from lpr.registry import BackendError
from lpr.types import Image
from tests.conftest import require_shared_data
from tests.lpr.plate_images import car_with_plate, empty_scene


@pytest.mark.parametrize(
    ("text", "body", "country"),
    [("AB1234CE", "red", "UA"), ("A123BC77", "blue", "RU"), ("ABC1D23", "white", "BR")],
)
def test_reads_a_drawn_plate_with_its_colour(
    recognizer: Recognizer, text: str, body: str, country: str
) -> None:
    image, drawn = car_with_plate(text, body=body)
    best, *_ = recognizer.read(image)
    assert (best.plate, best.country, best.colour) == (text, country, body)
    assert best.box.iou(drawn) > 0.3  # the read box hugs the text, the drawn one the plate
    assert 0.5 < best.confidence <= 1.0
    assert best.colour_confidence > 0.5


def test_a_picture_without_a_plate_gives_nothing(recognizer: Recognizer) -> None:
    assert recognizer.read(empty_scene()) == []


def test_a_region_keeps_only_its_formats() -> None:
    image, _ = car_with_plate("AB1234CE")
    reads = Recognizer(countries=["RU"]).read(image)
    assert all(r.country == "RU" for r in reads)
    assert "AB1234CE" not in {r.plate for r in reads}


@pytest.mark.parametrize(
    ("image", "plate"),
    [
        ("openalpr-br/OKL1235.jpg", "OKL1235"),
        ("openalpr-eu/test_057.jpg", "RK300AS"),
        ("ua-photos/8.jpeg", "AE1077CO"),
        ("ru-crops/07.jpg", "T786YT777"),  # a crop: the plate fills the picture
        # One line runs through the region frame; read as the line's tail the 4 is a doubtful
        # 6, read from the region's own cut a sure 4.
        ("ru-crops/62.jpg", "E677MC43"),
        # Seen from the side: read upright only when cut along the plate's own outline.
        ("ua-photos/11.jpeg", "BE7425CB"),
        # The detector leaves VW out (a wide gap): the plate's outline holds it.
        ("openalpr-eu/eu7.jpg", "VW4X4WP"),
        # The blue strip read as H: the A between the digits is no character to leave out.
        ("openalpr-eu/test_036.jpg", "RK708AI"),
    ],
)
def test_reads_real_photos(
    recognizer: Recognizer, shared_data: Path, image: str, plate: str
) -> None:
    path = require_shared_data(shared_data / "plates" / image)
    reads = recognizer.read(load_image(path))
    assert reads, f"no plate in {image}"
    assert reads[0].plate == plate


def test_refuses_what_is_not_a_bgr_picture(recognizer: Recognizer) -> None:
    with pytest.raises(ValueError, match="expected a BGR uint8 image"):
        recognizer.read(np.zeros((10, 10), dtype=np.uint8))


def test_backends_are_built_by_name_with_checked_options() -> None:
    assert "ppocr" in detectors.names()
    assert "ppocr" in readers.names()
    with pytest.raises(BackendError, match="no detector named 'yolo'"):
        Recognizer.from_names(detector="yolo")
    with pytest.raises(BackendError, match="bad options for reader 'ppocr'"):
        Recognizer.from_names(reader_options={"height": 2})


@pytest.mark.parametrize("text", ["E677MC43", "K707YY199"])
def test_a_drawn_russian_plate_keeps_its_region(recognizer: Recognizer, text: str) -> None:
    image, _ = car_with_plate(text)
    best, *_ = recognizer.read(image)
    assert (best.plate, best.country) == (text, "RU")


class _CutShort:
    """The real detector, but each line's box misses the first ``share`` of its length."""

    def __init__(self, share: float) -> None:
        self.detector = PPOCRDetector()
        self.share = share

    def detect(self, image: Image) -> list[TextBox]:
        out = []
        for box in self.detector.detect(image):
            (x0, y0), (x1, y1), p2, (x3, y3) = box.corners
            dx, dy = (x1 - x0) * self.share, (y1 - y0) * self.share
            out.append(TextBox(((x0 + dx, y0 + dy), (x1, y1), p2, (x3 + dx, y3 + dy)), box.score))
        return out


def test_a_line_the_detector_cut_short_is_read_whole() -> None:
    image, _ = car_with_plate("KTR4581", body="white")
    best, *_ = Recognizer(_CutShort(1 / 7), colour=False).read(image)
    assert (best.plate, best.country) == ("KTR4581", "BR")


def test_the_wide_crop_reaches_along_the_line() -> None:
    image = np.zeros((100, 300, 3), dtype=np.uint8)
    box = ((100, 40), (200, 40), (200, 60), (100, 60))  # 100 x 20 at (100, 40)
    assert crop(image, box).shape[:2] == (25, 105)
    assert crop(image, box, reach=1.5).shape[:2] == (25, 165)  # 1.5 heights each side


@pytest.mark.parametrize(("reader", "text"), [(OursReader, "10922BX"), (PPOCRReader, "10922 BX")])
def test_only_a_reader_of_two_rows_is_given_a_stacked_plate_whole(
    shared_data: Path, reader: Callable[[], Reader], text: str
) -> None:
    # A Ukrainian trailer plate, 10922 over BX: read row by row, the screw beside the 1 turns
    # it into a 4 for our reader, which learnt stacked plates whole. Rows read apart are joined
    # with a space; a stack read whole is one text.
    path = require_shared_data(shared_data / "plates" / "ua-photos" / "26.jpeg")
    best, *_ = Recognizer(reader=reader(), colour=False).read(load_image(path))
    assert (best.plate, best.lines, best.text) == ("10922BX", 2, text)
