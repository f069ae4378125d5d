"""Counts for planning and upkeep: traffic per camera per hour, camera uptime and the share of
cameras offline (the Thủ Đức survey counted broken cameras by hand). No plates: no purpose
needed, nothing to audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import MAX_INT4, DbConn, Staff
from store.analytics import CameraUptime, network_health, sightings_per_hour

router = APIRouter(prefix="/analytics", tags=["analytics"])

Start = Annotated[
    AwareDatetime,
    Query(description="Window start, with time zone.", examples=["2026-11-20T00:00:00+07:00"]),
]
End = Annotated[
    AwareDatetime,
    Query(
        description="Window end (exclusive), at most 31 days after the start.",
        examples=["2026-11-21T00:00:00+07:00"],
    ),
]


class HourlyOut(BaseModel):
    camera_id: int
    hour: datetime = Field(description="Start of the UTC hour.")
    sightings: int = Field(examples=[412])


class CameraUptimeOut(BaseModel):
    camera_id: int
    code: str = Field(examples=["HCM-TD-W07-0012"])
    status: str = Field(examples=["online"])
    last_frame_at: datetime | None
    active_hours: int = Field(description="Hours of the window with at least one sighting.")
    uptime: float = Field(ge=0, le=1, examples=[0.97])

    @classmethod
    def of(cls, row: CameraUptime) -> CameraUptimeOut:
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class HealthOut(BaseModel):
    hours: int = Field(examples=[24])
    by_status: dict[str, int] = Field(
        examples=[{"online": 3100, "stale": 40, "offline": 330, "disabled": 30}]
    )
    offline_share: float = Field(
        description="Offline or stale, among cameras not disabled.", examples=[0.107]
    )
    silent_share: float = Field(
        description="No sighting in the window, among cameras not disabled.", examples=[0.09]
    )
    cameras: list[CameraUptimeOut]


@router.get("/sightings-per-hour", responses={400: {"description": "Window or cameras too wide."}})
def per_hour(
    conn: DbConn,
    user: Staff,
    start: Start,
    end: End,
    camera: Annotated[
        list[Annotated[int, Query(ge=1, le=MAX_INT4)]] | None,
        Query(description="Camera ids (repeat the parameter); default: all you may use."),
    ] = None,
) -> list[HourlyOut]:
    """Sightings per camera per hour, on the cameras the caller's agency may use."""
    rows = sightings_per_hour(conn, user, start=start, end=end, camera_ids=camera)
    return [HourlyOut(camera_id=r.camera_id, hour=r.hour, sightings=r.sightings) for r in rows]


@router.get("/cameras", responses={400: {"description": "Bad window."}})
def camera_health(conn: DbConn, user: Staff, start: Start, end: End) -> HealthOut:
    """Uptime of each camera over the window (share of hours with sightings), cameras per
    current status, and the share of cameras offline."""
    health = network_health(conn, user, start=start, end=end)
    return HealthOut(
        hours=health.hours,
        by_status=health.by_status,
        offline_share=health.offline_share,
        silent_share=health.silent_share,
        cameras=[CameraUptimeOut.of(c) for c in health.cameras],
    )
