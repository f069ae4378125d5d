"""Service accounts' API keys (recognition workers). Only a key's SHA-256 is stored
(``api.security``); a request finds its key by that hash, and a revoked key stays listed with
the time it was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.errors import InvalidInput, NotFound
from store.models import Base
from store.users import Principal, Role, get_agency


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class NewApiKey:
    name: str
    prefix: str
    key_hash: str = field(repr=False)
    agency_id: int | None = None
    created_by: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    agency_id: int | None
    created_by: int | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def principal(self) -> Principal:
        return Principal(id=self.id, name=self.name, role=Role.SERVICE, agency_id=self.agency_id)


_KEY_COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.agency_id,
    ApiKey.created_by,
    ApiKey.created_at,
    ApiKey.revoked_at,
)


def create_api_key(conn: Connection, key: NewApiKey) -> ApiKeyRow:
    if not key.name.strip():
        raise InvalidInput("API key name must not be empty")
    if key.agency_id is not None:
        get_agency(conn, key.agency_id)
    row = conn.execute(
        insert(ApiKey)
        .values(
            name=key.name.strip(),
            prefix=key.prefix,
            key_hash=key.key_hash,
            agency_id=key.agency_id,
            created_by=key.created_by,
        )
        .returning(*_KEY_COLUMNS)
    ).one()
    return ApiKeyRow(**row._mapping)


def find_api_key(conn: Connection, key_hash: str) -> ApiKeyRow | None:
    """The live (not revoked) key with this hash."""
    row = conn.execute(
        select(*_KEY_COLUMNS).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    ).first()
    return None if row is None else ApiKeyRow(**row._mapping)


def list_api_keys(conn: Connection) -> list[ApiKeyRow]:
    return [
        ApiKeyRow(**r._mapping) for r in conn.execute(select(*_KEY_COLUMNS).order_by(ApiKey.id))
    ]


def revoke_api_key(conn: Connection, key_id: int) -> ApiKeyRow:
    row = conn.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(revoked_at=func.coalesce(ApiKey.revoked_at, func.now()))
        .returning(*_KEY_COLUMNS)
    ).first()
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    return ApiKeyRow(**row._mapping)
