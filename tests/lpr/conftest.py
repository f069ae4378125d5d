"""Test videos made from a real photo at test time, and a real RTSP camera to stream them.

Nothing here is committed: clips (see ``tests.lpr.clips``) go to pytest's temp directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lpr.recognizer import Recognizer
from lpr.types import Image
from tests.conftest import require_shared_data
from tests.lpr.clips import FPS, encode_h264, fit_height, parked, passing, road, write_mp4

# A Brazilian photo whose plate the default recogniser reads reliably at 640x360.
CAR_PHOTO = Path("plates/openalpr-br/GWT2180.jpg")
CAR_PLATE = "GWT2180"
SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="session")
def car(shared_data: Path) -> Image:
    """The car photo scaled to the clip's height."""
    path = require_shared_data(shared_data / CAR_PHOTO)
    return fit_height(path)


@pytest.fixture(scope="session")
def passing_video(car: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("video") / "passing.mp4", passing(car))


@pytest.fixture(scope="session")
def parked_video(car: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("video") / "parked.mp4", parked(car))


@pytest.fixture(scope="session")
def passing_units(car: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The passing clip with a second of empty road before it, as length-prefixed H.264 units."""
    frames = [road()] * FPS + passing(car)
    path = tmp_path_factory.mktemp("rtsp") / "passing.h264units"
    with path.open("wb") as f:
        for unit in encode_h264(frames):
            f.write(len(unit).to_bytes(4, "big") + unit)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RtspCamera:
    """The test camera process; started, frozen, thawed and killed by its process id."""

    units: Path
    port: int
    log: Path
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> None:
        self.process = subprocess.Popen(
            [
                SYSTEM_PYTHON,
                str(RTSP_SERVER),
                str(self.units),
                "--port",
                str(self.port),
                "--fps",
                str(FPS),
            ],
            stdout=subprocess.PIPE,
            # A file, not a pipe: GStreamer warnings must never fill a pipe and block the camera.
            stderr=self.log.open("a"),
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until ready, or "" if it died
        if not line.startswith("ready"):
            self.process.wait(timeout)
            raise RuntimeError(f"RTSP test camera did not start: {self.log.read_text()[-2000:]}")

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@pytest.fixture
def rtsp_camera(passing_units: Path, tmp_path: Path) -> Iterator[RtspCamera]:
    if (
        not Path(SYSTEM_PYTHON).exists()
        or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
            capture_output=True,
        ).returncode
    ):
        message = "the RTSP test camera needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (run scripts/setup.sh)")
        pytest.skip(message)
    camera = RtspCamera(units=passing_units, port=free_port(), log=tmp_path / "rtsp.log")
    camera.start()
    try:
        yield camera
    finally:
        camera.kill()
