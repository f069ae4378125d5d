from __future__ import annotations

from pathlib import Path

import pytest

from lpr.recognizer import Recognizer
from lpr.sources import SourceUnavailableError, UnreadableSourceError, iter_video
from lpr.tracking import Tracker
from lpr.types import BoundingBox
from lpr.video import SightingPipeline, clear_of_edges, read_video
from tests.lpr.conftest import CAR_PLATE, RtspCamera, free_port


@pytest.mark.slow
def test_a_car_passing_is_exactly_one_sighting(passing_video: Path, recognizer: Recognizer) -> None:
    sightings = list(read_video(str(passing_video), recognizer))
    assert [s.plate for s in sightings] == [CAR_PLATE]
    (sighting,) = sightings
    assert sighting.country == "BR"
    assert sighting.crop is not None and sighting.crop.size > 0
    assert sighting.source == str(passing_video)
    assert 0.5 < sighting.confidence <= 1.0


@pytest.mark.slow
def test_a_parked_car_is_one_sighting_not_a_stream(
    parked_video: Path, recognizer: Recognizer
) -> None:
    # Something keeps moving, so detection keeps running on the parked car for 3 s.
    pipeline = SightingPipeline(
        recognizer,
        source="parked",
        rate=2.0,
        tracker=Tracker(source="parked", close_after=1.0, emit_after=1.5),
    )
    sightings = [s for frame in iter_video(parked_video) for s in pipeline.push(frame)]
    sightings += pipeline.close()
    assert pipeline.reads >= 5
    assert [s.plate for s in sightings] == [CAR_PLATE]


@pytest.mark.parametrize(
    ("box", "clear"),
    [
        (BoundingBox(271, 162, 105, 27), True),
        (BoundingBox(3, 163, 87, 24), False),  # "WT2180": the plate is leaving on the left
        (BoundingBox(560, 162, 79, 28), False),  # "GWT21": entering on the right
        (BoundingBox(271, 2, 105, 27), False),
        (BoundingBox(13, 13, 105, 27), True),
    ],
)
def test_plates_cut_by_the_frame_edge_are_not_trusted(box: BoundingBox, clear: bool) -> None:
    assert clear_of_edges(box, 640, 360) is clear


def test_read_video_refuses_bad_sources(tmp_path: Path, recognizer: Recognizer) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(UnreadableSourceError):
        list(read_video(str(tmp_path / "broken.mp4"), recognizer))
    with pytest.raises(SourceUnavailableError):
        list(read_video(f"rtsp://127.0.0.1:{free_port()}/cam", recognizer, max_seconds=20))
    with pytest.raises(ValueError, match="still image"):
        list(read_video("photo.jpg", recognizer))


@pytest.mark.slow
def test_read_video_reads_the_plate_from_a_live_stream(
    rtsp_camera: RtspCamera, recognizer: Recognizer
) -> None:
    sightings = read_video(rtsp_camera.url, recognizer, max_seconds=90)
    first = next(sightings)
    sightings.close()  # stops the live reader
    assert first.plate == CAR_PLATE
    assert first.source == rtsp_camera.url
