"""Live cameras into the store: one thread per camera reads its stream, the shared recogniser
reads plates, and each passage becomes one row in ``sightings`` with its evidence crop.

Camera health goes to ``cameras.status`` / ``last_frame_at`` when it changes and every few
seconds, so the table says which cameras are online, stale (connected, picture frozen) or
offline. Sightings the database refused for a moment are kept and sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from lpr.live import Health, LiveSource, StreamOpener
from lpr.sources import iter_stream
from lpr.types import Image, PlateRead, Sighting
from lpr.video import PlateReader, SightingPipeline
from store.cameras import CameraRow, list_cameras, record_health
from store.errors import InvalidInput
from store.evidence import save_evidence
from store.sightings import NewSighting, add_sightings, validate_sighting

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 5.0
MAX_PENDING = 1000  # sightings held while the database is away; beyond this the oldest go
JPEG_QUALITY = 90


class SharedReader:
    """One recogniser for many camera threads, one picture at a time: the models already use
    every core, and reading two pictures at once would only make both slower."""

    def __init__(self, reader: PlateReader) -> None:
        self.reader = reader
        self._lock = threading.Lock()

    def read(self, image: Image) -> list[PlateRead]:
        with self._lock:
            return self.reader.read(image)


def ingest_key(camera: CameraRow, sighting: Sighting) -> str:
    """The same passage always gets the same key, so storing it twice stores it once."""
    return f"{camera.code}:{sighting.track_id}:{sighting.observed_at.astimezone(UTC):%H%M%S.%f}"


def encode_jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} image as JPEG")
    return bytes(data)


def store_sightings(
    engine: Engine,
    camera: CameraRow,
    sightings: Sequence[Sighting],
    *,
    evidence_dir: Path,
    max_evidence_bytes: int,
) -> int:
    """Save the evidence crops, then the sightings in one transaction; returns rows added.

    Evidence first: a row never names a crop that is not on disk. A sighting the store would
    refuse is logged and left out, so it cannot block the others.
    """
    now = datetime.now(UTC)
    items: list[NewSighting] = []
    for sighting in sightings:
        item = NewSighting(
            ingest_key=ingest_key(camera, sighting),
            camera_id=camera.id,
            plate=sighting.plate,
            plate_raw=sighting.text[:32],  # the store keeps 32 characters of the raw read
            country=sighting.country,
            confidence=sighting.confidence,
            observed_at=sighting.observed_at,
            colour=sighting.colour,
            colour_confidence=sighting.colour_confidence,
            box=(sighting.box.x, sighting.box.y, sighting.box.w, sighting.box.h),
            track_id=sighting.track_id,
        )
        try:
            validate_sighting(item, now=now)
        except InvalidInput as error:
            log.error("%s: sighting %s left out: %s", camera.code, item.ingest_key, error)
            continue
        if sighting.crop is not None and sighting.crop.size:
            data = encode_jpeg(sighting.crop)
            key = save_evidence(evidence_dir, data, max_bytes=max_evidence_bytes)
            item = replace(item, evidence_key=key)
        items.append(item)
    with engine.begin() as conn:
        return add_sightings(conn, items)


class CameraWorker:
    """Runs one camera until ``stop`` is set."""

    def __init__(
        self,
        camera: CameraRow,
        reader: PlateReader,
        engine: Engine,
        *,
        evidence_dir: Path,
        max_evidence_bytes: int,
        rate: float = 5.0,
        health_every: float = HEALTH_EVERY_S,
        opener: StreamOpener = iter_stream,
        on_sighting: Callable[[CameraRow, Sighting], None] | None = None,
    ) -> None:
        if not camera.stream_url:
            raise ValueError(f"camera {camera.code} has no stream URL")
        self.camera = camera
        self.engine = engine
        self.evidence_dir = evidence_dir
        self.max_evidence_bytes = max_evidence_bytes
        self.health_every = health_every
        self.on_sighting = on_sighting
        self.live = LiveSource(camera.stream_url, opener=opener)
        self.pipeline = SightingPipeline(reader, source=camera.code, rate=rate)
        self.stored = 0
        self._pending: list[Sighting] = []
        self._reported: Health | None = None
        self._reported_at = 0.0

    def run(self, stop: threading.Event) -> None:
        with self.live:
            while not stop.is_set():
                frame = self.live.next_frame(timeout=0.5)
                try:
                    if frame is None:
                        self._store(self.pipeline.advance(datetime.now(UTC)))
                    else:
                        self._store(self.pipeline.push(frame))
                except Exception:  # one bad frame must not stop the camera
                    log.exception("%s: a frame was dropped", self.camera.code)
                self._report(self.live.health())
        self._store(self.pipeline.close())
        self._report(
            Health(status="offline", fps=0.0, last_frame_at=None, reconnects=0), force=True
        )

    def _store(self, sightings: list[Sighting]) -> None:
        for sighting in sightings:
            if self.on_sighting is not None:
                self.on_sighting(self.camera, sighting)
        self._pending = (self._pending + sightings)[-MAX_PENDING:]
        if not self._pending:
            return
        try:
            self.stored += store_sightings(
                self.engine,
                self.camera,
                self._pending,
                evidence_dir=self.evidence_dir,
                max_evidence_bytes=self.max_evidence_bytes,
            )
        except InvalidInput as error:
            # Sending the same batch again cannot help.
            log.error("%s: %d sightings refused: %s", self.camera.code, len(self._pending), error)
        except (SQLAlchemyError, OSError) as error:
            log.warning(
                "%s: %d sightings wait for the store: %s",
                self.camera.code,
                len(self._pending),
                error,
            )
            return
        self._pending = []

    def _report(self, health: Health, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = self._reported is None or health.status != self._reported.status
        if not (force or changed or now - self._reported_at >= self.health_every):
            return
        try:
            with self.engine.begin() as conn:
                record_health(
                    conn, self.camera.id, status=health.status, last_frame_at=health.last_frame_at
                )
        except SQLAlchemyError as error:
            log.warning("%s: health not recorded: %s", self.camera.code, error)
            return
        if changed:
            log.info(
                "%s: %s, %.1f frames/s, %d reconnects (%s)",
                self.camera.code,
                health.status,
                health.fps,
                health.reconnects,
                health.error or "ok",
            )
        self._reported, self._reported_at = health, now


def enabled_cameras(engine: Engine, codes: Sequence[str] = ()) -> list[CameraRow]:
    """Cameras that are not disabled and have a stream, optionally only those named."""
    with engine.connect() as conn:
        cameras = [c for c in list_cameras(conn) if c.status != "disabled" and c.stream_url]
    if codes:
        wanted = set(codes)
        cameras = [c for c in cameras if c.code in wanted]
    return cameras


@dataclass(frozen=True, slots=True)
class _Running:
    camera: CameraRow
    stop: threading.Event
    thread: threading.Thread


def run_cameras(
    engine: Engine,
    reader: PlateReader,
    *,
    stop: threading.Event,
    evidence_dir: Path,
    max_evidence_bytes: int,
    codes: Sequence[str] = (),
    rate: float = 5.0,
    refresh: float = 60.0,
    on_sighting: Callable[[CameraRow, Sighting], None] | None = None,
) -> None:
    """Run every enabled camera (or those of ``codes``) in its own thread until ``stop``.

    The camera list is read again every ``refresh`` seconds: new cameras start, disabled or
    deleted ones stop, and a camera whose stream URL changed restarts. Returns when all ended.
    """
    if refresh <= 0:
        raise ValueError(f"refresh must be positive, got {refresh}")
    shared = SharedReader(reader)
    running: dict[int, _Running] = {}

    def start(camera: CameraRow) -> None:
        worker = CameraWorker(
            camera,
            shared,
            engine,
            evidence_dir=evidence_dir,
            max_evidence_bytes=max_evidence_bytes,
            rate=rate,
            on_sighting=on_sighting,
        )
        halt = threading.Event()
        thread = threading.Thread(target=worker.run, args=(halt,), name=f"camera {camera.code}")
        running[camera.id] = _Running(camera, halt, thread)
        thread.start()

    def end(camera_id: int) -> None:
        gone = running.pop(camera_id)
        gone.stop.set()
        gone.thread.join()

    while True:
        try:
            wanted = {c.id: c for c in enabled_cameras(engine, codes)}
        except SQLAlchemyError as error:
            log.warning("camera list not refreshed, keeping %d running: %s", len(running), error)
        else:
            for camera_id, run in list(running.items()):
                current = wanted.get(camera_id)
                if current is None or current.stream_url != run.camera.stream_url:
                    end(camera_id)
            for camera_id, camera in wanted.items():
                if camera_id not in running:
                    start(camera)
        if stop.wait(refresh):
            break
    for run in running.values():
        run.stop.set()
    for camera_id in list(running):
        end(camera_id)
