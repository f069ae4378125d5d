"""Alerts for dispatchers: a live Server-Sent Events stream, and acknowledge/assign/close.

``GET /alerts/stream`` sends every event of the alerts stream (``tracing.alerts``) with the
stream id as the SSE event id. A browser's ``EventSource`` reconnects by itself with
``Last-Event-ID``; the server then resumes right after that id, so the screen gets exactly
the events it missed, in order, once. Without ``Last-Event-ID`` the stream starts now.
A comment line every ``HEARTBEAT_S`` seconds keeps proxies from closing an idle stream.

A dispatcher sees the alerts of the cameras their agency may use, nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Literal

import redis
import redis.asyncio as aioredis
from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Query, Request
from fastapi import status as http
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from api.deps import AppSettings, Audit, BigRowId, DbConn, PageLimit, RequireRoles
from store.alerts import (
    AlertRow,
    AlertStateError,
    AlertStatus,
    acknowledge,
    assign,
    close,
    get_alert,
    list_alerts,
)
from store.evidence import MEDIA_TYPES, stored_evidence
from store.users import Principal, Role, may_use_camera, visible_camera_ids
from tracing.alerts import check_stream_id, follow_alerts, latest_id, publish_update

router = APIRouter(prefix="/alerts", tags=["alerts"])

Dispatchers = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.DISPATCHER))]
HEARTBEAT_S = 15.0
log = logging.getLogger(__name__)
_TEXT = r"^[^\x00-\x1f\x7f]*$"


class CameraOut(BaseModel):
    id: int
    code: str = Field(examples=["HCM-TD-W07-0012"])
    name: str
    lat: float
    lon: float


class EntryRef(BaseModel):
    id: int
    pattern: str
    priority: int
    reason: str


class AlertOut(BaseModel):
    id: int
    status: AlertStatus
    plate: str = Field(examples=["51A12345"])
    plate_raw: str
    country: str
    confidence: float
    colour: str | None
    observed_at: datetime
    ingest_key: str
    box: list[int] | None
    evidence_key: str | None = Field(description="Key of the plate crop in the evidence store.")
    camera: CameraOut
    entry: EntryRef
    fuzzy: bool
    distance: float = Field(description="OCR-aware distance to the pattern; 0 unless fuzzy.")
    assignee: str | None
    outcome: str | None
    stream_id: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, a: AlertRow) -> AlertOut:
        camera = CameraOut(
            id=a.camera_id,
            code=a.camera_code,
            name=a.camera_name,
            lat=a.camera_lat,
            lon=a.camera_lon,
        )
        entry = EntryRef(id=a.entry_id, pattern=a.pattern, priority=a.priority, reason=a.reason)
        plain = {
            name: getattr(a, name) for name in cls.model_fields if name not in ("camera", "entry")
        }
        return cls(**plain, camera=camera, entry=entry)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=100, pattern=_TEXT, examples=["patrol unit 7"])


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(
        min_length=1, max_length=2000, pattern=_TEXT, examples=["intercepted at Thu Duc bridge"]
    )


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def alerts_stream(
    request: Request,
    conn: DbConn,
    user: Dispatchers,
    settings: AppSettings,
    audit: Audit,
    last_event_id: Annotated[
        str | None, Header(description="Resume after this event (EventSource sends it).")
    ] = None,
) -> StreamingResponse:
    """Live alerts as Server-Sent Events: ``id`` is the stream id, ``event`` is ``alert`` or
    ``update``, ``data`` the alert as JSON."""
    if last_event_id is not None:
        try:
            check_stream_id(last_event_id)
        except ValueError as exc:
            raise HTTPException(http.HTTP_400_BAD_REQUEST, detail=f"Last-Event-ID: {exc}") from exc
    visible = visible_camera_ids(conn, user)
    allowed = None if visible is None else frozenset(visible)
    audit.params = {"last_event_id": last_event_id}
    return StreamingResponse(
        _events(settings.redis_url, last_event_id, allowed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    redis_url: str, after: str | None, cameras: frozenset[int] | None
) -> AsyncIterator[bytes]:
    # The blocking read waits up to HEARTBEAT_S; the socket must wait longer than that.
    client = aioredis.Redis.from_url(redis_url, socket_timeout=HEARTBEAT_S + 10)
    try:
        start = after or await latest_id(client)
        # Tell EventSource to come back quickly after a drop.
        yield b"retry: 1000\n\n"
        async for event in follow_alerts(client, after=start, idle_s=HEARTBEAT_S):
            if event is None:
                yield b": heartbeat\n\n"
            elif cameras is None or json.loads(event.data)["camera"]["id"] in cameras:
                yield f"id: {event.id}\nevent: {event.event}\ndata: {event.data}\n\n".encode()
    except redis.RedisError as exc:
        # End the stream cleanly; the client reconnects with Last-Event-ID and misses nothing.
        log.warning("alerts stream: %s; closing so the client reconnects", exc)
    finally:
        await client.aclose()


@router.get("")
def alerts_list(
    conn: DbConn,
    user: Dispatchers,
    audit: Audit,
    limit: PageLimit,
    status: Annotated[Literal["new", "acknowledged", "assigned", "closed"] | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AlertOut]:
    """Alerts newest first, of the caller's cameras."""
    rows = list_alerts(
        conn,
        status=status,
        camera_ids=visible_camera_ids(conn, user),
        limit=limit,
        offset=offset,
    )
    audit.result_count = len(rows)
    return [AlertOut.of(a) for a in rows]


@router.get("/{alert_id}")
def alerts_read(alert_id: BigRowId, conn: DbConn, user: Dispatchers, audit: Audit) -> AlertOut:
    alert = _visible(conn, user, alert_id)
    audit.result_count = 1
    return AlertOut.of(alert)


@router.get(
    "/{alert_id}/evidence",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def alerts_evidence(
    alert_id: BigRowId, conn: DbConn, user: Dispatchers, settings: AppSettings, audit: Audit
) -> FileResponse:
    """The evidence crop of an alert's sighting: what a dispatcher checks before sending a
    unit. The alert itself is the purpose (its entry's legal basis); the read is audited."""
    alert = _visible(conn, user, alert_id)
    if alert.evidence_key is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, detail=f"alert {alert_id} has no evidence")
    path = stored_evidence(settings.evidence_dir, alert.evidence_key)
    audit.result_count = 1
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lstrip(".")])


@router.post("/{alert_id}/acknowledge")
def alerts_acknowledge(
    alert_id: BigRowId,
    conn: DbConn,
    user: Dispatchers,
    audit: Audit,
    request: Request,
    tasks: BackgroundTasks,
) -> AlertOut:
    """Mark an alert seen; again is harmless. A closed or assigned alert: 409."""
    _visible(conn, user, alert_id)
    return _changed(request, tasks, audit, lambda: acknowledge(conn, alert_id, by=user.name))


@router.post("/{alert_id}/assign")
def alerts_assign(
    alert_id: BigRowId,
    body: AssignIn,
    conn: DbConn,
    user: Dispatchers,
    audit: Audit,
    request: Request,
    tasks: BackgroundTasks,
) -> AlertOut:
    """Hand an alert to a unit; an assigned alert may be reassigned. A closed one: 409."""
    _visible(conn, user, alert_id)
    audit.params = {"assignee": body.assignee}
    return _changed(
        request, tasks, audit, lambda: assign(conn, alert_id, assignee=body.assignee, by=user.name)
    )


@router.post("/{alert_id}/close")
def alerts_close(
    alert_id: BigRowId,
    body: CloseIn,
    conn: DbConn,
    user: Dispatchers,
    audit: Audit,
    request: Request,
    tasks: BackgroundTasks,
) -> AlertOut:
    """Close an alert with its outcome. Closing it twice: 409."""
    _visible(conn, user, alert_id)
    audit.params = {"outcome": body.outcome}
    return _changed(
        request, tasks, audit, lambda: close(conn, alert_id, outcome=body.outcome, by=user.name)
    )


def _visible(conn: Connection, user: Principal, alert_id: int) -> AlertRow:
    alert = get_alert(conn, alert_id)
    if not may_use_camera(conn, user, alert.camera_id):
        # As if it did not exist: other agencies' alerts are none of the caller's business.
        raise HTTPException(http.HTTP_404_NOT_FOUND, detail=f"alert {alert_id} does not exist")
    return alert


def _changed(
    request: Request, tasks: BackgroundTasks, audit: Audit, step: Callable[[], AlertRow]
) -> AlertOut:
    try:
        alert = step()
    except AlertStateError as exc:
        raise HTTPException(http.HTTP_409_CONFLICT, detail=str(exc)) from exc
    audit.result_count = 1
    # Background tasks run after the response, so after the commit: screens never hear of a
    # change that was rolled back.
    tasks.add_task(publish_update, request.app.state.redis, alert)
    return AlertOut.of(alert)
