from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, select

from store.cameras import (
    NewCamera,
    create_camera,
    create_cameras,
    delete_camera,
    get_camera,
    get_camera_by_code,
    list_cameras,
    record_health,
    update_camera,
)
from store.errors import InvalidInput, NotFound
from store.models import Camera

CAM = NewCamera(code="HCM-TD-W07-0012", name="Võ Văn Ngân × Kha Vạn Cân", lat=10.85, lon=106.77)


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(Camera)).scalar_one()


def test_create_and_read_back(conn: Connection) -> None:
    row = create_camera(conn, CAM)
    assert row.code == CAM.code
    assert (row.lat, row.lon) == pytest.approx((10.85, 106.77))
    assert row.status == "offline"
    assert get_camera(conn, row.id) == row
    assert get_camera_by_code(conn, CAM.code) == row


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": 91.0}, "latitude"),
        ({"lon": -181.0}, "longitude"),
        ({"code": "hcm-td-7"}, "CITY-DISTRICT-WARD-NUMBER"),
        ({"name": "  "}, "name"),
        ({"heading": 360.0}, "heading"),
        ({"status": "broken"}, "status"),
        ({"stream_url": "ftp://x"}, "stream URL"),
    ],
)
def test_bad_camera_is_refused_and_nothing_written(
    conn: Connection, change: dict[str, object], message: str
) -> None:
    good = NewCamera(code="HCM-TD-W07-0001", name="ok", lat=10.0, lon=106.0)
    bad = replace(good, **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=message):
        create_cameras(conn, [good, bad])
    assert count(conn) == 0


def test_duplicate_code_is_refused(conn: Connection) -> None:
    create_camera(conn, CAM)
    with pytest.raises(InvalidInput, match="already exists"):
        create_camera(conn, CAM)
    assert count(conn) == 1


def test_update_list_health_delete(conn: Connection) -> None:
    a, b = create_cameras(
        conn,
        [CAM, NewCamera(code="HCM-TD-W07-0013", name="b", lat=10.86, lon=106.78, heading=90)],
    )
    moved = update_camera(conn, a.id, lat=10.9, heading=180.0, name="renamed")
    assert (moved.lat, moved.lon) == pytest.approx((10.9, 106.77))
    assert (moved.heading, moved.name) == (180.0, "renamed")
    with pytest.raises(InvalidInput, match="latitude"):
        update_camera(conn, a.id, lat=-100.0)

    seen = datetime(2026, 11, 1, 8, tzinfo=UTC)
    record_health(conn, a.id, status="online", last_frame_at=seen)
    assert get_camera(conn, a.id).last_frame_at == seen
    assert [c.id for c in list_cameras(conn, status="online")] == [a.id]
    assert [c.id for c in list_cameras(conn, after_id=a.id)] == [b.id]

    update_camera(conn, b.id, status="disabled")
    record_health(conn, b.id, status="online")
    assert get_camera(conn, b.id).status == "disabled", "a worker must not re-enable a camera"

    delete_camera(conn, a.id)
    with pytest.raises(NotFound):
        get_camera(conn, a.id)
    with pytest.raises(NotFound):
        record_health(conn, a.id, status="online")
