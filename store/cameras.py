"""Cameras repository: typed functions over the ``cameras`` table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from store.errors import InvalidInput, NotFound
from store.models import CAMERA_CODE_PATTERN, CAMERA_STATUSES, Camera

_CODE = re.compile(CAMERA_CODE_PATTERN)
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "onvif://", "file://")


@dataclass(frozen=True, slots=True)
class NewCamera:
    code: str
    name: str
    lat: float
    lon: float
    heading: float | None = None
    stream_url: str | None = None
    graph_node: int | None = None
    status: str = "offline"


@dataclass(frozen=True, slots=True)
class CameraRow:
    id: int
    code: str
    name: str
    lat: float
    lon: float
    heading: float | None
    graph_node: int | None
    stream_url: str | None
    status: str
    last_frame_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _check_position(lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise InvalidInput(f"latitude must be within [-90, 90], got {lat}")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"longitude must be within [-180, 180], got {lon}")


def _check_heading(heading: float | None) -> None:
    if heading is not None and not 0 <= heading < 360:
        raise InvalidInput(f"heading must be within [0, 360) degrees, got {heading}")


def _check_status(status: str) -> None:
    if status not in CAMERA_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(CAMERA_STATUSES)}, got {status!r}")


def _check_stream_url(url: str | None) -> None:
    if url is not None and not url.startswith(_STREAM_SCHEMES):
        raise InvalidInput(f"stream URL must start with one of {', '.join(_STREAM_SCHEMES)}")


def validate_camera(cam: NewCamera) -> None:
    """Raise ``InvalidInput`` naming the first thing wrong with ``cam``."""
    if not _CODE.match(cam.code):
        raise InvalidInput(
            f"camera code {cam.code!r} does not follow CITY-DISTRICT-WARD-NUMBER "
            "(e.g. HCM-TD-W07-0012)"
        )
    if not cam.name.strip():
        raise InvalidInput("camera name must not be empty")
    _check_position(cam.lat, cam.lon)
    _check_heading(cam.heading)
    _check_status(cam.status)
    _check_stream_url(cam.stream_url)


def _point(lat: float, lon: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


_COLUMNS = (
    Camera.id,
    Camera.code,
    Camera.name,
    func.ST_Y(Camera.location).label("lat"),
    func.ST_X(Camera.location).label("lon"),
    Camera.heading,
    Camera.graph_node,
    Camera.stream_url,
    Camera.status,
    Camera.last_frame_at,
    Camera.created_at,
    Camera.updated_at,
)


def _row(row: Row[Any]) -> CameraRow:
    return CameraRow(**row._mapping)


def _values(cam: NewCamera) -> dict[str, Any]:
    return {
        "code": cam.code,
        "name": cam.name.strip(),
        "location": _point(cam.lat, cam.lon),
        "heading": cam.heading,
        "stream_url": cam.stream_url,
        "graph_node": cam.graph_node,
        "status": cam.status,
    }


def create_cameras(conn: Connection, cams: Sequence[NewCamera]) -> list[CameraRow]:
    """Insert cameras; all or nothing. A duplicate code raises ``InvalidInput``."""
    for cam in cams:
        validate_camera(cam)
    codes = [c.code for c in cams]
    if len(set(codes)) != len(codes):
        raise InvalidInput("camera codes repeat within the batch")
    if not cams:
        return []
    taken = conn.execute(select(Camera.code).where(Camera.code.in_(codes))).scalars().all()
    if taken:
        raise InvalidInput(f"camera code already exists: {', '.join(sorted(taken))}")
    ids = conn.execute(
        insert(Camera).returning(Camera.id, sort_by_parameter_order=True),
        [_values(c) for c in cams],
    ).scalars()
    return list_cameras(conn, ids=list(ids))


def create_camera(conn: Connection, cam: NewCamera) -> CameraRow:
    return create_cameras(conn, [cam])[0]


def get_camera(conn: Connection, camera_id: int) -> CameraRow:
    row = conn.execute(select(*_COLUMNS).where(Camera.id == camera_id)).first()
    if row is None:
        raise NotFound(f"camera {camera_id} does not exist")
    return _row(row)


def get_camera_by_code(conn: Connection, code: str) -> CameraRow:
    row = conn.execute(select(*_COLUMNS).where(Camera.code == code)).first()
    if row is None:
        raise NotFound(f"camera {code!r} does not exist")
    return _row(row)


def list_cameras(
    conn: Connection,
    *,
    ids: Sequence[int] | None = None,
    status: str | None = None,
    limit: int | None = None,
    after_id: int = 0,
) -> list[CameraRow]:
    """Cameras ordered by id; ``after_id`` pages through them."""
    query = select(*_COLUMNS).where(Camera.id > after_id).order_by(Camera.id)
    if ids is not None:
        query = query.where(Camera.id.in_(ids))
    if status is not None:
        _check_status(status)
        query = query.where(Camera.status == status)
    if limit is not None:
        query = query.limit(limit)
    return [_row(r) for r in conn.execute(query)]


def existing_camera_ids(conn: Connection, ids: Sequence[int]) -> set[int]:
    # One array parameter: an IN list of a batch's hundreds of ids costs milliseconds to bind.
    wanted = bindparam("ids", sorted(set(ids)), type_=ARRAY(Integer))
    return set(conn.execute(select(Camera.id).where(Camera.id == any_(wanted))).scalars())


def update_camera(
    conn: Connection,
    camera_id: int,
    *,
    name: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    heading: float | None = None,
    stream_url: str | None = None,
    graph_node: int | None = None,
    status: str | None = None,
) -> CameraRow:
    """Change the given fields; ``None`` leaves a field as it is."""
    current = get_camera(conn, camera_id)
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise InvalidInput("camera name must not be empty")
        values["name"] = name.strip()
    if lat is not None or lon is not None:
        new_lat = current.lat if lat is None else lat
        new_lon = current.lon if lon is None else lon
        _check_position(new_lat, new_lon)
        values["location"] = _point(new_lat, new_lon)
    if heading is not None:
        _check_heading(heading)
        values["heading"] = heading
    if stream_url is not None:
        _check_stream_url(stream_url)
        values["stream_url"] = stream_url
    if graph_node is not None:
        values["graph_node"] = graph_node
    if status is not None:
        _check_status(status)
        values["status"] = status
    if values:
        values["updated_at"] = func.now()
        conn.execute(update(Camera).where(Camera.id == camera_id).values(**values))
    return get_camera(conn, camera_id)


def delete_camera(conn: Connection, camera_id: int) -> None:
    """Delete a camera that never saw anything; one with sightings must be disabled instead."""
    get_camera(conn, camera_id)
    try:
        with conn.begin_nested():
            conn.execute(delete(Camera).where(Camera.id == camera_id))
    except IntegrityError as exc:
        raise InvalidInput(
            f"camera {camera_id} has sightings and cannot be deleted; set status 'disabled'"
        ) from exc


def record_health(
    conn: Connection, camera_id: int, *, status: str, last_frame_at: datetime | None = None
) -> None:
    """What a recognition worker reports; a disabled camera stays disabled."""
    _check_status(status)
    values: dict[str, Any] = {"status": status, "updated_at": func.now()}
    if last_frame_at is not None:
        values["last_frame_at"] = last_frame_at
    result = conn.execute(
        update(Camera).where(Camera.id == camera_id, Camera.status != "disabled").values(**values)
    )
    if result.rowcount == 0:
        get_camera(conn, camera_id)
