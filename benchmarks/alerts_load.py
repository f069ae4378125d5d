"""The load side of ``benchmarks.alerts``: the sightings producer and the SSE client."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import redis

from store.sightings import NewSighting
from tracing.ingest import GROUP, SIGHTINGS_STREAM, encode_sighting

LETTERS = "ABCDEFGHKLMNPSTUVXYZ"
HOT_SHARE = 0.01  # of sightings carrying a wanted plate


def random_plate(rng: random.Random) -> str:
    return f"{rng.randint(10, 99)}{rng.choice(LETTERS)}{rng.randint(10000, 99999)}"


class Client(threading.Thread):
    """An SSE client that records, by ingest key, when each alert arrived and when it was
    published (its event id is the alerts stream id, whose first part is Redis's clock in ms,
    the same clock as here); like EventSource, it reconnects with Last-Event-ID when the
    stream drops."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.arrivals: dict[str, float] = {}
        self.published: dict[str, float] = {}
        self.duplicates = 0
        self.reconnects = 0
        self.ready = threading.Event()

    def run(self) -> None:
        timeout = httpx.Timeout(5.0, read=60.0)  # heartbeats come every 15 s
        last_id: str | None = None
        while True:
            headers = {"Authorization": f"Bearer {self.token}"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                with httpx.stream("GET", self.url, headers=headers, timeout=timeout) as response:
                    for line in response.iter_lines():
                        self.ready.set()
                        if line.startswith("id: "):
                            last_id = line[4:]
                        elif line.startswith("data: ") and last_id is not None:
                            key = json.loads(line[6:])["ingest_key"]
                            self._arrived(key, int(last_id.split("-")[0]) / 1000)
            except httpx.HTTPError:
                pass
            self.reconnects += 1
            time.sleep(0.5)

    def _arrived(self, key: str, published: float) -> None:
        if key in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[key] = time.time()
            self.published[key] = published


def produce(
    client: redis.Redis,
    rate: int,
    seconds: float,
    cameras: Sequence[int],
    hot: Sequence[str],
    *,
    step: int,
) -> tuple[dict[str, float], int]:
    """Send ``rate`` sightings/s for ``seconds`` in 10 ms ticks; every send time, and how
    many sightings carried a wanted plate."""
    rng = random.Random(step)
    sent_at: dict[str, float] = {}
    n = 0
    # Hot sightings walk (plate, camera) pairs from a slot of their own per step, so no pair
    # repeats within the quiet window and every hot sighting must raise exactly one alert.
    hot_n = step * 50_000
    start = time.monotonic()
    observed = datetime.now(UTC) - timedelta(seconds=1)
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + 1 - n
        pipe = client.pipeline(transaction=False)
        keys = []
        for _ in range(max(due, 0)):
            keys.append(key := f"b{step}-{n}")
            is_hot = rng.random() < HOT_SHARE
            plate = hot[hot_n % len(hot)] if is_hot else random_plate(rng)
            camera = cameras[(hot_n // len(hot)) % len(cameras)] if is_hot else rng.choice(cameras)
            pipe.xadd(SIGHTINGS_STREAM, encode_sighting(NewSighting(  # type: ignore[arg-type]
                ingest_key=key, camera_id=camera, plate=plate, plate_raw=plate, country="VN",
                confidence=0.9, observed_at=observed + timedelta(milliseconds=n), colour="white",
                box=(10, 10, 120, 40), evidence_key=None,
            )))  # fmt: skip
            hot_n += is_hot
            n += 1
        pipe.execute()
        now = time.time()
        sent_at.update((k, now) for k in keys)
        time.sleep(max(0.0, start + (n / rate) - time.monotonic()))
    return sent_at, hot_n - step * 50_000


def wait_drained(client: redis.Redis, deadline: float) -> bool:
    while time.monotonic() < deadline:
        groups = client.xinfo_groups(SIGHTINGS_STREAM)
        info = next(g for g in groups if g["name"] in (GROUP, GROUP.encode()))
        if info["pending"] == 0 and info.get("lag", 0) == 0:
            return True
        time.sleep(0.05)
    return False
