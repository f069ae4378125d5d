"""Tables of the foundation: cameras, sightings (partitioned by day) and case holds.

Camera codes follow ``CITY-DISTRICT-WARD-NUMBER``, e.g. ``HCM-TD-W07-0012``: a 2–4 letter city
code, a 1–4 character district code, a 1–4 character ward code and a 4-digit number, all
upper-case. The database enforces the shape (``ck_cameras_code``), so a code read off a
label on a pole always finds its camera.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CAMERA_CODE_PATTERN = r"^[A-Z]{2,4}-[A-Z0-9]{1,4}-[A-Z0-9]{1,4}-[0-9]{4}$"
CAMERA_STATUSES = ("online", "stale", "offline", "disabled")


class Base(DeclarativeBase):
    pass


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (
        CheckConstraint(f"code ~ '{CAMERA_CODE_PATTERN}'", name="ck_cameras_code"),
        CheckConstraint("heading >= 0 AND heading < 360", name="ck_cameras_heading"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in CAMERA_STATUSES) + ")",
            name="ck_cameras_status",
        ),
        Index("ix_cameras_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    heading: Mapped[float | None] = mapped_column(Float)
    graph_node: Mapped[int | None] = mapped_column(BigInteger)
    stream_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="offline")
    last_frame_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Sighting(Base):
    """One vehicle passage past one camera. Range-partitioned by day on ``observed_at``.

    The ingest key is unique together with ``observed_at`` (PostgreSQL requires the partition
    key in every unique index); producers derive both from the same passage, so a re-sent
    sighting always collides with its first copy.
    """

    __tablename__ = "sightings"
    __table_args__ = (
        CheckConstraint("plate <> ''", name="ck_sightings_plate"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_sightings_confidence"),
        Index("uq_sightings_ingest_key", "ingest_key", "observed_at", unique=True),
        Index("ix_sightings_plate_time", "plate", "observed_at"),
        Index("ix_sightings_camera_time", "camera_id", "observed_at"),
        Index("ix_sightings_time_brin", "observed_at", postgresql_using="brin"),
        {"postgresql_partition_by": "RANGE (observed_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))
    plate_raw: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    colour: Mapped[str | None] = mapped_column(String(16))
    colour_confidence: Mapped[float] = mapped_column(Float, server_default="0")
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    box: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    evidence_key: Mapped[str | None] = mapped_column(Text)
    track_id: Mapped[str | None] = mapped_column(Text)
    ingest_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SeenPlate(Base):
    """Each plate ever written to ``sightings`` and the UTC days it was first and last seen,
    kept by triggers (migration 0006); fuzzy search asks it which candidate plates exist."""

    __tablename__ = "seen_plates"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)


class CaseHold(Base):
    """Keeps sightings past retention while a case needs them: by plate or by one sighting."""

    __tablename__ = "case_holds"
    __table_args__ = (
        CheckConstraint(
            "(plate IS NOT NULL) <> (sighting_id IS NOT NULL)", name="ck_case_holds_target"
        ),
        CheckConstraint("case_id <> '' AND reason <> ''", name="ck_case_holds_text"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str | None] = mapped_column(String(16), index=True)
    sighting_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
