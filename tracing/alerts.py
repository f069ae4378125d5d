"""The alerts stream: publish alerts to Redis exactly once, and follow them from any point.

Every event on ``platetrace:alerts`` has two fields: ``event`` (``alert`` when one is raised,
``update`` when a dispatcher acknowledges, assigns or closes it) and ``data`` (the alert as
JSON). A dispatcher's screen follows the stream by id (SSE ``Last-Event-ID``), so after a
reconnect it gets exactly the events it missed, in order.

Publishing is idempotent: a Lua script adds the event only if the alert's marker key is
absent and sets the marker in the same atomic step. A worker that dies after publishing but
before recording the stream id in the database therefore republishes nothing; it only
learns the id it already had.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import redis
import redis.asyncio as aioredis

from store.alerts import AlertRow

ALERTS_STREAM = "platetrace:alerts"
_MARKER = "platetrace:alerts:published:"
# Markers only need to outlive the longest a sighting can stay pending before it is claimed.
MARKER_TTL_S = 7 * 24 * 3600
# About a month of alerts at a busy city's rate; older ones are in the database.
STREAM_MAXLEN = 1_000_000
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

EventKind = Literal["alert", "update"]

_PUBLISH_ONCE = """
local sid = redis.call('GET', KEYS[2])
if sid then return sid end
sid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', 'alert', 'data', ARGV[1])
redis.call('SET', KEYS[2], sid, 'EX', ARGV[3])
return sid
"""


# Redis names scripts by their SHA-1.
_PUBLISH_SHA = hashlib.sha1(_PUBLISH_ONCE.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: str  # the stream id, also the SSE event id
    event: EventKind
    data: str  # the alert as JSON


def alert_json(alert: AlertRow) -> str:
    """What a dispatcher's screen needs to act on an alert, as JSON."""
    return json.dumps(
        {
            "id": alert.id,
            "status": alert.status,
            "plate": alert.plate,
            "plate_raw": alert.plate_raw,
            "country": alert.country,
            "confidence": alert.confidence,
            "colour": alert.colour,
            "observed_at": alert.observed_at.isoformat(),
            "ingest_key": alert.ingest_key,
            "box": alert.box,
            "evidence_key": alert.evidence_key,
            "camera": {
                "id": alert.camera_id,
                "code": alert.camera_code,
                "name": alert.camera_name,
                "lat": alert.camera_lat,
                "lon": alert.camera_lon,
            },
            "entry": {
                "id": alert.entry_id,
                "pattern": alert.pattern,
                "priority": alert.priority,
                "reason": alert.reason,
            },
            "fuzzy": alert.fuzzy,
            "distance": alert.distance,
            "assignee": alert.assignee,
            "outcome": alert.outcome,
            "created_at": alert.created_at.isoformat(),
        },
        separators=(",", ":"),
    )


def publish_alerts(client: redis.Redis, alerts: Sequence[AlertRow]) -> list[tuple[int, str]]:
    """Add each alert to the stream unless it is already there; return (alert id, stream id).

    One round trip: the script is called by its hash, and loaded only when Redis says it
    lacks it (first use, restart); calling it again then is harmless, it is idempotent.
    """
    if not alerts:
        return []
    try:
        ids = _publish_once(client, alerts)
    except redis.exceptions.NoScriptError:
        client.script_load(_PUBLISH_ONCE)
        ids = _publish_once(client, alerts)
    return [(alert.id, _text(sid)) for alert, sid in zip(alerts, ids, strict=True)]


def _publish_once(client: redis.Redis, alerts: Sequence[AlertRow]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for alert in alerts:
        keys = (ALERTS_STREAM, marker_key(alert))
        pipe.evalsha(_PUBLISH_SHA, len(keys), *keys, alert_json(alert), STREAM_MAXLEN, MARKER_TTL_S)
    return pipe.execute()


def marker_key(alert: AlertRow) -> str:
    """The key that says "this alert is on the stream". The id alone is not enough: a
    database restored or recreated (tests, benchmarks) reuses ids, and its new alerts must
    not be mistaken for published ones; the id with its creation time is unique."""
    created_us = int(alert.created_at.timestamp() * 1_000_000)
    return f"{_MARKER}{alert.id}:{created_us}"


def publish_update(client: redis.Redis, alert: AlertRow) -> str:
    """Tell every screen that an alert changed (acknowledged, assigned, closed)."""
    sid = client.xadd(
        ALERTS_STREAM,
        {"event": "update", "data": alert_json(alert)},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )
    return _text(sid)


def check_stream_id(value: str) -> str:
    """``value`` if it is a stream id (``<ms>-<seq>``); ``ValueError`` otherwise."""
    if not _STREAM_ID.match(value):
        raise ValueError(f"not a stream id (expected <milliseconds>-<sequence>): {value!r}")
    return value


async def latest_id(client: aioredis.Redis) -> str:
    """The id of the newest event, so a new follower starts at "now" without a race."""
    newest = _entries(await client.xrevrange(ALERTS_STREAM, count=1))
    return newest[0][0] if newest else "0-0"


async def follow_alerts(
    client: aioredis.Redis, *, after: str, idle_s: float, batch: int = 100
) -> AsyncIterator[AlertEvent | None]:
    """Events after stream id ``after``, in order, forever; ``None`` after ``idle_s`` seconds
    without one, so the caller can send a heartbeat."""
    last = check_stream_id(after)
    while True:
        reply: Any = await client.xread(
            {ALERTS_STREAM: last}, count=batch, block=int(idle_s * 1000)
        )
        if not reply:
            yield None
            continue
        for sid, fields in _entries(reply[0][1]):
            last = sid
            kind: EventKind = "update" if fields["event"] == "update" else "alert"
            yield AlertEvent(sid, kind, fields["data"])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entries(raw: Any) -> list[tuple[str, dict[str, str]]]:
    """Stream entries as redis-py returns them (bytes, RESP2 shape) as text."""
    return [(_text(sid), {_text(k): _text(v) for k, v in fields.items()}) for sid, fields in raw]
