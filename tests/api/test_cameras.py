from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from api.routes.cameras import Status
from store.cameras import get_camera, list_cameras
from store.models import CAMERA_STATUSES
from store.users import agency_camera_ids
from tests.api.conftest import World


def test_the_api_offers_exactly_the_stores_camera_states() -> None:
    assert set(get_args(Status)) == set(CAMERA_STATUSES)


NEW = {"code": "HCM-TD-W07-0042", "name": "Kha Vạn Cân", "lat": 10.851, "lon": 106.772}


def test_operator_creates_reads_updates_and_deletes_a_camera(
    client: TestClient, world: World, conn: Connection
) -> None:
    headers = world.headers["operator"]
    created = client.post(
        "/cameras", json={**NEW, "stream_url": "rtsp://u:p@10.0.0.4/s"}, headers=headers
    )
    assert created.status_code == 201, created.text
    camera = created.json()
    assert camera["code"] == NEW["code"]
    assert camera["stream_url"] == "rtsp://u:p@10.0.0.4/s"
    # The operator's agency adopts what the operator adds, so it stays visible to them.
    assert camera["id"] in agency_camera_ids(conn, world.agency_a)
    assert client.get(f"/cameras/{camera['id']}", headers=headers).json() == camera

    patched = client.patch(
        f"/cameras/{camera['id']}", json={"name": "Renamed", "heading": 90}, headers=headers
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["heading"]) == ("Renamed", 90)

    assert client.delete(f"/cameras/{camera['id']}", headers=headers).status_code == 204
    assert client.get(f"/cameras/{camera['id']}", headers=headers).status_code == 404


def test_stream_urls_with_credentials_are_hidden_from_investigators(
    client: TestClient, world: World, conn: Connection
) -> None:
    client.patch(
        f"/cameras/{world.camera_a}",
        json={"stream_url": "rtsp://admin:hunter2@10.0.0.9/s"},
        headers=world.headers["admin"],
    )
    seen = client.get(f"/cameras/{world.camera_a}", headers=world.headers["investigator"]).json()
    assert seen["stream_url"] is None
    assert get_camera(conn, world.camera_a).stream_url == "rtsp://admin:hunter2@10.0.0.9/s"


def test_users_see_only_their_agencys_cameras_admins_all(client: TestClient, world: World) -> None:
    def ids(who: str) -> set[int]:
        response = client.get("/cameras", headers=world.headers[who])
        assert response.status_code == 200
        return {c["id"] for c in response.json()}

    assert ids("investigator") == {world.camera_a, world.camera_idle}
    assert ids("investigator-b") == {world.camera_b}
    assert ids("admin") >= {world.camera_a, world.camera_b, world.camera_idle}
    other = client.get(f"/cameras/{world.camera_b}", headers=world.headers["investigator"])
    assert other.status_code == 404
    assert (
        client.patch(
            f"/cameras/{world.camera_b}", json={"name": "x"}, headers=world.headers["operator"]
        ).status_code
        == 404
    )


def test_listing_pages_and_filters(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    first = client.get("/cameras", params={"limit": 1}, headers=headers).json()
    rest = client.get("/cameras", params={"after_id": first[0]["id"]}, headers=headers).json()
    assert len(first) == 1 and first[0]["id"] not in {c["id"] for c in rest}
    client.post(f"/cameras/{world.camera_a}/health", json={"status": "online"}, headers=headers)
    online = client.get("/cameras", params={"status": "online"}, headers=headers).json()
    assert [c["id"] for c in online] == [world.camera_a]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**NEW, "code": "bad code"}, "CITY-DISTRICT-WARD-NUMBER"),
        ({**NEW, "lat": 91}, "lat"),
        ({**NEW, "lon": -181}, "lon"),
        ({**NEW, "heading": 360}, "heading"),
        ({**NEW, "status": "broken"}, "status"),
        ({**NEW, "stream_url": "ftp://x"}, "stream URL"),
        ({**NEW, "name": "  "}, "name"),
        ({**NEW, "extra": 1}, "extra"),
        ({"code": NEW["code"]}, "name"),
    ],
)
def test_bad_cameras_are_refused_with_a_reason(
    client: TestClient, world: World, body: dict[str, Any], where: str
) -> None:
    response = client.post("/cameras", json=body, headers=world.headers["operator"])
    assert response.status_code in (400, 422)
    assert where in response.text


def test_duplicate_codes_and_missing_cameras(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    assert client.post("/cameras", json=NEW, headers=headers).status_code == 201
    again = client.post("/cameras", json=NEW, headers=headers)
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = client.request(method, "/cameras/999999", headers=headers, **kwargs)
        assert response.status_code == 404, method
    assert client.get("/cameras/0", headers=headers).status_code == 422
    assert client.get("/cameras/99999999999", headers=headers).status_code == 422


def test_a_camera_with_sightings_cannot_be_deleted(client: TestClient, world: World) -> None:
    response = client.delete(f"/cameras/{world.camera_a}", headers=world.headers["admin"])
    assert response.status_code == 400
    assert "disabled" in response.json()["detail"]


def test_workers_report_health_for_their_cameras_only(
    client: TestClient, world: World, conn: Connection
) -> None:
    report = {"status": "online", "last_frame_at": "2026-11-21T08:15:00+07:00"}
    ok = client.post(
        f"/cameras/{world.camera_a}/health", json=report, headers=world.headers["service"]
    )
    assert ok.status_code == 204
    camera = get_camera(conn, world.camera_a)
    assert camera.status == "online" and camera.last_frame_at is not None
    # The agency-B key may not touch agency A's camera: it does not exist for it.
    other = client.post(
        f"/cameras/{world.camera_a}/health", json=report, headers=world.headers["service-b"]
    )
    assert other.status_code == 404
    naive = client.post(
        f"/cameras/{world.camera_a}/health",
        json={"status": "online", "last_frame_at": "2026-11-21T08:15:00"},
        headers=world.headers["service"],
    )
    assert naive.status_code == 422
    unknown = client.post(
        f"/cameras/{world.camera_a}/health",
        json={"status": "asleep"},
        headers=world.headers["service"],
    )
    assert unknown.status_code == 422


def import_file(
    client: TestClient, world: World, name: str, content: str | bytes, **params: Any
) -> Any:
    return client.post(
        "/cameras/import",
        files={"file": (name, content)},
        params=params,
        headers=world.headers["operator"],
    )


CSV = (
    "code,name,lat,lon,heading,stream_url\n"
    "HCM-TD-W08-0001,Xa lộ Hà Nội,10.84,106.78,180,rtsp://10.0.8.1/s\n"
    "HCM-TD-W08-0002,Lê Văn Việt,10.845,106.79,,\n"
)


def test_csv_import_creates_every_row(client: TestClient, world: World, conn: Connection) -> None:
    response = import_file(client, world, "cameras.csv", CSV)
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    codes = {c.code for c in list_cameras(conn, ids=response.json()["ids"])}
    assert codes == {"HCM-TD-W08-0001", "HCM-TD-W08-0002"}
    assert set(response.json()["ids"]) <= set(agency_camera_ids(conn, world.agency_a))


def test_geojson_import(client: TestClient, world: World, conn: Connection) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [106.78, 10.84]},
                "properties": {"code": "HCM-TD-W08-0003", "name": "Ngã tư Thủ Đức", "heading": 45},
            }
        ],
    }
    response = import_file(client, world, "cams.geojson", json.dumps(doc))
    assert response.status_code == 201, response.text
    camera = get_camera(conn, response.json()["ids"][0])
    assert (camera.lat, camera.lon, camera.heading) == pytest.approx((10.84, 106.78, 45))


def test_import_reports_every_bad_row_and_imports_nothing(
    client: TestClient, world: World, conn: Connection
) -> None:
    before = len(list_cameras(conn))
    content = (
        "code,name,lat,lon\n"
        "HCM-TD-W08-0004,Fine,10.8,106.7\n"
        "HCM-TD-W08-0005,Too far north,95,106.7\n"
        "not-a-code,Bad code,10.8,106.7\n"
        "HCM-TD-W08-0004,Repeated,10.8,106.7\n"
        "HCM-TD-W07-0012,Exists already,10.8,106.7\n"
        "HCM-TD-W08-0006,No longitude,10.8,\n"
    )
    response = import_file(client, world, "cameras.csv", content)
    assert response.status_code == 422
    rows = {(e["loc"][1], e["type"]) for e in response.json()["detail"]}
    assert {r for r, _ in rows} == {2, 3, 4, 5, 6}
    assert (4, "duplicate") in rows and (5, "duplicate") in rows
    assert len(list_cameras(conn)) == before


def test_dry_run_validates_without_importing(
    client: TestClient, world: World, conn: Connection
) -> None:
    before = len(list_cameras(conn))
    response = import_file(client, world, "cameras.csv", CSV, dry_run="true")
    assert response.status_code == 201
    assert response.json() == {"imported": 0, "ids": []}
    assert len(list_cameras(conn)) == before


@pytest.mark.parametrize(
    ("name", "content", "params", "message"),
    [
        ("cameras.txt", CSV, {}, "format=csv"),
        ("cameras.csv", b"\xff\xfe\x00bad", {}, "UTF-8"),
        ("cameras.csv", "code,name\nX,Y\n", {}, "lat, lon"),
        ("cameras.csv", "code,name,lat,lon\n", {}, "no cameras"),
        ("cameras.geojson", "{not json", {}, "not valid JSON"),
        ("cameras.geojson", '{"type": "Feature"}', {}, "FeatureCollection"),
        ("cameras.bin", CSV, {"format": "kml"}, "format"),
    ],
)
def test_unreadable_import_files_get_a_clear_400(
    client: TestClient,
    world: World,
    name: str,
    content: str | bytes,
    params: dict[str, str],
    message: str,
) -> None:
    response = import_file(client, world, name, content, **params)
    assert response.status_code in (400, 422)
    assert message in response.text


def test_import_is_size_limited(client: TestClient, world: World, app: Any) -> None:
    limit = app.state.settings.max_request_bytes
    response = import_file(client, world, "big.csv", "x" * (limit + 1))
    assert response.status_code == 413
    assert "detail" in response.json()
