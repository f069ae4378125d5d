"""Counts for planning and upkeep: sightings per camera per hour, and how healthy the network is.

No plate leaves this module, only counts. Camera uptime is measured from what the cameras
delivered: the share of hours of a window in which a camera produced at least one sighting.
That is what an investigator depends on, and it needs no health history; a camera on an empty
street at night counts as down in those hours, so compare cameras of similar roads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, literal, select, true

from store.errors import InvalidInput
from store.models import CAMERA_STATUSES, Camera, Sighting
from store.users import Principal, camera_filter

MAX_WINDOW = timedelta(days=31)
MAX_CELLS = 200_000  # cameras x hours in one answer


@dataclass(frozen=True, slots=True)
class HourlyCount:
    camera_id: int
    hour: datetime  # start of the UTC hour
    sightings: int


@dataclass(frozen=True, slots=True)
class CameraUptime:
    camera_id: int
    code: str
    status: str
    last_frame_at: datetime | None
    active_hours: int  # hours of the window with at least one sighting
    uptime: float  # active_hours / hours of the window


@dataclass(frozen=True, slots=True)
class NetworkHealth:
    hours: int  # whole hours in the window
    by_status: dict[str, int]  # current status -> cameras
    offline_share: float  # offline or stale, among cameras not disabled
    silent_share: float  # no sighting at all in the window, among cameras not disabled
    cameras: tuple[CameraUptime, ...]


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end must carry a time zone")
    if end <= start:
        raise InvalidInput("the window must end after it starts")
    if end - start > MAX_WINDOW:
        raise InvalidInput(f"the window is longer than {MAX_WINDOW.days} days")


def _hours(start: datetime, end: datetime) -> int:
    return max(1, round((end - start) / timedelta(hours=1)))


def sightings_per_hour(
    conn: Connection,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    camera_ids: Sequence[int] | None = None,
) -> list[HourlyCount]:
    """Sightings per camera per UTC hour in ``[start, end)``; hours without any are left out."""
    _check_window(start, end)
    scope = [camera_filter(principal, Sighting.camera_id)]
    if camera_ids is not None:
        if not camera_ids:
            raise InvalidInput("the camera set must not be empty")
        scope.append(Sighting.camera_id.in_(sorted(set(camera_ids))))
    cameras = conn.execute(
        select(func.count()).where(
            camera_filter(principal, Camera.id),
            Camera.id.in_(sorted(set(camera_ids))) if camera_ids is not None else true(),
        )
    ).scalar_one()
    if cameras * _hours(start, end) > MAX_CELLS:
        raise InvalidInput(
            f"{cameras} cameras x {_hours(start, end)} hours is more than {MAX_CELLS} "
            "cells; narrow the window or the cameras"
        )
    hour = func.date_trunc("hour", Sighting.observed_at, literal("UTC")).label("hour")
    query = (
        select(Sighting.camera_id, hour, func.count().label("sightings"))
        .where(Sighting.observed_at >= start, Sighting.observed_at < end, *scope)
        .group_by(Sighting.camera_id, hour)
        .order_by(Sighting.camera_id, hour)
    )
    return [HourlyCount(r.camera_id, r.hour, r.sightings) for r in conn.execute(query)]


def network_health(
    conn: Connection, principal: Principal, *, start: datetime, end: datetime
) -> NetworkHealth:
    """Current status counts and, per camera, the share of hours it delivered sightings."""
    _check_window(start, end)
    hours = _hours(start, end)
    hour = func.date_trunc("hour", Sighting.observed_at, literal("UTC"))
    active = (
        select(Sighting.camera_id, func.count(hour.distinct()).label("active"))
        .where(Sighting.observed_at >= start, Sighting.observed_at < end)
        .group_by(Sighting.camera_id)
        .subquery()
    )
    query = (
        select(
            Camera.id,
            Camera.code,
            Camera.status,
            Camera.last_frame_at,
            func.coalesce(active.c.active, 0).label("active"),
        )
        .outerjoin(active, active.c.camera_id == Camera.id)
        .where(camera_filter(principal, Camera.id))
        .order_by(Camera.id)
    )
    cameras = tuple(
        CameraUptime(r.id, r.code, r.status, r.last_frame_at, r.active, min(1.0, r.active / hours))
        for r in conn.execute(query)
    )
    by_status = {status: 0 for status in CAMERA_STATUSES}
    for camera in cameras:
        by_status[camera.status] += 1
    in_service = [c for c in cameras if c.status != "disabled"]
    down = sum(c.status in ("offline", "stale") for c in in_service)
    silent = sum(c.active_hours == 0 for c in in_service)
    return NetworkHealth(
        hours=hours,
        by_status=by_status,
        offline_share=down / len(in_service) if in_service else 0.0,
        silent_share=silent / len(in_service) if in_service else 0.0,
        cameras=cameras,
    )
