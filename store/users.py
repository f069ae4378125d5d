"""Who may use the service: agencies, users, and which cameras each agency may use (service
accounts' API keys are in ``store.api_keys``). ``camera_filter`` turns a principal into the SQL
condition every query over sightings applies, so scoping lives in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    RowMapping,
    String,
    Table,
    Text,
    delete,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from store.cameras import existing_camera_ids
from store.errors import InvalidInput, NotFound
from store.models import Base, Camera


class Role(StrEnum):
    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    DISPATCHER = "dispatcher"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    SERVICE = "service"  # API keys of recognition workers; never a user's role


USER_ROLES = tuple(r for r in Role if r is not Role.SERVICE)
# Roles that act on an agency's cameras and so cannot exist without an agency.
AGENCY_ROLES = (Role.INVESTIGATOR, Role.DISPATCHER, Role.OPERATOR)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_AGENCY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(f"code ~ '{_AGENCY_CODE.pattern}'", name="ck_agencies_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


camera_agencies = Table(
    "camera_agencies",
    Base.metadata,
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
    Column("camera_id", ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True),
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever makes a request: a user, or a service account's API key."""

    id: int
    name: str
    role: Role
    agency_id: int | None

    @property
    def is_service(self) -> bool:
        return self.role is Role.SERVICE

    @property
    def sees_all_cameras(self) -> bool:
        # A key without an agency belongs to the city-wide recognition fleet.
        return self.role is Role.ADMIN or (self.is_service and self.agency_id is None)


def camera_filter(
    principal: Principal, camera_id: ColumnElement[int] | InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """The condition on ``camera_id`` limiting a query to the cameras ``principal`` may use."""
    if principal.sees_all_cameras:
        return true()
    if principal.agency_id is None:
        return false()
    return camera_id.in_(
        select(camera_agencies.c.camera_id).where(
            camera_agencies.c.agency_id == principal.agency_id
        )
    )


def visible_camera_ids(conn: Connection, principal: Principal) -> list[int] | None:
    """The cameras ``principal`` may use, or ``None`` for all of them."""
    if principal.sees_all_cameras:
        return None
    query = select(Camera.id).where(camera_filter(principal, Camera.id)).order_by(Camera.id)
    return list(conn.execute(query).scalars())


def may_use_camera(conn: Connection, principal: Principal, camera_id: int) -> bool:
    query = select(Camera.id).where(Camera.id == camera_id, camera_filter(principal, Camera.id))
    return conn.execute(query).first() is not None


@dataclass(frozen=True, slots=True)
class AgencyRow:
    id: int
    code: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password_hash: str = field(repr=False)
    role: Role
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    role: Role
    agency_id: int | None
    active: bool
    created_at: datetime
    password_hash: str = field(repr=False)

    @property
    def principal(self) -> Principal:
        return Principal(id=self.id, name=self.username, role=self.role, agency_id=self.agency_id)


def create_agency(conn: Connection, *, code: str, name: str) -> AgencyRow:
    if not _AGENCY_CODE.match(code):
        raise InvalidInput(f"agency code {code!r} must be 2-32 capitals, digits or '-'")
    if not name.strip():
        raise InvalidInput("agency name must not be empty")
    row = conn.execute(
        pg_insert(Agency)
        .values(code=code, name=name.strip())
        .on_conflict_do_nothing(index_elements=[Agency.code])
        .returning(Agency.id, Agency.code, Agency.name, Agency.created_at)
    ).first()
    if row is None:
        raise InvalidInput(f"agency {code!r} already exists")
    return AgencyRow(**row._mapping)


def get_agency(conn: Connection, agency_id: int) -> AgencyRow:
    row = conn.execute(
        select(Agency.id, Agency.code, Agency.name, Agency.created_at).where(Agency.id == agency_id)
    ).first()
    if row is None:
        raise NotFound(f"agency {agency_id} does not exist")
    return AgencyRow(**row._mapping)


def get_agency_by_code(conn: Connection, code: str) -> AgencyRow:
    agency_id = conn.execute(select(Agency.id).where(Agency.code == code)).scalar()
    if agency_id is None:
        raise NotFound(f"agency {code!r} does not exist")
    return get_agency(conn, agency_id)


def list_agencies(conn: Connection) -> list[AgencyRow]:
    query = select(Agency.id, Agency.code, Agency.name, Agency.created_at).order_by(Agency.id)
    return [AgencyRow(**r._mapping) for r in conn.execute(query)]


def _check_membership(conn: Connection, role: Role, agency_id: int | None) -> None:
    if role is Role.SERVICE:
        raise InvalidInput("'service' is the role of API keys, not of users")
    if role in AGENCY_ROLES and agency_id is None:
        raise InvalidInput(f"a user with role {role.value!r} must belong to an agency")
    if agency_id is not None:
        get_agency(conn, agency_id)


_USER_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.agency_id,
    User.active,
    User.created_at,
    User.password_hash,
)


def _user(row: RowMapping) -> UserRow:
    values = dict(row)
    return UserRow(**{**values, "role": Role(values["role"])})


def create_user(conn: Connection, user: NewUser) -> UserRow:
    if not _USERNAME.match(user.username):
        raise InvalidInput(
            f"username {user.username!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'"
        )
    _check_membership(conn, user.role, user.agency_id)
    row = conn.execute(
        pg_insert(User)
        .values(
            username=user.username,
            password_hash=user.password_hash,
            role=user.role.value,
            agency_id=user.agency_id,
        )
        .on_conflict_do_nothing(index_elements=[User.username])
        .returning(*_USER_COLUMNS)
    ).first()
    if row is None:
        raise InvalidInput(f"username {user.username!r} is taken")
    return _user(row._mapping)


def get_user(conn: Connection, user_id: int) -> UserRow:
    row = conn.execute(select(*_USER_COLUMNS).where(User.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id} does not exist")
    return _user(row._mapping)


def find_user(conn: Connection, username: str) -> UserRow | None:
    row = conn.execute(select(*_USER_COLUMNS).where(User.username == username)).first()
    return None if row is None else _user(row._mapping)


def list_users(conn: Connection, *, limit: int, after_id: int = 0) -> list[UserRow]:
    query = select(*_USER_COLUMNS).where(User.id > after_id).order_by(User.id).limit(limit)
    return [_user(r._mapping) for r in conn.execute(query)]


def update_user(
    conn: Connection,
    user_id: int,
    *,
    role: Role | None = None,
    agency_id: int | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
) -> UserRow:
    """Change the given fields; ``None`` leaves a field as it is."""
    current = get_user(conn, user_id)
    new_role = role or current.role
    new_agency = current.agency_id if agency_id is None else agency_id
    _check_membership(conn, new_role, new_agency)
    values: dict[str, Any] = {"role": new_role.value, "agency_id": new_agency}
    if active is not None:
        values["active"] = active
    if password_hash is not None:
        values["password_hash"] = password_hash
    conn.execute(update(User).where(User.id == user_id).values(**values, updated_at=func.now()))
    return get_user(conn, user_id)


def grant_cameras(conn: Connection, agency_id: int, camera_ids: Sequence[int]) -> int:
    """Let an agency use these cameras; return how many were newly granted."""
    get_agency(conn, agency_id)
    unknown = set(camera_ids) - existing_camera_ids(conn, camera_ids)
    if unknown:
        raise InvalidInput(f"unknown camera id: {', '.join(map(str, sorted(unknown)))}")
    if not camera_ids:
        return 0
    granted = conn.execute(
        pg_insert(camera_agencies)
        .values([{"agency_id": agency_id, "camera_id": c} for c in set(camera_ids)])
        .on_conflict_do_nothing()
        .returning(camera_agencies.c.camera_id)
    )
    return len(granted.all())


def revoke_camera(conn: Connection, agency_id: int, camera_id: int) -> None:
    result = conn.execute(
        delete(camera_agencies).where(
            camera_agencies.c.agency_id == agency_id, camera_agencies.c.camera_id == camera_id
        )
    )
    if result.rowcount == 0:
        raise NotFound(f"agency {agency_id} has no access to camera {camera_id}")


def agency_camera_ids(conn: Connection, agency_id: int) -> list[int]:
    get_agency(conn, agency_id)
    query = (
        select(camera_agencies.c.camera_id)
        .where(camera_agencies.c.agency_id == agency_id)
        .order_by(camera_agencies.c.camera_id)
    )
    return list(conn.execute(query).scalars())
