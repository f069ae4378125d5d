from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, func, select, update

from store.cameras import NewCamera, create_camera
from store.models import Sighting
from store.models_alerts import AlertModel
from store.sightings import NewSighting
from store.watchlist import NewWatchlistEntry, add_entry
from tests.tracing.private_redis import PrivateRedis
from tracing.alerts import ALERTS_STREAM
from tracing.ingest import (
    DEAD_LETTERS,
    GROUP,
    SIGHTINGS_STREAM,
    IngestOptions,
    IngestWorker,
    decode_sighting,
    encode_sighting,
    publish_sightings,
)
from tracing.watch_cli import PAUSE_AFTER_WRITE_ENV

WANTED = ("51A11111", "51A22222", "30E33333")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with PrivateRedis(tmp_path) as server:
        yield server


@pytest.fixture
def redis_client(private_redis: PrivateRedis) -> Iterator[redis.Redis]:
    """Shadows the shared fixture: these streams must outlive other sessions' FLUSHDB."""
    client = private_redis.client()
    yield client
    client.close()


T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


@pytest.fixture
def camera_id(clean_engine: Engine) -> int:
    with clean_engine.begin() as conn:
        camera = create_camera(
            conn, NewCamera(code="HCM-TD-W07-0012", name="Thu Duc gate", lat=10.85, lon=106.77)
        )
        for plate in WANTED:
            add_entry(
                conn,
                NewWatchlistEntry(
                    pattern=plate, reason="stolen", legal_basis="case 5", created_by="lead"
                ),
            )
    return camera.id


def _traffic(camera_id: int, n: int, *, prefix: str = "s") -> list[NewSighting]:
    """``n`` sightings a second apart; every tenth is a wanted plate."""
    return [
        NewSighting(
            ingest_key=f"{prefix}{i}",
            camera_id=camera_id,
            plate=WANTED[i // 10 % 3] if i % 10 == 0 else f"59X{i:05d}",
            plate_raw="plate",
            country="VN",
            confidence=0.9,
            observed_at=T0 + timedelta(seconds=i),
            box=(1, 2, 30, 10),
        )
        for i in range(n)
    ]


def _worker(engine: Engine, client: redis.Redis, name: str, **options: object) -> IngestWorker:
    worker = IngestWorker(
        engine,
        client,
        consumer=name,
        options=IngestOptions(quiet_window=timedelta(0), **options),  # type: ignore[arg-type]
    )
    worker.ensure_group()
    return worker


def _drain(worker: IngestWorker) -> None:
    while worker.step().received:
        pass


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        sightings, distinct = conn.execute(
            select(func.count(), func.count(Sighting.ingest_key.distinct()))
        ).one()
        alerts = conn.execute(
            select(func.count(AlertModel.ingest_key.distinct())).where(
                AlertModel.stream_id.is_not(None)
            )
        ).scalar_one()
    assert sightings == distinct, "a sighting was stored twice"
    return sightings, alerts, 0


def _decoded(entries: Any) -> list[tuple[str, dict[str, str]]]:
    return [
        (sid.decode(), {k.decode(): v.decode() for k, v in fields.items()})
        for sid, fields in entries
    ]


def _stream_alerts(client: redis.Redis) -> list[str]:
    return [fields["data"] for _, fields in _decoded(client.xrange(ALERTS_STREAM))]


def test_encoding_round_trips_and_refuses_garbage(camera_id: int) -> None:
    (s,) = _traffic(camera_id, 1)
    assert decode_sighting(encode_sighting(s)) == s
    for fields, reason in (
        ({}, "lacks field"),
        ({"sighting": "{"}, "not a sighting"),
        ({"sighting": '{"plate": "X"}'}, "lacks field 'observed_at'"),
        ({"sighting": '{"plate": "X", "observed_at": "2026-11-22T01:00Z"}'}, "not a sighting"),
        ({"sighting": "[1]"}, "not a sighting"),
    ):
        with pytest.raises(ValueError, match=reason):
            decode_sighting(fields)


def test_batch_is_stored_matched_published_and_acked_once(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    traffic = _traffic(camera_id, 100)
    publish_sightings(redis_client, traffic)
    publish_sightings(redis_client, traffic[:30])  # a producer that re-sent part of its queue
    worker = _worker(clean_engine, redis_client, "w1", batch=40)
    _drain(worker)
    sightings, alerts, _ = _counts(clean_engine)
    assert (sightings, alerts) == (100, 10)
    assert len(_stream_alerts(redis_client)) == 10
    assert redis_client.xpending(SIGHTINGS_STREAM, GROUP)["pending"] == 0
    # All acked: trimming keeps only the last delivered entry.
    assert worker.trim_acknowledged() == 129
    assert redis_client.xlen(SIGHTINGS_STREAM) == 1


def test_trimming_keeps_what_is_pending_or_undelivered(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    publish_sightings(redis_client, _traffic(camera_id, 30))
    worker = _worker(clean_engine, redis_client, "w1", batch=10)
    worker.step()
    redis_client.xreadgroup(GROUP, "stalled", {SIGHTINGS_STREAM: ">"}, count=10)
    # 10 acked, 10 pending with "stalled", 10 never delivered: only the acked may go.
    assert worker.trim_acknowledged() == 10
    assert redis_client.xlen(SIGHTINGS_STREAM) == 20


def test_unfit_entries_are_dead_lettered_not_lost(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    (good,) = _traffic(camera_id, 1)
    publish_sightings(redis_client, [good])
    redis_client.xadd(SIGHTINGS_STREAM, {"sighting": "not json"})
    publish_sightings(redis_client, [replace(good, ingest_key="x")])
    unknown_camera = _traffic(camera_id + 99, 2, prefix="u")[1]
    future = replace(good, ingest_key="f", observed_at=datetime.now(UTC) + timedelta(days=2))
    publish_sightings(redis_client, [unknown_camera, future])
    result = _worker(clean_engine, redis_client, "w1").step()
    assert (result.received, result.stored, result.dead) == (5, 2, 3)
    reasons = sorted(f["reason"] for _, f in _decoded(redis_client.xrange(DEAD_LETTERS)))
    assert len(reasons) == 3
    for expected in ("not a sighting", "unknown camera id", "in the future"):
        assert any(expected in r for r in reasons), expected
    assert redis_client.xpending(SIGHTINGS_STREAM, GROUP)["pending"] == 0


def test_entries_the_json_mistypes_are_dead_lettered_and_the_batch_stored(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    (good,) = _traffic(camera_id, 1)
    publish_sightings(redis_client, [good])
    raw = json.loads(encode_sighting(replace(good, ingest_key="b"))["sighting"])
    for key, value in (("box", [0.5, 1, 10, 10]), ("plate_raw", "51F\u0000"), ("camera_id", 2**40)):
        redis_client.xadd(SIGHTINGS_STREAM, {"sighting": json.dumps({**raw, key: value})})
    result = _worker(clean_engine, redis_client, "w1").step()
    assert (result.received, result.stored, result.dead) == (4, 1, 3)
    assert redis_client.xlen(DEAD_LETTERS) == 3
    assert redis_client.xpending(SIGHTINGS_STREAM, GROUP)["pending"] == 0


def test_unknown_camera_in_a_redelivered_batch_is_dead_lettered(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    (good,) = _traffic(camera_id, 1)
    worker = _worker(clean_engine, redis_client, "w1")
    publish_sightings(redis_client, [good])
    worker.step()
    # The repeat sends the batch down the staged path, where the camera check must hold too.
    publish_sightings(redis_client, [good, replace(good, ingest_key="u", camera_id=camera_id + 99)])
    result = worker.step()
    assert (result.received, result.stored, result.dead) == (2, 0, 1)
    (letter,) = _decoded(redis_client.xrange(DEAD_LETTERS))
    assert "unknown camera id" in letter[1]["reason"]
    assert _counts(clean_engine)[:2] == (1, 1)


def test_a_day_without_a_partition_is_created_and_stored(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    (good,) = _traffic(camera_id, 1)
    old = replace(good, ingest_key="old", observed_at=datetime(2004, 2, 29, 12, tzinfo=UTC))
    publish_sightings(redis_client, [good, old])
    result = _worker(clean_engine, redis_client, "w1").step()
    assert (result.received, result.stored, result.alerts, result.dead) == (2, 2, 2, 0)


def _spawn_worker(redis_url: str, pause_s: float | None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PLATETRACE_REDIS_URL": redis_url,
        "PLATETRACE_INGEST_CLAIM_IDLE_MS": "60000",
    }
    if pause_s is not None:
        env[PAUSE_AFTER_WRITE_ENV] = str(pause_s)
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("platetrace")),
            "ingest",
            "--consumer",
            "doomed",
            "--batch",
            "25",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float = 60) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    pytest.fail(f"worker never said {text!r}; output:\n{''.join(lines)}")


@pytest.mark.slow
def test_worker_killed_between_write_and_ack_loses_and_repeats_nothing(
    clean_engine: Engine, redis_client: redis.Redis, private_redis: PrivateRedis, camera_id: int
) -> None:
    traffic = _traffic(camera_id, 100)
    publish_sightings(redis_client, traffic)
    doomed = _spawn_worker(private_redis.url, pause_s=3600)
    try:
        _wait_for_line(doomed, "paused after write")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    finally:
        doomed.kill()
    # The dead worker committed its first batch (25 sightings, 3 alerts) and published nothing.
    with clean_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Sighting)).scalar_one() == 25
    assert _stream_alerts(redis_client) == []
    assert redis_client.xpending(SIGHTINGS_STREAM, GROUP)["pending"] == 25

    rescuer = _worker(clean_engine, redis_client, "rescuer", claim_idle_ms=1, batch=25)
    claimed = rescuer.claim_abandoned()
    assert (claimed.received, claimed.stored, claimed.alerts, claimed.published) == (25, 0, 0, 3)
    _drain(rescuer)
    sightings, alerts, _ = _counts(clean_engine)
    assert (sightings, alerts) == (100, 10)
    published = _stream_alerts(redis_client)
    assert len(published) == len(set(published)) == 10
    assert redis_client.xpending(SIGHTINGS_STREAM, GROUP)["pending"] == 0


def test_alert_published_before_a_crash_is_not_published_again(
    clean_engine: Engine, redis_client: redis.Redis, camera_id: int
) -> None:
    publish_sightings(redis_client, _traffic(camera_id, 1))
    worker = _worker(clean_engine, redis_client, "w1")
    reply: Any = redis_client.xreadgroup(GROUP, "w1", {SIGHTINGS_STREAM: ">"})
    messages = _decoded(reply[0][1])
    worker.process(messages)
    # As if the database had lost the stream id: the next delivery must not add a second event.
    with clean_engine.begin() as conn:
        conn.execute(update(AlertModel).values(stream_id=None))
    again = worker.process(messages)
    assert (again.stored, again.alerts, again.published) == (0, 0, 1)
    assert len(_stream_alerts(redis_client)) == 1


@pytest.mark.slow
def test_redis_restart_mid_stream_loses_nothing(
    clean_engine: Engine, camera_id: int, private_redis: PrivateRedis
) -> None:
    client = private_redis.client(socket_timeout=5)
    traffic = _traffic(camera_id, 300)
    stop = threading.Event()
    worker = _worker(clean_engine, client, "w1", batch=20, block_ms=100)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        for i in range(0, len(traffic), 10):
            if i == 150:
                private_redis.stop()
                private_redis.start()
            while True:  # a producer retries until Redis takes the batch
                try:
                    publish_sightings(client, traffic[i : i + 10])
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        while _counts(clean_engine)[:2] != (300, 30) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _counts(clean_engine)[:2] == (300, 30)
        published = _stream_alerts(client)
        assert len(published) == len(set(published)) == 30
    finally:
        stop.set()
        thread.join(30)
