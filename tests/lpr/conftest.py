"""Test videos made from a real photo at test time, and a real RTSP camera to stream them.

Videos are 640x360: a car photo slides across a still road (it passes) or stands while the
clip runs (it is parked). Nothing here is committed: clips go to pytest's temp directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from lpr.recognizer import Recognizer
from lpr.types import Image
from tests.conftest import require_shared_data

WIDTH, HEIGHT = 640, 360
FPS = 10
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
    photo = cv2.imread(str(path))
    assert photo is not None, f"cannot read {path}"
    scale = HEIGHT / photo.shape[0]
    size = (round(photo.shape[1] * scale), HEIGHT)
    return np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def road() -> Image:
    """An empty grey road with lane marks, the same in every frame."""
    image = np.full((HEIGHT, WIDTH, 3), 96, dtype=np.uint8)
    for x in range(0, WIDTH, 80):
        cv2.rectangle(image, (x, 300), (x + 40, 308), (220, 220, 220), thickness=-1)
    return image


def car_at(car: Image, left: int) -> Image:
    """The road with the car photo's left edge at ``left`` (partly or wholly outside is fine)."""
    frame = road()
    width = car.shape[1]
    a, b = max(0, left), min(WIDTH, left + width)
    if a < b:
        frame[:, a:b] = car[:, a - left : b - left]
    return frame


def passing(car: Image, seconds: float = 2.0) -> list[Image]:
    """The car enters on the right and leaves on the left."""
    steps = round(seconds * FPS)
    start, end = WIDTH, -car.shape[1]
    return [car_at(car, round(start + (end - start) * i / (steps - 1))) for i in range(steps)]


def encode_h264(frames: Sequence[Image], fps: int = FPS) -> list[bytes]:
    """Access units, Annex B, a key frame every second with its parameter sets repeated."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.framerate = Fraction(fps)
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:repeat-headers=1",
    }
    units: list[bytes] = []
    for i, image in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(image, format="bgr24")
        picture.pts = i
        units += [bytes(p) for p in codec.encode(picture)]
    units += [bytes(p) for p in codec.encode(None)]
    return units


def write_mp4(path: Path, frames: Sequence[Image], fps: int = FPS) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def passing_video(car: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("video") / "passing.mp4", passing(car))


@pytest.fixture(scope="session")
def parked_video(car: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The car stands still for 3 s while a pedestrian crosses, so the motion gate keeps firing."""
    frames = []
    for i in range(3 * FPS):
        frame = car_at(car, (WIDTH - car.shape[1]) // 2)
        x = 20 + i * 15
        cv2.rectangle(frame, (x, 20), (x + 25, 90), (40, 40, 160), thickness=-1)
        frames.append(frame)
    return write_mp4(tmp_path_factory.mktemp("video") / "parked.mp4", frames)


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
