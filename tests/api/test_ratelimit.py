from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from api.deps import get_conn
from api.main import create_app
from api.ratelimit import WINDOW_SECONDS, SearchRateLimit, hit
from platetrace.settings import Settings
from tests.api.conftest import World


def test_sliding_window_counts_the_last_minute_per_key(redis_client: redis.Redis) -> None:
    start = time.time()
    assert [hit(redis_client, "k", limit=3, now=start + i) for i in range(3)] == [None] * 3
    # The oldest of the three leaves the window at start + 60.
    assert hit(redis_client, "k", limit=3, now=start + 20) == WINDOW_SECONDS - 20
    assert hit(redis_client, "k", limit=3, now=start + 59.5) == 1  # refusals did not count
    assert hit(redis_client, "other", limit=3, now=start + 20) is None
    assert hit(redis_client, "k", limit=3, now=start + WINDOW_SECONDS + 0.5) is None
    assert hit(redis_client, "k", limit=3, now=start + WINDOW_SECONDS + 1.5) is None
    # Now start+2, +60.5 and +61.5 are in; the next one waits until start+2 ages out.
    assert hit(redis_client, "k", limit=3, now=start + WINDOW_SECONDS + 1.7) == 1
    assert 0 < redis_client.ttl("platetrace:ratelimit:k") <= WINDOW_SECONDS


@pytest.fixture
def limited(
    api_settings: Settings, conn: Connection, redis_client: redis.Redis
) -> Iterator[TestClient]:
    app = create_app(api_settings.model_copy(update={"search_rate_per_minute": 2}))

    @app.get("/limited")
    def limited_route(_: SearchRateLimit) -> dict[str, bool]:
        return {"ok": True}

    def test_conn() -> Iterator[Connection]:
        yield conn

    app.dependency_overrides[get_conn] = test_conn
    yield TestClient(app)
    app.state.engine.dispose()
    app.state.redis.close()


def test_each_user_has_their_own_budget(limited: TestClient, world: World) -> None:
    mine, theirs = world.headers["investigator"], world.headers["investigator-b"]
    assert [limited.get("/limited", headers=mine).status_code for _ in range(2)] == [200, 200]
    refused = limited.get("/limited", headers=mine)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW_SECONDS + 1
    assert "rate limit" in refused.json()["detail"]
    assert limited.get("/limited", headers=theirs).status_code == 200
    assert limited.get("/limited").status_code == 401


def test_an_unreachable_redis_gives_503(
    api_settings: Settings, conn: Connection, world: World
) -> None:
    app = create_app(api_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))

    @app.get("/limited")
    def limited_route(_: SearchRateLimit) -> dict[str, bool]:
        return {"ok": True}

    def test_conn() -> Iterator[Connection]:
        yield conn

    app.dependency_overrides[get_conn] = test_conn
    response = TestClient(app).get("/limited", headers=world.headers["investigator"])
    assert response.status_code == 503
    assert "rate limiter" in response.json()["detail"]
