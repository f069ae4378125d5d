"""Co-travel (which vehicles travel with a plate) and stakeout (which plates passed these
cameras in these windows), from ``tracing.cotravel``, on the cameras the caller's agency may
use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.deps import MAX_INT4, Audit, DbConn, Investigators, Purpose
from api.ratelimit import SearchRateLimit
from store.cotravel import MAX_WINDOWS, CameraWindow
from store.users import visible_camera_ids
from store.watchlist import PlatePattern
from tracing.cotravel import stakeout, travelling_with

router = APIRouter(tags=["co-travel"])

REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"description": "No purpose, bad plate, windows or thresholds."}
}


class CompanionOut(BaseModel):
    plate: str = Field(examples=["51G67890"])
    together: int = Field(description="Sightings of the plate with this one, within seconds.")
    cameras: int = Field(description="Distinct cameras where that happened.")
    share: float = Field(description="Of the plate's sightings in the range.", examples=[0.6])
    mean_offset_s: float = Field(description="Average time apart: near 0 is right behind.")
    first_together: datetime
    last_together: datetime


@router.get("/cotravel", responses=REFUSED)
def cotravel(
    conn: DbConn,
    user: Investigators,
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
    plate: Annotated[str, Query(max_length=32, examples=["51F12345"])],
    start: Annotated[AwareDatetime, Query(examples=["2026-11-01T00:00:00+07:00"])],
    end: Annotated[AwareDatetime, Query(description="At most 31 days after the start.")],
    within_s: Annotated[float, Query(gt=0, le=600, description="Seconds apart, at most.")] = 30,
    min_together: Annotated[int, Query(ge=1, le=1000)] = 3,
    min_cameras: Annotated[int, Query(ge=1, le=1000)] = 2,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CompanionOut]:
    """Vehicles seen with a plate at the same cameras within seconds, again and again
    (``reason`` and ``case_id`` required). The plate's own misreads are left out."""
    pattern = PlatePattern.parse(plate)
    if pattern.kind != "exact":
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail=f"co-travel needs one plate, not {plate!r}"
        )
    found = travelling_with(
        conn,
        pattern.text,
        start,
        end,
        within_s=within_s,
        min_together=min_together,
        min_cameras=min_cameras,
        limit=limit,
        cameras=visible_camera_ids(conn, user),
    )
    audit.result_count = len(found)
    return [CompanionOut(**{n: getattr(c, n) for n in CompanionOut.model_fields}) for c in found]


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[Annotated[int, Field(ge=1, le=MAX_INT4)]] = Field(min_length=1, max_length=100)
    start: AwareDatetime
    end: AwareDatetime = Field(description="At most 24 hours after the start.")


class StakeoutIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "windows": [
                        {
                            "cameras": [12],
                            "start": "2026-11-20T10:00:00+07:00",
                            "end": "2026-11-20T10:15:00+07:00",
                        },
                        {
                            "cameras": [31, 32],
                            "start": "2026-11-20T10:20:00+07:00",
                            "end": "2026-11-20T10:40:00+07:00",
                        },
                    ]
                }
            ]
        },
    )

    windows: list[WindowIn] = Field(min_length=1, max_length=MAX_WINDOWS)
    min_windows: int | None = Field(
        default=None, ge=1, description="Seen in at least this many windows (default: all)."
    )
    limit: int = Field(default=1000, ge=1, le=5000)


class StakeoutOut(BaseModel):
    plate: str = Field(examples=["51F12345"])
    windows: list[int] = Field(description="Positions of the windows it was seen in.")
    sightings: int
    first_seen: datetime
    last_seen: datetime
    look_alikes: list[str] = Field(description="Other plates of the result one misread away.")


@router.post("/stakeout", responses={**REFUSED, 404: {"description": "Unknown camera."}})
def stakeout_query(
    body: Annotated[StakeoutIn, Body()],
    conn: DbConn,
    user: Investigators,
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
) -> list[StakeoutOut]:
    """Plates seen at the given cameras in each of the time windows (``reason`` and
    ``case_id`` required): A between 10:00 and 10:15, then B between 10:20 and 10:40."""
    named = {c for w in body.windows for c in w.cameras}
    allowed = visible_camera_ids(conn, user)
    if allowed is not None and not named <= set(allowed):
        # Same answer as for a camera that does not exist: other agencies' stay invisible.
        unknown = ", ".join(map(str, sorted(named - set(allowed))))
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown camera: {unknown}")
    windows = [CameraWindow(tuple(w.cameras), w.start, w.end) for w in body.windows]
    hits = stakeout(conn, windows, min_windows=body.min_windows, limit=body.limit)
    audit.result_count = len(hits)
    audit.params = body.model_dump(mode="json", exclude_none=True)
    return [
        StakeoutOut(
            plate=h.row.plate,
            windows=list(h.row.windows),
            sightings=h.row.sightings,
            first_seen=h.row.first_seen,
            last_seen=h.row.last_seen,
            look_alikes=list(h.look_alikes),
        )
        for h in hits
    ]
