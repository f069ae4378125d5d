"""ORM models of the watchlist and alert tables (migration ``0002``)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base


class WatchlistEntryModel(Base):
    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    pattern: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    max_distance: Mapped[float] = mapped_column(Float, server_default="0")
    priority: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    colour: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AlertModel(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("watchlist_entries.id"))
    ingest_key: Mapped[str] = mapped_column(Text, unique=True)
    plate: Mapped[str] = mapped_column(Text)
    plate_raw: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    colour: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    box: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    evidence_key: Mapped[str | None] = mapped_column(Text)
    camera_id: Mapped[int] = mapped_column(Integer, ForeignKey("cameras.id"))
    camera_code: Mapped[str] = mapped_column(Text)
    camera_name: Mapped[str] = mapped_column(Text)
    camera_location: Mapped[object] = mapped_column(Geometry("POINT", srid=4326))
    priority: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(Text)
    pattern: Mapped[str] = mapped_column(Text)
    fuzzy: Mapped[bool] = mapped_column(Boolean)
    distance: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(Text, server_default="new")
    assignee: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    stream_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
