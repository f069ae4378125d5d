from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lpr.recognizer import Recognizer
from lpr.types import BoundingBox, Image, Sighting
from lpr.worker import enabled_cameras, ingest_key, run_cameras, store_sightings
from store.cameras import CameraRow, NewCamera, create_camera, get_camera, update_camera
from store.evidence import stored_evidence
from store.sightings import SightingRow, sightings_by_plate
from tests.lpr.conftest import CAR_PLATE, RtspCamera

MAX_EVIDENCE = 4 * 1024 * 1024


def add_camera(engine: Engine, code: str, url: str | None, status: str = "offline") -> CameraRow:
    with engine.begin() as conn:
        return create_camera(
            conn,
            NewCamera(code=code, name=code, lat=10.77, lon=106.70, stream_url=url, status=status),
        )


def sighting(car: Image, seconds: float = 0.0, track: str = "t-1") -> Sighting:
    box = BoundingBox(271, 162, 105, 27)
    return Sighting(
        plate=CAR_PLATE,
        text="GWT-2180",
        country="BR",
        confidence=0.93,
        box=box,
        observed_at=datetime(2026, 5, 1, 8, 0, tzinfo=UTC) + timedelta(seconds=seconds),
        source="cam",
        track_id=track,
        colour="grey",
        colour_confidence=0.6,
        crop=car[135:216, 244:403].copy(),
    )


def plate_rows(engine: Engine) -> list[SightingRow]:
    with engine.connect() as conn:
        start = datetime(2000, 1, 1, tzinfo=UTC)
        return list(sightings_by_plate(conn, CAR_PLATE, start, datetime.now(UTC) + timedelta(1)))


def test_sightings_are_stored_once_with_their_evidence(
    clean_engine: Engine, car: Image, tmp_path: Path
) -> None:
    camera = add_camera(clean_engine, "HCM-Q1-BN-0001", "rtsp://127.0.0.1:9/cam")
    batch = [sighting(car), sighting(car, seconds=30, track="t-2")]
    stored = store_sightings(
        clean_engine, camera, batch, evidence_dir=tmp_path, max_evidence_bytes=MAX_EVIDENCE
    )
    again = store_sightings(
        clean_engine, camera, batch, evidence_dir=tmp_path, max_evidence_bytes=MAX_EVIDENCE
    )
    assert (stored, again) == (2, 0)
    rows = plate_rows(clean_engine)
    assert len(rows) == 2
    first = rows[0]
    assert first.ingest_key == ingest_key(camera, batch[0])
    assert first.ingest_key.startswith("HCM-Q1-BN-0001:t-1:")
    assert first.box == [271, 162, 105, 27]
    assert first.colour == "grey" and first.plate_raw == "GWT-2180"
    assert first.evidence_key is not None
    assert stored_evidence(tmp_path, first.evidence_key).stat().st_size > 0


def test_a_sighting_the_store_refuses_does_not_block_the_rest(
    clean_engine: Engine, car: Image, tmp_path: Path
) -> None:
    camera = add_camera(clean_engine, "HCM-Q1-BN-0002", "rtsp://127.0.0.1:9/cam")
    future = sighting(car, seconds=10 * 365 * 86400, track="t-bad")  # a camera clock years ahead
    stored = store_sightings(
        clean_engine,
        camera,
        [future, sighting(car)],
        evidence_dir=tmp_path,
        max_evidence_bytes=MAX_EVIDENCE,
    )
    assert stored == 1
    assert len(list(tmp_path.rglob("*.jpg"))) == 1  # no evidence for the refused one


def test_enabled_cameras_skips_disabled_and_streamless_ones(clean_engine: Engine) -> None:
    add_camera(clean_engine, "HCM-Q1-BN-0003", "rtsp://127.0.0.1:9/a")
    add_camera(clean_engine, "HCM-Q1-BN-0004", "rtsp://127.0.0.1:9/b", status="disabled")
    add_camera(clean_engine, "HCM-Q1-BN-0005", None)
    add_camera(clean_engine, "HCM-Q1-BN-0006", "rtsp://127.0.0.1:9/c")
    assert [c.code for c in enabled_cameras(clean_engine)] == ["HCM-Q1-BN-0003", "HCM-Q1-BN-0006"]
    assert [c.code for c in enabled_cameras(clean_engine, ["HCM-Q1-BN-0006"])] == ["HCM-Q1-BN-0006"]


def camera_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("camera ")}


def wait_until(done: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within} s")
        time.sleep(0.2)


@pytest.mark.slow
def test_run_cameras_follows_the_camera_list(
    clean_engine: Engine, rtsp_camera: RtspCamera, recognizer: Recognizer, tmp_path: Path
) -> None:
    stop = threading.Event()
    runner = threading.Thread(
        target=run_cameras,
        args=(clean_engine, recognizer),
        kwargs={
            "stop": stop,
            "evidence_dir": tmp_path,
            "max_evidence_bytes": MAX_EVIDENCE,
            "refresh": 0.5,
        },
    )
    runner.start()
    try:
        assert camera_threads() == set()
        camera = add_camera(clean_engine, "HCM-Q1-BN-0201", rtsp_camera.url)

        def status() -> str:
            with clean_engine.connect() as conn:
                return get_camera(conn, camera.id).status

        wait_until(lambda: status() == "online", 60, "the new camera started")
        assert camera_threads() == {"camera HCM-Q1-BN-0201"}
        with clean_engine.begin() as conn:
            update_camera(conn, camera.id, status="disabled")
        wait_until(lambda: not camera_threads(), 60, "the disabled camera stopped")
        assert status() == "disabled"
    finally:
        stop.set()
        runner.join(60)
    assert not runner.is_alive()
