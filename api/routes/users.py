"""Administration: users, agencies, the cameras each agency may use, service-account API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import MAX_INT4, Admin, AfterId, DbConn, PageLimit, RowId
from api.security import hash_password, new_api_key
from store.api_keys import ApiKeyRow, NewApiKey, create_api_key, list_api_keys, revoke_api_key
from store.users import (
    USER_ROLES,
    AgencyRow,
    NewUser,
    Role,
    UserRow,
    agency_camera_ids,
    create_agency,
    create_user,
    get_user,
    grant_cameras,
    list_agencies,
    list_users,
    revoke_camera,
    update_user,
)

router = APIRouter(tags=["admin"])

UserRole = Annotated[Role, Field(description=f"One of: {', '.join(USER_ROLES)}.")]
DbInt = Annotated[int, Field(ge=1, le=MAX_INT4)]
Password = Annotated[str, Field(min_length=12, max_length=256, examples=["correct horse battery"])]


class UserIn(BaseModel):
    username: str = Field(max_length=64, examples=["lan.nguyen"])
    password: Password
    role: UserRole = Field(examples=["investigator"])
    agency_id: DbInt | None = Field(default=None, examples=[2])


class UserPatch(BaseModel):
    role: UserRole | None = None
    agency_id: DbInt | None = None
    active: bool | None = Field(default=None, examples=[False])
    password: Password | None = None


class UserOut(BaseModel):
    id: int
    username: str = Field(examples=["lan.nguyen"])
    role: str = Field(examples=["investigator"])
    agency_id: int | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> UserOut:
        return cls(
            id=row.id,
            username=row.username,
            role=row.role.value,
            agency_id=row.agency_id,
            active=row.active,
            created_at=row.created_at,
        )


class AgencyIn(BaseModel):
    code: str = Field(max_length=32, examples=["HCM-PC-TD"])
    name: str = Field(max_length=200, examples=["Thủ Đức district police"])


class AgencyOut(BaseModel):
    id: int
    code: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, row: AgencyRow) -> AgencyOut:
        return cls(id=row.id, code=row.code, name=row.name, created_at=row.created_at)


class CameraGrant(BaseModel):
    camera_ids: list[DbInt] = Field(max_length=10_000, examples=[[12, 13, 14]])


class Granted(BaseModel):
    granted: int = Field(examples=[3])


class ApiKeyIn(BaseModel):
    name: str = Field(max_length=200, examples=["recognition worker, Thủ Đức node 3"])
    agency_id: DbInt | None = Field(
        default=None, description="Limit the key to this agency's cameras; none: all cameras."
    )


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(examples=["ptk_Zq3x9A"])
    agency_id: int | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKeyOut:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            agency_id=row.agency_id,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself; shown only now, store it in the worker.")


@router.get("/users")
def users_list(conn: DbConn, _: Admin, limit: PageLimit, after_id: AfterId = 0) -> list[UserOut]:
    return [UserOut.of(u) for u in list_users(conn, limit=limit, after_id=after_id)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def users_create(body: UserIn, conn: DbConn, _: Admin) -> UserOut:
    new = NewUser(
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role,
        agency_id=body.agency_id,
    )
    return UserOut.of(create_user(conn, new))


@router.get("/users/{user_id}")
def users_read(user_id: RowId, conn: DbConn, _: Admin) -> UserOut:
    return UserOut.of(get_user(conn, user_id))


@router.patch("/users/{user_id}")
def users_update(user_id: RowId, body: UserPatch, conn: DbConn, _: Admin) -> UserOut:
    row = update_user(
        conn,
        user_id,
        role=body.role,
        agency_id=body.agency_id,
        active=body.active,
        password_hash=hash_password(body.password) if body.password else None,
    )
    return UserOut.of(row)


@router.get("/agencies")
def agencies_list(conn: DbConn, _: Admin) -> list[AgencyOut]:
    return [AgencyOut.of(a) for a in list_agencies(conn)]


@router.post("/agencies", status_code=status.HTTP_201_CREATED)
def agencies_create(body: AgencyIn, conn: DbConn, _: Admin) -> AgencyOut:
    return AgencyOut.of(create_agency(conn, code=body.code, name=body.name))


@router.get("/agencies/{agency_id}/cameras")
def agency_cameras(agency_id: RowId, conn: DbConn, _: Admin) -> list[int]:
    """Ids of the cameras whose sightings this agency's users may see."""
    return agency_camera_ids(conn, agency_id)


@router.post("/agencies/{agency_id}/cameras")
def agency_grant(agency_id: RowId, body: CameraGrant, conn: DbConn, _: Admin) -> Granted:
    return Granted(granted=grant_cameras(conn, agency_id, body.camera_ids))


@router.delete("/agencies/{agency_id}/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def agency_revoke(agency_id: RowId, camera_id: RowId, conn: DbConn, _: Admin) -> Response:
    revoke_camera(conn, agency_id, camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api-keys")
def keys_list(conn: DbConn, _: Admin) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(k) for k in list_api_keys(conn)]


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def keys_create(body: ApiKeyIn, conn: DbConn, admin: Admin) -> ApiKeyCreated:
    key = new_api_key()
    row = create_api_key(
        conn,
        NewApiKey(
            name=body.name,
            prefix=key.prefix,
            key_hash=key.key_hash,
            agency_id=body.agency_id,
            created_by=admin.id,
        ),
    )
    return ApiKeyCreated(**ApiKeyOut.of(row).model_dump(), key=key.plaintext)


@router.delete("/api-keys/{key_id}")
def keys_revoke(key_id: RowId, conn: DbConn, _: Admin) -> ApiKeyOut:
    """Revoke a key at once; the row stays for the record."""
    return ApiKeyOut.of(revoke_api_key(conn, key_id))
