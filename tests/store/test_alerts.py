from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection

from store.alerts import (
    AlertStateError,
    NewAlert,
    acknowledge,
    assign,
    close,
    get_alert,
    list_alerts,
    mark_published,
    raise_alerts,
    unpublished,
)
from store.cameras import NewCamera, create_camera
from store.errors import InvalidInput, NotFound
from store.watchlist import NewWatchlistEntry, add_entry

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


@pytest.fixture
def alert(conn: Connection) -> NewAlert:
    camera = create_camera(
        conn,
        NewCamera(code="HCM-TD-W07-0012", name="Vo Van Ngan x Dang Van Bi", lat=10.85, lon=106.77),
    )
    entry = add_entry(
        conn,
        NewWatchlistEntry(
            pattern="51A12345", reason="stolen", legal_basis="case 9", created_by="lead"
        ),
    )
    return NewAlert(
        entry_id=entry.id,
        ingest_key="cam12:track1",
        camera_id=camera.id,
        plate="51A12345",
        plate_raw="51A-123.45",
        country="VN",
        confidence=0.93,
        observed_at=T0,
        priority=entry.priority,
        reason=entry.reason,
        pattern=entry.pattern.text,
        fuzzy=False,
        distance=0.0,
        colour="white",
        box=(10, 20, 120, 40),
        evidence_key="evidence/2026/11/22/cam12-track1.jpg",
    )


def test_alert_copies_sighting_camera_and_entry(conn: Connection, alert: NewAlert) -> None:
    (row,) = raise_alerts(conn, [alert], quiet_window=WINDOW)
    assert (row.camera_code, row.camera_name) == ("HCM-TD-W07-0012", "Vo Van Ngan x Dang Van Bi")
    assert (row.camera_lat, row.camera_lon) == pytest.approx((10.85, 106.77))
    assert (row.plate, row.box, row.evidence_key, row.reason) == (
        "51A12345",
        [10, 20, 120, 40],
        alert.evidence_key,
        "stolen",
    )
    assert (row.status, row.stream_id) == ("new", None)
    assert get_alert(conn, row.id) == row


def test_redelivered_sighting_raises_nothing(conn: Connection, alert: NewAlert) -> None:
    assert len(raise_alerts(conn, [alert], quiet_window=timedelta(0))) == 1
    assert raise_alerts(conn, [alert], quiet_window=timedelta(0)) == []
    assert len(list_alerts(conn)) == 1


def test_same_plate_same_camera_within_window_alerts_once(
    conn: Connection, alert: NewAlert
) -> None:
    later = [
        replace(alert, ingest_key=f"cam12:track{i}", observed_at=T0 + timedelta(minutes=i))
        for i in range(2, 12, 2)
    ]
    raised = raise_alerts(conn, [alert, *later], quiet_window=WINDOW)
    # T0 alerts; +2 and +4 fall in its window; +6 is 6 min after T0 and alerts; +8, +10 quiet.
    assert [r.observed_at for r in raised] == [T0, T0 + timedelta(minutes=6)]
    other_plate = replace(alert, ingest_key="cam12:x", plate="51A99999")
    assert len(raise_alerts(conn, [other_plate], quiet_window=WINDOW)) == 1


def test_publication_is_recorded(conn: Connection, alert: NewAlert) -> None:
    (row,) = raise_alerts(conn, [alert], quiet_window=WINDOW)
    assert [a.id for a in unpublished(conn, [alert.ingest_key, "other"])] == [row.id]
    mark_published(conn, [(row.id, "1700000000000-0")])
    assert unpublished(conn, [alert.ingest_key]) == []
    assert get_alert(conn, row.id).stream_id == "1700000000000-0"


def test_lifecycle_acknowledge_assign_close(conn: Connection, alert: NewAlert) -> None:
    (row,) = raise_alerts(conn, [alert], quiet_window=WINDOW)
    acked = acknowledge(conn, row.id, by="disp1")
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "disp1")
    assert acknowledge(conn, row.id, by="disp2").acknowledged_by == "disp1"
    assigned = assign(conn, row.id, assignee="unit 7", by="disp1")
    assert (assigned.status, assigned.assignee) == ("assigned", "unit 7")
    assert assign(conn, row.id, assignee="unit 9", by="disp2").assignee == "unit 9"
    with pytest.raises(InvalidInput, match="outcome is required"):
        close(conn, row.id, outcome=" ", by="disp1")
    closed = close(conn, row.id, outcome="intercepted at Thu Duc bridge", by="disp1")
    assert (closed.status, closed.closed_by) == ("closed", "disp1")
    assert closed.closed_at is not None
    with pytest.raises(AlertStateError, match="closed"):
        acknowledge(conn, row.id, by="disp1")
    with pytest.raises(AlertStateError):
        close(conn, row.id, outcome="again", by="disp1")
    assert [a.id for a in list_alerts(conn, status="closed")] == [row.id]
    assert list_alerts(conn, status="new") == []


def test_assign_from_new_counts_as_acknowledged(conn: Connection, alert: NewAlert) -> None:
    (row,) = raise_alerts(conn, [alert], quiet_window=WINDOW)
    assigned = assign(conn, row.id, assignee="unit 7", by="disp3")
    assert assigned.acknowledged_by == "disp3"
    assert assigned.acknowledged_at is not None


def test_unknown_alert_and_bad_listing(conn: Connection) -> None:
    with pytest.raises(NotFound):
        acknowledge(conn, 404, by="disp1")
    with pytest.raises(InvalidInput, match="status"):
        list_alerts(conn, status="lost")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="quiet window"):
        raise_alerts(conn, [], quiet_window=timedelta(seconds=-1))
