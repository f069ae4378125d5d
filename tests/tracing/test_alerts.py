from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import Connection

from store.alerts import AlertRow, NewAlert, raise_alerts
from store.cameras import NewCamera, create_camera
from store.watchlist import NewWatchlistEntry, add_entry
from tests.tracing.private_redis import PrivateRedis
from tracing.alerts import (
    ALERTS_STREAM,
    AlertEvent,
    alert_json,
    check_stream_id,
    follow_alerts,
    latest_id,
    publish_alerts,
    publish_update,
)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with PrivateRedis(tmp_path) as server:
        yield server


@pytest.fixture
def alerts(conn: Connection) -> list[AlertRow]:
    camera = create_camera(
        conn, NewCamera(code="HCM-TD-W07-0012", name="Gate", lat=10.85, lon=106.77)
    )
    entry = add_entry(
        conn,
        NewWatchlistEntry(
            pattern="51A1234", max_distance=1, reason="robbery", legal_basis="w-7", created_by="x"
        ),
    )
    items = [
        NewAlert(
            entry_id=entry.id,
            ingest_key=f"k{i}",
            camera_id=camera.id,
            plate=f"51A1234{i}",
            plate_raw=f"51A-1234{i}",
            country="VN",
            confidence=0.8,
            observed_at=datetime(2026, 11, 22, 8, i, tzinfo=UTC),
            priority=entry.priority,
            reason=entry.reason,
            pattern=entry.pattern.text,
            fuzzy=True,
            distance=1.0,
            evidence_key="abc.jpg",
        )
        for i in range(3)
    ]
    return raise_alerts(conn, items, quiet_window=timedelta(0))


def test_alert_json_carries_what_a_dispatcher_needs(alerts: list[AlertRow]) -> None:
    data = json.loads(alert_json(alerts[0]))
    assert data["camera"]["code"] == "HCM-TD-W07-0012"
    assert data["camera"]["lat"] == pytest.approx(10.85)
    assert data["entry"] == {
        "id": alerts[0].entry_id,
        "pattern": "51A1234",
        "priority": 3,
        "reason": "robbery",
    }
    assert (data["fuzzy"], data["distance"], data["evidence_key"]) == (True, 1.0, "abc.jpg")
    assert data["observed_at"] == "2026-11-22T08:00:00+00:00"


def test_publishing_twice_adds_each_alert_once(
    alerts: list[AlertRow], private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    first = publish_alerts(client, alerts[:2])
    client.script_flush()  # as after a restart: the script must be loaded again
    again = publish_alerts(client, alerts)
    assert again[:2] == first
    assert client.xlen(ALERTS_STREAM) == 3
    assert [a for a, _ in again] == [a.id for a in alerts]
    assert publish_alerts(client, []) == []


def test_a_recreated_database_reusing_ids_still_publishes(
    alerts: list[AlertRow], private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    publish_alerts(client, alerts[:1])
    reborn = replace(alerts[0], created_at=alerts[0].created_at + timedelta(days=1))
    assert reborn.id == alerts[0].id
    publish_alerts(client, [reborn])
    assert client.xlen(ALERTS_STREAM) == 2


def test_stream_ids_are_checked() -> None:
    assert check_stream_id("1700000000000-3") == "1700000000000-3"
    for bad in ("", "0", "abc-1", "1-2-3", "1700000000000-3\nid: 9"):
        with pytest.raises(ValueError, match="not a stream id"):
            check_stream_id(bad)


def test_follow_resumes_after_an_id_and_reports_idle_time(
    alerts: list[AlertRow], private_redis: PrivateRedis
) -> None:
    sync = private_redis.client()
    published = publish_alerts(sync, alerts)
    update_id = publish_update(sync, alerts[0])

    async def collect() -> tuple[str, list[AlertEvent | None]]:
        client = aioredis.Redis.from_url(private_redis.url)
        try:
            events: list[AlertEvent | None] = []
            async for event in follow_alerts(client, after=published[0][1], idle_s=0.05):
                events.append(event)
                if event is None:
                    break
            return await latest_id(client), events
        finally:
            await client.aclose()

    newest, events = asyncio.run(collect())
    assert newest == update_id
    assert [e.id if e else None for e in events] == [
        published[1][1],
        published[2][1],
        update_id,
        None,
    ]
    assert [e.event if e else None for e in events] == ["alert", "alert", "update", None]


def test_latest_id_of_an_empty_stream(private_redis: PrivateRedis) -> None:
    async def newest() -> str:
        client = aioredis.Redis.from_url(private_redis.url)
        try:
            return await latest_id(client)
        finally:
            await client.aclose()

    assert asyncio.run(newest()) == "0-0"
