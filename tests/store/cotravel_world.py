"""A few cameras and sightings on one morning, for the co-travel and stakeout tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from store.cameras import NewCamera, create_cameras
from store.sightings import NewSighting, add_sightings

T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def make_cameras(conn: Connection, count: int) -> list[int]:
    rows = create_cameras(
        conn,
        [
            NewCamera(f"HCM-D01-W01-{i:04d}", f"cam {i}", 10.77, 106.70 + i / 1000)
            for i in range(count)
        ],
    )
    return [r.id for r in rows]


def seen(conn: Connection, *items: tuple[str, int, datetime]) -> None:
    """Store sightings given as (plate, camera id, time)."""
    add_sightings(
        conn,
        [
            NewSighting(f"k{i}-{plate}", camera, plate, plate, "VN", 0.9, when)
            for i, (plate, camera, when) in enumerate(items)
        ],
    )
