"""Stakeout and co-travel: the questions investigators ask most after a plate search.

*Stakeout*: which plates passed camera A between 10:00 and 10:15 and camera B between 10:20 and
10:40? *Co-travel*: which vehicles travel with a given plate (at the same cameras within
seconds, again and again)? The SQL is in ``store.cotravel``; this module adds what the database
cannot judge: a plate's own misreads (``51F12345`` read as ``51F1234S``) are the same vehicle,
not a companion, and are shown beside the plate they resemble.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from store.cotravel import CameraWindow, StakeoutRow, companions, plates_in_windows
from store.sightings import sightings_by_plate
from tracing.watch import ocr_distance

# One cheap confusion (O/0, B/8, …) costs 0.5 in ``ocr_distance``: a single misread character.
LOOK_ALIKE = 0.5


@dataclass(frozen=True, slots=True)
class StakeoutHit:
    row: StakeoutRow
    look_alikes: tuple[str, ...]  # other plates of the result one misread away


@dataclass(frozen=True, slots=True)
class Companion:
    plate: str
    together: int
    cameras: int
    share: float  # of the target's sightings in the range that this plate accompanied
    mean_offset_s: float
    first_together: datetime
    last_together: datetime


def _alike(a: str, b: str) -> bool:
    return ocr_distance(a, b, limit=LOOK_ALIKE) <= LOOK_ALIKE


def stakeout(
    conn: Connection,
    windows: Sequence[CameraWindow],
    *,
    min_windows: int | None = None,
    limit: int = 1000,
) -> list[StakeoutHit]:
    """Plates seen in (at least ``min_windows`` of) the camera windows, most windows first."""
    rows = plates_in_windows(conn, windows, min_windows=min_windows, limit=limit)
    plates = [r.plate for r in rows]
    return [
        StakeoutHit(r, tuple(p for p in plates if p != r.plate and _alike(p, r.plate)))
        for r in rows
    ]


def travelling_with(
    conn: Connection,
    plate: str,
    start: datetime,
    end: datetime,
    *,
    within_s: float = 30.0,
    min_together: int = 3,
    min_cameras: int = 2,
    limit: int = 100,
    cameras: Sequence[int] | None = None,
) -> list[Companion]:
    """Vehicles seen with ``plate`` at ``min_cameras`` cameras or more, ``min_together`` times.

    Passing one camera together is chance on a busy road; being together at several cameras
    across a trip is not. Misreads of ``plate`` itself are left out. ``cameras`` limits it to
    the target's sightings at those cameras (an agency's).
    """
    targets = sightings_by_plate(conn, plate, start, end)
    if cameras is not None:
        mine = set(cameras)
        targets = [s for s in targets if s.camera_id in mine]
    seen = len(targets)
    # Ask for a few more rows than wanted: look-alikes of the target are dropped below.
    rows = companions(
        conn,
        plate,
        start,
        end,
        within_s=within_s,
        min_together=min_together,
        min_cameras=min_cameras,
        limit=limit + 10,
        cameras=cameras,
    )
    return [
        Companion(
            r.plate,
            r.together,
            r.cameras,
            r.together / seen if seen else 0.0,
            r.mean_offset_s,
            r.first_together,
            r.last_together,
        )
        for r in rows
        if not _alike(r.plate, plate)
    ][:limit]
