"""Stakeout and co-travel queries over ``sightings``.

Both are driven by small "probe" sets (a few camera windows, or one plate's sightings) joined
to ``sightings`` on camera and time, which the ``(camera_id, observed_at)`` index serves (and
``(plate, observed_at)`` finds the target's sightings), so the cost follows the traffic inside
the windows, not the size of the table. Every query also carries literal overall time bounds so
that partitions outside them are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from store.errors import InvalidInput

MAX_WINDOWS = 20
MAX_WINDOW = timedelta(hours=24)
MAX_SPAN = timedelta(days=31)

# One probe row per (window, camera).
STAKEOUT_SQL = """
SELECT s.plate,
       array_agg(DISTINCT w.idx ORDER BY w.idx) AS windows,
       count(*) AS sightings,
       min(s.observed_at) AS first_seen,
       max(s.observed_at) AS last_seen
FROM unnest(CAST(:idx AS int[]), CAST(:cam AS int[]),
            CAST(:lo AS timestamptz[]), CAST(:hi AS timestamptz[]))
     AS w(idx, camera_id, lo, hi)
JOIN sightings s
  ON s.camera_id = w.camera_id AND s.observed_at >= w.lo AND s.observed_at < w.hi
 AND s.observed_at >= :first AND s.observed_at < :last
GROUP BY s.plate
HAVING count(DISTINCT w.idx) >= :need
ORDER BY count(DISTINCT w.idx) DESC, count(*) DESC, s.plate
LIMIT :limit
"""

# The target's own sightings, then the same camera within seconds of each.
COMPANIONS_SQL = """
WITH target AS (
    SELECT camera_id, observed_at FROM sightings
    WHERE plate = :plate AND observed_at >= :start AND observed_at < :end
      AND (CAST(:cameras AS int[]) IS NULL
           OR camera_id IN (SELECT unnest(CAST(:cameras AS int[]))))
)
SELECT s.plate,
       count(DISTINCT (t.camera_id, t.observed_at)) AS together,
       count(DISTINCT t.camera_id) AS cameras,
       avg(abs(extract(epoch FROM s.observed_at - t.observed_at))) AS mean_offset_s,
       min(t.observed_at) AS first_together,
       max(t.observed_at) AS last_together
FROM target t
JOIN sightings s
  ON s.camera_id = t.camera_id
 AND s.observed_at BETWEEN t.observed_at - :slack AND t.observed_at + :slack
 AND s.observed_at >= :lo AND s.observed_at < :hi
WHERE s.plate <> :plate
GROUP BY s.plate
HAVING count(DISTINCT (t.camera_id, t.observed_at)) >= :min_together
   AND count(DISTINCT t.camera_id) >= :min_cameras
ORDER BY together DESC, cameras DESC, mean_offset_s, s.plate
LIMIT :limit
"""


@dataclass(frozen=True, slots=True)
class CameraWindow:
    """Sightings at any of ``camera_ids`` in ``[start, end)``."""

    camera_ids: tuple[int, ...]
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class StakeoutRow:
    plate: str
    windows: tuple[int, ...]  # positions of the windows the plate was seen in, ascending
    sightings: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class CompanionRow:
    plate: str
    together: int  # sightings of the target with this plate at the same camera, within seconds
    cameras: int  # distinct cameras where that happened
    mean_offset_s: float  # average |time difference|: a car right behind is near 0
    first_together: datetime
    last_together: datetime


def _check_span(start: datetime, end: datetime, longest: timedelta, what: str) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(f"{what} times must carry a time zone")
    if end <= start:
        raise InvalidInput(f"{what} must end after it starts ({start.isoformat()})")
    if end - start > longest:
        raise InvalidInput(f"{what} is longer than {longest} (narrow it down)")


def validate_windows(windows: Sequence[CameraWindow]) -> None:
    if not windows:
        raise InvalidInput("give at least one camera window")
    if len(windows) > MAX_WINDOWS:
        raise InvalidInput(f"at most {MAX_WINDOWS} camera windows per query")
    for i, w in enumerate(windows):
        if not w.camera_ids:
            raise InvalidInput(f"window {i} names no camera")
        _check_span(w.start, w.end, MAX_WINDOW, f"window {i}")


def plates_in_windows(
    conn: Connection,
    windows: Sequence[CameraWindow],
    *,
    min_windows: int | None = None,
    limit: int = 1000,
) -> list[StakeoutRow]:
    """Plates seen in at least ``min_windows`` (default: all) of the windows, most first."""
    validate_windows(windows)
    need = len(windows) if min_windows is None else min_windows
    if not 1 <= need <= len(windows):
        raise InvalidInput(f"min_windows must be within [1, {len(windows)}], got {need}")
    probes = [(i, c, w.start, w.end) for i, w in enumerate(windows) for c in set(w.camera_ids)]
    rows = conn.execute(
        text(STAKEOUT_SQL),
        {
            "idx": [p[0] for p in probes],
            "cam": [p[1] for p in probes],
            "lo": [p[2] for p in probes],
            "hi": [p[3] for p in probes],
            "first": min(w.start for w in windows),
            "last": max(w.end for w in windows),
            "need": need,
            "limit": limit,
        },
    )
    return [
        StakeoutRow(r.plate, tuple(r.windows), r.sightings, r.first_seen, r.last_seen) for r in rows
    ]


def companions(
    conn: Connection,
    plate: str,
    start: datetime,
    end: datetime,
    *,
    within_s: float,
    min_together: int,
    min_cameras: int,
    limit: int = 100,
    cameras: Sequence[int] | None = None,
) -> list[CompanionRow]:
    """Plates seen at the same camera within ``within_s`` of ``plate``'s sightings, repeatedly.

    ``cameras`` limits the search to the target's sightings at those cameras (an agency's).
    """
    if not plate:
        raise InvalidInput("plate must not be empty")
    _check_span(start, end, MAX_SPAN, "the time range")
    if not 0 < within_s <= 600:
        raise InvalidInput(f"within_s must be within (0, 600] seconds, got {within_s}")
    if min_together < 1 or min_cameras < 1:
        raise InvalidInput("min_together and min_cameras must be at least 1")
    slack = timedelta(seconds=within_s)
    rows = conn.execute(
        text(COMPANIONS_SQL),
        {
            "plate": plate,
            "start": start,
            "end": end,
            "slack": slack,
            "lo": start - slack,
            "hi": end + slack,
            "min_together": min_together,
            "min_cameras": min_cameras,
            "limit": limit,
            "cameras": None if cameras is None else list(cameras),
        },
    )
    return [
        CompanionRow(
            r.plate,
            r.together,
            r.cameras,
            float(r.mean_offset_s),
            r.first_together,
            r.last_together,
        )
        for r in rows
    ]
