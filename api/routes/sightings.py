"""Sightings: batch ingest from recognition workers (idempotent by ingest key), evidence
images, and reading one sighting for a case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, UploadFile
from fastapi import status as http
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.deps import (
    MAX_INT4,
    AppSettings,
    Audit,
    BigRowId,
    DbConn,
    Ingest,
    Investigators,
    Purpose,
)
from store.errors import InvalidInput, NotFound
from store.evidence import MEDIA_TYPES, save_evidence, stored_evidence
from store.sightings import NewSighting, SightingRow, add_sightings, get_sighting
from store.users import may_use_camera, visible_camera_ids

router = APIRouter(prefix="/sightings", tags=["sightings"])

MAX_BATCH = 5000
# Text that reaches PostgreSQL must not hold NUL; other control characters have no business here.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
EvidenceKey = Annotated[str, Field(pattern=r"^[0-9a-f]{64}\.(jpg|png)$", examples=["3f5a…c9.jpg"])]


class SightingIn(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    ingest_key: str = Field(
        min_length=1,
        max_length=128,
        pattern=_PRINTABLE,
        description="The producer's id of this passage; re-sending it is harmless.",
        examples=["HCM-TD-W07-0012/2026-11-21T08:15:03.120Z/track-7781"],
    )
    camera_id: int = Field(ge=1, le=MAX_INT4, examples=[12])
    plate: str = Field(pattern=r"^[A-Z0-9]{2,16}$", examples=["51F12345"])
    plate_raw: str = Field(min_length=1, max_length=32, pattern=_PRINTABLE, examples=["51F-123.45"])
    country: str = Field(pattern=r"^[A-Z]{2}$", examples=["VN"])
    confidence: float = Field(ge=0, le=1, examples=[0.93])
    observed_at: AwareDatetime = Field(examples=["2026-11-21T08:15:03.120+07:00"])
    colour: str | None = Field(default=None, max_length=16, pattern=_PRINTABLE, examples=["white"])
    colour_confidence: float = Field(default=0.0, ge=0, le=1)
    box: tuple[int, int, int, int] | None = Field(
        default=None, description="Plate box in the frame: x, y, width, height (pixels)."
    )
    evidence_key: EvidenceKey | None = None
    track_id: str | None = Field(default=None, max_length=128, pattern=_PRINTABLE)

    def new(self) -> NewSighting:
        return NewSighting(**self.model_dump())


class SightingBatch(BaseModel):
    sightings: list[SightingIn] = Field(min_length=1, max_length=MAX_BATCH)


class IngestResult(BaseModel):
    received: int = Field(examples=[50])
    inserted: int = Field(examples=[48], description="New ones; the rest were already stored.")


class EvidenceOut(BaseModel):
    key: EvidenceKey


class SightingOut(BaseModel):
    id: int
    camera_id: int
    plate: str = Field(examples=["51F12345"])
    plate_raw: str
    country: str
    confidence: float
    observed_at: datetime
    colour: str | None
    colour_confidence: float
    box: list[int] | None
    evidence_key: str | None
    track_id: str | None

    @classmethod
    def of(cls, row: SightingRow) -> SightingOut:
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


@router.post("", responses={403: {"description": "A camera outside the key's agency."}})
def sightings_ingest(
    batch: SightingBatch,
    conn: DbConn,
    worker: Ingest,
    settings: AppSettings,
    audit: Audit,
) -> IngestResult:
    """Store a batch of sightings; all or nothing. Re-sent ones are skipped, not duplicated."""
    items = [s.new() for s in batch.sightings]
    cameras = {s.camera_id for s in items}
    allowed = visible_camera_ids(conn, worker)
    if allowed is not None and not cameras <= set(allowed):
        refused = ", ".join(map(str, sorted(cameras - set(allowed))))
        raise HTTPException(http.HTTP_403_FORBIDDEN, detail=f"not your cameras: {refused}")
    for key in {s.evidence_key for s in items if s.evidence_key}:
        try:
            stored_evidence(settings.evidence_dir, key)
        except NotFound as exc:
            raise InvalidInput(f"{exc}; upload it to /sightings/evidence first") from exc
    inserted = add_sightings(conn, items)
    audit.result_count = inserted
    audit.params = {"received": len(items), "cameras": sorted(cameras)}
    return IngestResult(received=len(items), inserted=inserted)


@router.post("/evidence", status_code=http.HTTP_201_CREATED)
def evidence_upload(
    file: UploadFile, worker: Ingest, settings: AppSettings, audit: Audit
) -> EvidenceOut:
    """Upload an evidence image (JPEG or PNG); send its key with the sighting afterwards."""
    data = file.file.read(settings.max_evidence_bytes + 1)
    key = save_evidence(settings.evidence_dir, data, max_bytes=settings.max_evidence_bytes)
    audit.result_count = 1
    audit.params = {"key": key}
    return EvidenceOut(key=key)


def _readable(conn: DbConn, user: Investigators, sighting_id: int) -> SightingRow:
    row = get_sighting(conn, sighting_id)
    if not may_use_camera(conn, user, row.camera_id):
        # Same answer as a missing sighting: outsiders learn nothing about other agencies.
        raise HTTPException(
            http.HTTP_404_NOT_FOUND, detail=f"sighting {sighting_id} does not exist"
        )
    return row


@router.get("/{sighting_id}")
def sightings_read(
    sighting_id: BigRowId, conn: DbConn, user: Investigators, _: Purpose, audit: Audit
) -> SightingOut:
    """One sighting, for a case (``reason`` and ``case_id`` required)."""
    row = _readable(conn, user, sighting_id)
    audit.result_count = 1
    return SightingOut.of(row)


@router.get(
    "/{sighting_id}/evidence",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def evidence_read(
    sighting_id: BigRowId,
    conn: DbConn,
    user: Investigators,
    settings: AppSettings,
    _: Purpose,
    audit: Audit,
) -> FileResponse:
    """The evidence image of one sighting, for a case (``reason`` and ``case_id`` required)."""
    row = _readable(conn, user, sighting_id)
    if row.evidence_key is None:
        raise HTTPException(
            http.HTTP_404_NOT_FOUND, detail=f"sighting {sighting_id} has no evidence"
        )
    path = stored_evidence(settings.evidence_dir, row.evidence_key)
    audit.result_count = 1
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lstrip(".")])
