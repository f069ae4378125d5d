from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from platetrace.settings import Settings
from tests.api.conftest import World


def test_health_reports_database_and_redis_without_auth(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_is_503_when_a_dependency_is_down(api_settings: Settings) -> None:
    broken = api_settings.model_copy(
        update={
            "redis_url": "redis://127.0.0.1:1/0",
            "database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none",
        }
    )
    response = TestClient(create_app(broken)).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"].startswith("error") and body["redis"].startswith("error")


def test_oversized_bodies_get_a_json_413(
    api_settings: Settings, world: World, client: TestClient
) -> None:
    small = TestClient(create_app(api_settings.model_copy(update={"max_request_bytes": 2048})))
    headers = {**world.headers["admin"], "Content-Type": "application/json"}
    declared = small.post("/cameras", content=b"x" * 4096, headers=headers)
    assert declared.status_code == 413
    assert declared.json() == {"detail": "request body larger than 2048 bytes"}
    streamed = small.post("/cameras", content=iter([b"x" * 1024] * 4), headers=headers)
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["detail"]


def test_errors_share_one_shape(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    for response in (
        client.get("/cameras/999999", headers=headers),  # 404 from the store
        client.get("/cameras/abc", headers=headers),  # 422 from validation
        client.get("/cameras"),  # 401
        client.get("/audit", headers=world.headers["dispatcher"]),  # 403
        client.post(
            "/cameras",
            content=b"{not json",
            headers={**headers, "Content-Type": "application/json"},
        ),
    ):
        assert 400 <= response.status_code < 500
        assert set(response.json()) == {"detail"}


def test_the_openapi_document_has_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["CameraIn"]["properties"]["code"]["examples"] == ["HCM-TD-W07-0012"]
    assert "examples" in schemas["SightingIn"]["properties"]["plate"]
    assert {"OAuth2PasswordBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
