from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.cameras import get_camera
from store.evidence import stored_evidence
from store.sightings import EARLIEST, sightings_by_plate
from tests.lpr.conftest import CAR_PLATE, RtspCamera
from tests.lpr.test_worker import add_camera

PLATETRACE = Path(sys.executable).with_name("platetrace")


def test_no_enabled_camera_is_a_one_line_error(clean_engine: Engine) -> None:
    add_camera(clean_engine, "HCM-Q1-BN-0101", "rtsp://127.0.0.1:9/a", status="disabled")
    result = subprocess.run(
        [str(PLATETRACE), "cameras", "run"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no enabled camera with a stream URL (any camera)"


@pytest.mark.slow
def test_cameras_run_prints_sightings_and_stops_cleanly(
    clean_engine: Engine, rtsp_camera: RtspCamera, tmp_path: Path
) -> None:
    camera = add_camera(clean_engine, "HCM-Q1-BN-0102", rtsp_camera.url)
    env = {**os.environ, "PLATETRACE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [str(PLATETRACE), "cameras", "run", "--camera", camera.code],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.log").open("w"),
        text=True,
        env=env,
    )
    # The first sighting line, or end of output if the command died; bounded by a timer.
    killer = threading.Timer(150, process.kill)
    killer.start()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    finally:
        killer.cancel()
        if process.poll() is None:
            process.kill()
    assert line, (tmp_path / "stderr.log").read_text()[-3000:]
    printed = json.loads(line)
    assert printed["camera"] == printed["source"] == camera.code
    assert printed["plate"] == CAR_PLATE and printed["country"] == "BR"
    assert len(printed["box"]) == 4 and 0 < printed["confidence"] <= 1
    assert code == 0
    with clean_engine.connect() as conn:
        after = get_camera(conn, camera.id)
        (stored, *_) = sightings_by_plate(conn, CAR_PLATE, EARLIEST, datetime.now(UTC))
    assert after.status == "offline" and after.last_frame_at is not None
    assert stored.camera_id == camera.id and stored.track_id == printed["track_id"]
    assert stored.evidence_key is not None
    assert stored_evidence(tmp_path / "evidence", stored.evidence_key).is_file()
