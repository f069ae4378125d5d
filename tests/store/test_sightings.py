from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from psycopg.errors import ForeignKeyViolation
from sqlalchemy import Connection, func, select, text

from store.cameras import NewCamera, create_camera
from store.errors import InvalidInput
from store.holds import NewHold, active_holds, add_hold
from store.models import Sighting
from store.partitions import apply_retention, list_partitions, partition_name
from store.sightings import (
    NewSighting,
    add_sighting,
    add_sightings,
    insert_valid_sightings,
    sightings_by_plate,
)

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def camera_id(conn: Connection) -> int:
    return create_camera(
        conn, NewCamera(code="HCM-D01-W01-0001", name="Lê Lợi", lat=10.77, lon=106.70)
    ).id


def sighting(camera_id: int, key: str, at: datetime, plate: str = "51F12345") -> NewSighting:
    return NewSighting(
        ingest_key=key,
        camera_id=camera_id,
        plate=plate,
        plate_raw="51F-123.45",
        country="VN",
        confidence=0.93,
        observed_at=at,
        colour="white",
        colour_confidence=0.8,
        box=(10, 20, 120, 40),
    )


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(Sighting)).scalar_one()


def test_same_ingest_key_twice_is_one_row(conn: Connection, camera_id: int) -> None:
    s = sighting(camera_id, "cam1-track7", NOW)
    assert add_sighting(conn, s) is True
    assert add_sighting(conn, s) is False
    assert add_sightings(conn, [s, s, replace(s, ingest_key="other")]) == 1
    assert count(conn) == 2
    rows = sightings_by_plate(conn, "51F12345", NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert [r.ingest_key for r in rows] == ["cam1-track7", "other"]
    assert rows[0].box == [10, 20, 120, 40]
    assert rows[0].colour == "white"


def test_three_days_three_partitions_and_retention_keeps_held(
    conn: Connection, camera_id: int
) -> None:
    days = [NOW - timedelta(days=d) for d in (40, 39, 1)]
    batch = [sighting(camera_id, f"k{i}", at) for i, at in enumerate(days)]
    batch.append(sighting(camera_id, "held", days[0] + timedelta(minutes=5), plate="29B123456"))
    assert add_sightings(conn, batch) == 4
    names = {partition_name(at.date()) for at in days}
    assert names <= set(list_partitions(conn).values())
    per_partition = conn.execute(
        text("SELECT tableoid::regclass::text, count(*) FROM sightings GROUP BY 1")
    ).all()
    assert {name for name, _ in per_partition} == names

    add_hold(
        conn,
        NewHold(
            case_id="HS-2026-114",
            reason="robbery",
            until=NOW + timedelta(days=90),
            plate="29B123456",
        ),
        now=NOW,
    )
    assert len(active_holds(conn, now=NOW)) == 1
    report = apply_retention(conn, retention_days=30, now=NOW)
    # Other tests may leave empty old partitions behind; only ours are asserted on.
    assert partition_name(days[1].date()) in report.dropped
    assert report.trimmed == [partition_name(days[0].date())]
    assert partition_name(days[2].date()) in list_partitions(conn).values()
    assert report.rows_held == 1
    assert report.rows_deleted == 2
    remaining = conn.execute(select(Sighting.ingest_key).order_by(Sighting.ingest_key)).scalars()
    assert list(remaining) == ["held", "k2"]


def test_expired_hold_protects_nothing(conn: Connection, camera_id: int) -> None:
    old = NOW - timedelta(days=45)
    add_sightings(conn, [sighting(camera_id, "old", old)])
    add_hold(
        conn,
        NewHold(case_id="C1", reason="r", until=NOW + timedelta(days=1), plate="51F12345"),
        now=NOW,
    )
    report = apply_retention(conn, retention_days=30, now=NOW + timedelta(days=2))
    assert partition_name(old.date()) in report.dropped
    assert count(conn) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"plate": ""}, "plate must not be empty"),
        ({"plate": "51f-123"}, "not normalised"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": float("nan")}, "confidence"),
        ({"country": "Vietnam"}, "country"),
        ({"observed_at": datetime(2026, 1, 1)}, "time zone"),
        ({"observed_at": NOW + timedelta(days=2)}, "future"),
        ({"box": (0, 0, 0, 10)}, "box"),
        ({"ingest_key": ""}, "ingest key"),
        ({"camera_id": 999_999}, "unknown camera"),
        # What a stream's JSON can carry that the types do not allow:
        ({"box": (1.5, 0, 10, 10)}, "whole pixels"),
        ({"box": (True, 0, 10, 10)}, "whole pixels"),
        ({"camera_id": 2**40}, "camera id"),
        ({"camera_id": "7"}, "camera id"),
        ({"confidence": "0.9"}, "confidence must be a number"),
        ({"plate_raw": "51F\x00123"}, "NUL"),
        ({"track_id": 17}, "track_id must be text"),
        ({"observed_at": "2026-01-01T00:00:00Z"}, "timestamp"),
    ],
)
def test_bad_sighting_writes_nothing(
    conn: Connection, camera_id: int, change: dict[str, object], message: str
) -> None:
    good = sighting(camera_id, "good", NOW)
    bad = replace(sighting(camera_id, "bad", NOW), **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=message):
        add_sightings(conn, [good, bad])
    assert count(conn) == 0


def test_holds_refuse_bad_input(conn: Connection) -> None:
    with pytest.raises(InvalidInput, match="either a plate or a sighting"):
        add_hold(conn, NewHold(case_id="C", reason="r", until=NOW + timedelta(days=1)), now=NOW)
    with pytest.raises(InvalidInput, match="future"):
        add_hold(conn, NewHold(case_id="C", reason="r", until=NOW, plate="A1"), now=NOW)
    with pytest.raises(InvalidInput, match="case id"):
        add_hold(
            conn,
            NewHold(case_id=" ", reason="r", until=NOW + timedelta(days=1), plate="A1"),
            now=NOW,
        )


def test_window_must_be_valid(conn: Connection) -> None:
    with pytest.raises(InvalidInput):
        sightings_by_plate(conn, "51F12345", NOW, NOW)
    with pytest.raises(InvalidInput):
        sightings_by_plate(conn, "", NOW, NOW + timedelta(hours=1))


def test_valid_sightings_of_an_unknown_camera_leave_the_transaction_usable(
    conn: Connection, camera_id: int
) -> None:
    stored = sighting(camera_id, "stored", NOW)
    assert insert_valid_sightings(conn, [stored]) == 1
    lost = sighting(999_999, "lost", NOW)
    # The straight COPY, and the staged path a repeated sighting takes, name the camera alike.
    for batch in ([lost], [stored, lost]):
        with pytest.raises(ForeignKeyViolation, match="999999"):
            insert_valid_sightings(conn, batch)
    assert insert_valid_sightings(conn, [stored, sighting(camera_id, "new", NOW)]) == 1
    assert count(conn) == 2
