from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, func, select

from store.audit import AuditLog
from store.models import Sighting
from tests.api.conftest import PURPOSE, World, png_bytes


def sighting(world: World, key: str = "ingest-1", **changes: Any) -> dict[str, Any]:
    return {
        "ingest_key": key,
        "camera_id": world.camera_a,
        "plate": "59A99999",
        "plate_raw": "59A-999.99",
        "country": "VN",
        "confidence": 0.87,
        "observed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "colour": "white",
        "box": [10, 20, 120, 40],
        **changes,
    }


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(Sighting)).scalar_one()


def last_audit(conn: Connection) -> Any:
    return conn.execute(select(AuditLog.__table__).order_by(AuditLog.id.desc()).limit(1)).one()


def test_ingest_is_idempotent_and_audited(
    client: TestClient, world: World, conn: Connection
) -> None:
    batch = {"sightings": [sighting(world, "a"), sighting(world, "b")]}
    first = client.post("/sightings", json=batch, headers=world.headers["service"])
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 2, "inserted": 2}
    again = client.post("/sightings", json=batch, headers=world.headers["service"])
    assert again.json() == {"received": 2, "inserted": 0}
    entry = last_audit(conn)
    assert (entry.actor_name, entry.role, entry.route) == ("fleet", "service", "/sightings")
    assert entry.result_count == 0
    assert entry.params == {"received": 2, "cameras": [world.camera_a]}


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"plate": "51f-123"}, 422),
        ({"country": "Vietnam"}, 422),
        ({"confidence": 1.5}, 422),
        ({"observed_at": "2026-11-21T08:00:00"}, 422),  # no time zone
        ({"observed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, 400),
        ({"plate_raw": "51F\x00123"}, 422),
        ({"box": [1, 2, 3]}, 422),
        ({"camera_id": 999_999}, 400),
        ({"camera_id": 2**40}, 422),
        ({"evidence_key": "../../etc/passwd"}, 422),
        ({"evidence_key": "0" * 64 + ".jpg"}, 400),  # never uploaded
        ({"surprise": True}, 422),
    ],
)
def test_one_bad_sighting_refuses_the_whole_batch(
    client: TestClient, world: World, conn: Connection, change: dict[str, Any], status: int
) -> None:
    before = count(conn)
    batch = {"sightings": [sighting(world, "good"), sighting(world, "bad", **change)]}
    response = client.post("/sightings", json=batch, headers=world.headers["service"])
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert count(conn) == before


def test_batches_are_bounded(client: TestClient, world: World) -> None:
    empty = client.post("/sightings", json={"sightings": []}, headers=world.headers["service"])
    assert empty.status_code == 422
    huge = {"sightings": [sighting(world, f"k{i}") for i in range(5001)]}
    assert client.post("/sightings", json=huge, headers=world.headers["service"]).status_code == 422


def test_an_agency_key_cannot_post_for_other_cameras(
    client: TestClient, world: World, conn: Connection
) -> None:
    before = count(conn)
    batch = {"sightings": [sighting(world, camera_id=world.camera_b), sighting(world, "x")]}
    response = client.post("/sightings", json=batch, headers=world.headers["service-b"])
    assert response.status_code == 403
    assert str(world.camera_a) in response.json()["detail"]
    assert count(conn) == before


def upload(client: TestClient, world: World, data: bytes, name: str = "e.png") -> Any:
    return client.post(
        "/sightings/evidence", files={"file": (name, data)}, headers=world.headers["service"]
    )


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 16), "blue").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_evidence_upload_then_ingest_then_fetch_for_a_case(
    client: TestClient, world: World, conn: Connection
) -> None:
    image = jpeg_bytes()
    key = upload(client, world, image, "plate.jpg").json()["key"]
    assert key.endswith(".jpg")
    assert upload(client, world, image, "again.jpg").json()["key"] == key  # content-addressed
    batch = {"sightings": [sighting(world, "with-evidence", evidence_key=key)]}
    assert (
        client.post("/sightings", json=batch, headers=world.headers["service"]).status_code == 200
    )
    stored = conn.execute(
        select(Sighting.id).where(Sighting.ingest_key == "with-evidence")
    ).scalar_one()

    response = client.get(
        f"/sightings/{stored}/evidence", params=PURPOSE, headers=world.headers["investigator"]
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == image
    entry = last_audit(conn)
    assert (entry.actor_name, entry.route) == ("investigator", "/sightings/{sighting_id}/evidence")
    assert (entry.reason, entry.case_id, entry.result_count) == (
        PURPOSE["reason"],
        PURPOSE["case_id"],
        1,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 100, "not a readable"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not a readable"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable"),
    ],
)
def test_bad_evidence_files_are_refused(
    client: TestClient, world: World, data: bytes, message: str
) -> None:
    response = upload(client, world, data)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_gif_and_oversized_evidence_are_refused(client: TestClient, world: World, app: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    assert "JPEG or PNG" in upload(client, world, buffer.getvalue()).json()["detail"]
    limit = app.state.settings.max_evidence_bytes
    big = upload(client, world, png_bytes() + b"\x00" * limit)
    assert big.status_code == 400
    assert "at most" in big.json()["detail"]


def test_reading_a_sighting_needs_a_purpose(client: TestClient, world: World) -> None:
    url = f"/sightings/{world.sighting_a}"
    headers = world.headers["investigator"]
    for params in ({}, {"reason": "x"}, {"case_id": "C-1"}, {"reason": " ", "case_id": "C-1"}):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 400, params
        assert "reason" in response.json()["detail"]
    response = client.get(url, params=PURPOSE, headers=headers)
    assert response.status_code == 200
    assert response.json()["plate"] == world.plate


def test_investigators_never_see_other_agencies_sightings(client: TestClient, world: World) -> None:
    for path in ("", "/evidence"):
        theirs = client.get(
            f"/sightings/{world.sighting_b}{path}",
            params=PURPOSE,
            headers=world.headers["investigator"],
        )
        assert theirs.status_code == 404
        assert (
            client.get(
                f"/sightings/{world.sighting_b}{path}",
                params=PURPOSE,
                headers=world.headers["investigator-b"],
            ).status_code
            == 200
        )
    missing = client.get("/sightings/987654321", params=PURPOSE, headers=world.headers["admin"])
    assert missing.status_code == 404


def test_a_sighting_without_evidence_says_so(
    client: TestClient, world: World, conn: Connection
) -> None:
    batch = {"sightings": [sighting(world, "no-evidence")]}
    client.post("/sightings", json=batch, headers=world.headers["service"])
    stored = conn.execute(
        select(Sighting.id).where(Sighting.ingest_key == "no-evidence")
    ).scalar_one()
    response = client.get(
        f"/sightings/{stored}/evidence", params=PURPOSE, headers=world.headers["admin"]
    )
    assert response.status_code == 404
    assert "no evidence" in response.json()["detail"]
