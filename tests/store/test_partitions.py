from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from store.cameras import NewCamera, create_camera
from store.partitions import ensure_partitions, list_partitions, partition_name
from store.sightings import NewSighting, add_sighting

API_ROLE = "platetrace_api"
# Long before any day other tests write, so the partition is surely new.
DAY = date(2003, 3, 14)


def test_the_api_role_creates_day_partitions_without_owning_anything(conn: Connection) -> None:
    camera = create_camera(conn, NewCamera(code="HCM-D01-W01-0001", name="x", lat=10.8, lon=106.7))
    conn.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
    assert ensure_partitions(conn, [DAY, DAY]) == [partition_name(DAY)]
    assert ensure_partitions(conn, [DAY]) == []
    at = datetime(DAY.year, DAY.month, DAY.day, 23, 59, tzinfo=UTC)
    sighting = NewSighting("k1", camera.id, "51F12345", "51F-123.45", "VN", 0.9, at)
    assert add_sighting(conn, sighting)
    conn.execute(text("RESET ROLE"))
    assert list_partitions(conn)[DAY] == partition_name(DAY)
    owned = conn.execute(
        text("SELECT relname FROM pg_class WHERE pg_get_userbyid(relowner) = :role"),
        {"role": API_ROLE},
    ).scalars()
    assert list(owned) == []


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE sightings",
        "ALTER TABLE sightings ADD COLUMN note text",
        "ALTER TABLE sightings DETACH PARTITION {partition}",
        "DROP TABLE {partition}",
        "TRUNCATE sightings",
        "CREATE TABLE sightings_p20030315 PARTITION OF sightings "
        "FOR VALUES FROM ('2003-03-15') TO ('2003-03-16')",
        "CREATE TABLE scratch (x int)",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "UPDATE audit_log SET reason = 'nothing to see'",
        "DELETE FROM audit_log",
    ],
)
def test_the_api_role_cannot_drop_alter_or_rewrite(conn: Connection, statement: str) -> None:
    ensure_partitions(conn, [DAY])
    conn.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
    with pytest.raises(DBAPIError, match=r"must be owner|permission denied"):
        conn.execute(text(statement.format(partition=partition_name(DAY))))
