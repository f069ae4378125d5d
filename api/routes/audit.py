"""The audit log, for auditors: read-only. There is no route that changes or deletes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import Audit, Auditors, BigAfterId, DbConn, PageLimit
from store.audit import AuditRow, list_entries, verify_chain

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int
    actor_name: str = Field(examples=["lan.nguyen"])
    role: str = Field(examples=["investigator"])
    agency_id: int | None
    method: str = Field(examples=["GET"])
    route: str = Field(examples=["/sightings/{sighting_id}"])
    params: dict[str, Any] = Field(examples=[{"sighting_id": 81234}])
    reason: str | None = Field(examples=["robbery suspect vehicle"])
    case_id: str | None = Field(examples=["HCM-2026-004512"])
    result_count: int | None = Field(examples=[1])
    client_addr: str | None = Field(examples=["10.20.0.15"])
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntryOut:
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class ChainStatus(BaseModel):
    intact: bool
    first_broken_id: int | None = Field(
        description="The first row whose content or link no longer matches its hash."
    )


@router.get("")
def audit_list(
    conn: DbConn,
    _: Auditors,
    audit: Audit,
    limit: PageLimit,
    after_id: BigAfterId = 0,
    actor: Annotated[str | None, Query(max_length=64, description="Username.")] = None,
    case: Annotated[str | None, Query(max_length=64, description="Case id.")] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
) -> list[AuditEntryOut]:
    """Audit entries in order; page with ``after_id``. Reading the log is itself logged."""
    rows = list_entries(
        conn,
        limit=limit,
        after_id=after_id,
        actor_name=actor,
        case_id=case,
        since=since,
        until=until,
    )
    audit.result_count = len(rows)
    return [AuditEntryOut.of(r) for r in rows]


@router.get("/verify")
def audit_verify(conn: DbConn, _: Auditors) -> ChainStatus:
    """Check the hash chain over the whole log."""
    broken = verify_chain(conn)
    return ChainStatus(intact=broken is None, first_broken_id=broken)
