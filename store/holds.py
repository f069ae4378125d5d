"""Case holds: sightings a case needs beyond retention, by plate or by one sighting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from store.errors import InvalidInput
from store.models import CaseHold


@dataclass(frozen=True, slots=True)
class NewHold:
    case_id: str
    reason: str
    until: datetime
    plate: str | None = None
    sighting_id: int | None = None
    created_by: str | None = None


def add_hold(conn: Connection, hold: NewHold, *, now: datetime) -> int:
    if not hold.case_id.strip() or not hold.reason.strip():
        raise InvalidInput("a case hold needs a case id and a reason")
    if (hold.plate is None) == (hold.sighting_id is None):
        raise InvalidInput("a case hold names either a plate or a sighting, not both")
    if hold.plate is not None and not hold.plate.strip():
        raise InvalidInput("a case hold's plate must not be empty")
    if hold.until <= now:
        raise InvalidInput("a case hold must end in the future")
    return conn.execute(
        insert(CaseHold)
        .values(
            case_id=hold.case_id.strip(),
            reason=hold.reason.strip(),
            until=hold.until,
            plate=hold.plate,
            sighting_id=hold.sighting_id,
            created_by=hold.created_by,
        )
        .returning(CaseHold.id)
    ).scalar_one()


def active_holds(conn: Connection, *, now: datetime) -> list[NewHold]:
    columns = [getattr(CaseHold, name) for name in NewHold.__dataclass_fields__]
    rows = conn.execute(select(*columns).where(CaseHold.until > now).order_by(CaseHold.id))
    return [NewHold(**row._mapping) for row in rows]
