"""Cameras: CRUD, bulk import from CSV or GeoJSON, and health reports from workers.

Every read is limited to the cameras the caller's agency may use; a camera outside that set
answers 404, as if it did not exist.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, UploadFile
from fastapi import status as http
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from api.deps import (
    MAX_INT8,
    AfterId,
    DbConn,
    HealthReporters,
    Operators,
    PageLimit,
    RowId,
    Staff,
)
from store.cameras import (
    CameraRow,
    NewCamera,
    create_camera,
    create_cameras,
    delete_camera,
    get_camera,
    list_cameras,
    record_health,
    update_camera,
    validate_camera,
)
from store.errors import InvalidInput, NotFound
from store.models import Camera
from store.users import Principal, Role, grant_cameras, may_use_camera, visible_camera_ids

router = APIRouter(prefix="/cameras", tags=["cameras"])

# A Literal so OpenAPI lists the values; a test keeps it equal to the store's CAMERA_STATUSES.
Status = Literal["online", "stale", "offline", "disabled"]
MAX_IMPORT_ROWS = 20_000
_FINITE = ConfigDict(allow_inf_nan=False, extra="forbid")


class CameraIn(BaseModel):
    model_config = _FINITE

    code: str = Field(max_length=32, examples=["HCM-TD-W07-0012"])
    name: str = Field(max_length=200, examples=["Võ Văn Ngân × Kha Vạn Cân"])
    lat: float = Field(ge=-90, le=90, examples=[10.8507])
    lon: float = Field(ge=-180, le=180, examples=[106.7719])
    heading: float | None = Field(default=None, ge=0, lt=360, examples=[270.0])
    stream_url: str | None = Field(
        default=None, max_length=500, examples=["rtsp://10.0.7.12/stream1"]
    )
    graph_node: int | None = Field(default=None, ge=-MAX_INT8, le=MAX_INT8)
    status: Status = "offline"

    def new(self) -> NewCamera:
        return NewCamera(**self.model_dump())


class CameraPatch(BaseModel):
    model_config = _FINITE

    name: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    heading: float | None = Field(default=None, ge=0, lt=360)
    stream_url: str | None = Field(default=None, max_length=500)
    graph_node: int | None = Field(default=None, ge=-MAX_INT8, le=MAX_INT8)
    status: Status | None = Field(default=None, examples=["disabled"])


class CameraOut(BaseModel):
    id: int
    code: str = Field(examples=["HCM-TD-W07-0012"])
    name: str
    lat: float
    lon: float
    heading: float | None
    graph_node: int | None
    stream_url: str | None = Field(description="Only shown to admins and operators.")
    status: str = Field(examples=["online"])
    last_frame_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: CameraRow, viewer: Principal) -> CameraOut:
        values = {name: getattr(row, name) for name in cls.model_fields}
        # Stream URLs often carry the camera's credentials.
        if viewer.role not in (Role.ADMIN, Role.OPERATOR):
            values["stream_url"] = None
        return cls(**values)


class HealthIn(BaseModel):
    status: Status = Field(examples=["online"])
    last_frame_at: AwareDatetime | None = Field(
        default=None, examples=["2026-11-21T08:15:00+07:00"]
    )


class Imported(BaseModel):
    imported: int = Field(examples=[120])
    ids: list[int]


def _visible(conn: DbConn, principal: Principal, camera_id: int) -> CameraRow:
    if not may_use_camera(conn, principal, camera_id):
        raise NotFound(f"camera {camera_id} does not exist")
    return get_camera(conn, camera_id)


def _adopt(conn: DbConn, principal: Principal, ids: list[int]) -> None:
    """New cameras belong to their creator's agency, so an operator can see what they add."""
    if principal.agency_id is not None:
        grant_cameras(conn, principal.agency_id, ids)


@router.get("")
def cameras_list(
    conn: DbConn,
    user: Staff,
    limit: PageLimit,
    after_id: AfterId = 0,
    status: Annotated[Status | None, Query(description="Only cameras in this state.")] = None,
) -> list[CameraOut]:
    """Cameras the caller's agency may use, by id; page with ``after_id``."""
    rows = list_cameras(
        conn, ids=visible_camera_ids(conn, user), status=status, limit=limit, after_id=after_id
    )
    return [CameraOut.of(r, user) for r in rows]


@router.post("", status_code=http.HTTP_201_CREATED)
def cameras_create(body: CameraIn, conn: DbConn, user: Operators) -> CameraOut:
    row = create_camera(conn, body.new())
    _adopt(conn, user, [row.id])
    return CameraOut.of(row, user)


@router.get("/{camera_id}")
def cameras_read(camera_id: RowId, conn: DbConn, user: Staff) -> CameraOut:
    return CameraOut.of(_visible(conn, user, camera_id), user)


@router.patch("/{camera_id}")
def cameras_update(camera_id: RowId, body: CameraPatch, conn: DbConn, user: Operators) -> CameraOut:
    _visible(conn, user, camera_id)
    return CameraOut.of(update_camera(conn, camera_id, **body.model_dump()), user)


@router.delete("/{camera_id}", status_code=http.HTTP_204_NO_CONTENT)
def cameras_delete(camera_id: RowId, conn: DbConn, user: Operators) -> Response:
    """Delete a camera that never recorded a sighting; otherwise set it ``disabled``."""
    _visible(conn, user, camera_id)
    delete_camera(conn, camera_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.post("/{camera_id}/health", status_code=http.HTTP_204_NO_CONTENT)
def cameras_health(
    camera_id: RowId, body: HealthIn, conn: DbConn, reporter: HealthReporters
) -> Response:
    """A worker's report on a camera: its state and when it last delivered a frame."""
    _visible(conn, reporter, camera_id)
    record_health(conn, camera_id, status=body.status, last_frame_at=body.last_frame_at)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.post(
    "/import",
    status_code=http.HTTP_201_CREATED,
    responses={422: {"description": "Rows that failed validation; nothing was imported."}},
)
def cameras_import(
    file: UploadFile,
    conn: DbConn,
    user: Operators,
    format: Annotated[
        Literal["csv", "geojson"] | None,
        Query(description="File format; by default taken from the file name."),
    ] = None,
    dry_run: Annotated[bool, Query(description="Validate only; import nothing.")] = False,
) -> Imported:
    """Import cameras from CSV (``code,name,lat,lon[,heading,stream_url,graph_node,status]``)
    or a GeoJSON FeatureCollection of points with the same properties. All or nothing: any bad
    row gives a 422 listing every bad row (``loc`` = ``["file", row]``)."""
    kind = format or _format_of(file.filename or "")
    try:
        text = file.file.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8 text") from exc
    records = list(_csv_records(text) if kind == "csv" else _geojson_records(text))
    if not records:
        raise InvalidInput("the file holds no cameras")
    if len(records) > MAX_IMPORT_ROWS:
        raise InvalidInput(f"at most {MAX_IMPORT_ROWS} cameras per import, got {len(records)}")
    cameras, errors = _validate_rows(records, taken=_taken_codes(conn, records))
    if errors:
        raise RequestValidationError(errors)
    if dry_run:
        return Imported(imported=0, ids=[])
    ids = [c.id for c in create_cameras(conn, cameras)]
    _adopt(conn, user, ids)
    return Imported(imported=len(ids), ids=ids)


def _format_of(filename: str) -> Literal["csv", "geojson"]:
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".geojson", ".json")):
        return "geojson"
    raise InvalidInput("say format=csv or format=geojson, or name the file *.csv or *.geojson")


def _csv_records(text: str) -> Iterator[Mapping[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "name", "lat", "lon"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(f"CSV header lacks: {', '.join(sorted(missing))}")
    for row in reader:
        # Empty cells mean "not given", so the model's defaults apply.
        yield {k: v for k, v in row.items() if k is not None and v not in ("", None)}


def _geojson_records(text: str) -> Iterator[Mapping[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidInput("GeoJSON must be a FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise InvalidInput("GeoJSON FeatureCollection lacks a 'features' list")
    for feature in features:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = feature.get("properties") if isinstance(feature, dict) else None
        record: dict[str, Any] = dict(props) if isinstance(props, dict) else {}
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            coords = geometry.get("coordinates")
            if isinstance(coords, list) and len(coords) >= 2:
                record["lon"], record["lat"] = coords[0], coords[1]
        yield record


def _taken_codes(conn: DbConn, records: list[Mapping[str, Any]]) -> set[str]:
    codes = [r["code"] for r in records if isinstance(r.get("code"), str)]
    return set(conn.execute(select(Camera.code).where(Camera.code.in_(codes))).scalars())


def _validate_rows(
    records: list[Mapping[str, Any]], *, taken: set[str]
) -> tuple[list[NewCamera], list[Any]]:
    cameras: list[NewCamera] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        loc = ["file", number]
        try:
            camera = CameraIn.model_validate(record).new()
            validate_camera(camera)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False, include_context=False):
                errors.append({"loc": [*loc, *err["loc"]], "msg": err["msg"], "type": err["type"]})
            continue
        except InvalidInput as exc:
            errors.append({"loc": loc, "msg": str(exc), "type": "invalid_camera"})
            continue
        if camera.code in taken:
            msg = f"camera {camera.code} already exists"
            errors.append({"loc": [*loc, "code"], "msg": msg, "type": "duplicate"})
            continue
        if camera.code in seen:
            msg = f"code {camera.code} repeats row {seen[camera.code]}"
            errors.append({"loc": [*loc, "code"], "msg": msg, "type": "duplicate"})
            continue
        seen[camera.code] = number
        cameras.append(camera)
    return cameras, errors
