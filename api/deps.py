"""What routes declare in their signatures: a database connection, the caller, the roles a
route admits, the purpose of a personal-data request, and its audit entry.

Typical route::

    @router.get("/things/{thing_id}")
    def read_thing(
        thing_id: int, conn: DbConn, user: Investigators, purpose: Purpose, audit: Audit
    ) -> Thing:
        thing = load(conn, thing_id, camera_filter(user, ...))
        audit.result_count = 1
        return thing

The connection's transaction commits after the route returns and before the response is
sent, together with the audit row: a response never reports work that was then lost, and
personal data never leaves without its audit entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, Security, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from api.security import InvalidToken, hash_api_key, token_user_id
from platetrace.settings import Settings
from store.api_keys import find_api_key
from store.audit import JSONValue, NewAuditEntry, append
from store.errors import NotFound
from store.users import Principal, Role, get_user

PURPOSE_FIELDS = ("reason", "case_id")

# Dependencies that only look at the request are ``async``: FastAPI runs a plain ``def`` one in
# the thread pool, a hop to another thread and back for each, on every request.


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def assume_api_role(conn: Connection, settings: Settings) -> None:
    """Drop to the API's own database role for the rest of the transaction (for a connection
    that is not from the API's pool, which runs as that role from the start)."""
    if settings.api_db_role:
        role = conn.dialect.identifier_preparer.quote(settings.api_db_role)
        conn.execute(text(f"SET LOCAL ROLE {role}"))


def run_as_api_role(engine: Engine, settings: Settings) -> None:
    """Every connection ``engine`` opens runs as the API's database role for its whole life:
    one statement per connection instead of a round trip in every request's transaction."""
    if not settings.api_db_role:
        return
    statement = f"SET ROLE {engine.dialect.identifier_preparer.quote(settings.api_db_role)}"

    @event.listens_for(engine, "connect")
    def _set_role(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()  # a session setting, kept past this first transaction


def get_conn(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.begin() as conn:
        yield conn


# scope="function": commit before the response goes out, not after.
DbConn = Annotated[Connection, Depends(get_conn, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Service accounts (recognition workers)."
)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


def current_principal(
    conn: DbConn,
    settings: AppSettings,
    token: Annotated[str | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    if api_key:
        key = find_api_key(conn, hash_api_key(api_key))
        if key is None:
            raise _unauthorized("unknown or revoked API key")
        return key.principal
    if not token:
        raise _unauthorized("not authenticated: send a bearer token or an API key")
    try:
        user = get_user(conn, token_user_id(token, settings))
    except (InvalidToken, NotFound) as exc:
        raise _unauthorized("invalid or expired token") from exc
    if not user.active:
        raise _unauthorized("user is deactivated")
    return user.principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


class RequireRoles:
    """Dependency admitting only the given roles (403 for the rest)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, principal: CurrentUser) -> Principal:
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value!r} may not do this (allowed: {allowed})",
            )
        return principal


Admin = Annotated[Principal, Depends(RequireRoles(Role.ADMIN))]
Operators = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.OPERATOR))]
Investigators = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.INVESTIGATOR))]
Auditors = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.AUDITOR))]
# Everyone who works with cameras and what they see; auditors and service accounts are not.
Staff = Annotated[
    Principal,
    Depends(RequireRoles(Role.ADMIN, Role.INVESTIGATOR, Role.DISPATCHER, Role.OPERATOR)),
]
Ingest = Annotated[Principal, Depends(RequireRoles(Role.ADMIN, Role.SERVICE))]
HealthReporters = Annotated[
    Principal, Depends(RequireRoles(Role.ADMIN, Role.OPERATOR, Role.SERVICE))
]


@dataclass(frozen=True, slots=True)
class PurposeOf:
    reason: str
    case_id: str


async def purpose(
    reason: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Why the data is needed (required; recorded in the audit log).",
            examples=["robbery suspect vehicle seen leaving the scene"],
        ),
    ] = None,
    case_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The case this request serves (required; recorded in the audit log).",
            examples=["HCM-2026-004512"],
        ),
    ] = None,
) -> PurposeOf:
    # Optional in the signature so a missing one gives a 400 that says why, not a 422.
    if not reason or not reason.strip() or not case_id or not case_id.strip():
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="personal data requires a purpose: give both 'reason' and 'case_id'",
        )
    return PurposeOf(reason=reason.strip(), case_id=case_id.strip())


Purpose = Annotated[PurposeOf, Depends(purpose)]


@dataclass(slots=True)
class AuditRecord:
    """Filled in by the route: how many records it returned or changed, and any parameters
    not in the path or query (e.g. from the body)."""

    result_count: int | None = None
    params: dict[str, JSONValue] = field(default_factory=dict)


def audit(request: Request, conn: DbConn, principal: CurrentUser) -> Iterator[AuditRecord]:
    record = AuditRecord()
    yield record
    # Only reached when the route succeeded; a failed request rolls back and is not logged.
    query = request.query_params
    params: dict[str, JSONValue] = {
        **request.path_params,
        **{k: _one_or_all(query.getlist(k)) for k in query if k not in PURPOSE_FIELDS},
        **record.params,
    }
    append(
        conn,
        NewAuditEntry(
            actor_id=principal.id,
            actor_name=principal.name,
            role=principal.role.value,
            agency_id=principal.agency_id,
            method=request.method,
            route=getattr(request.scope.get("route"), "path", request.url.path),
            params=params,
            reason=(query.get("reason") or "").strip() or None,
            case_id=(query.get("case_id") or "").strip() or None,
            result_count=record.result_count,
            client_addr=request.client.host if request.client else None,
        ),
    )


def _one_or_all(values: list[str]) -> JSONValue:
    return values[0] if len(values) == 1 else list(values)


Audit = Annotated[AuditRecord, Depends(audit, scope="function")]


async def page_limit(
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, description="Page size (at most the server's cap).")] = 100,
) -> int:
    if limit > settings.max_page_size:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"limit must be at most {settings.max_page_size}",
        )
    return limit


PageLimit = Annotated[int, Depends(page_limit)]


# Database ids are int4 (bigint for sightings); bounding them here turns an overflow into a 422.
MAX_INT4 = 2**31 - 1
MAX_INT8 = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_INT4)]
BigRowId = Annotated[int, Path(ge=1, le=MAX_INT8)]
AfterId = Annotated[int, Query(ge=0, le=MAX_INT4, description="Cursor: rows after this id.")]
BigAfterId = Annotated[int, Query(ge=0, le=MAX_INT8, description="Cursor: rows after this id.")]
