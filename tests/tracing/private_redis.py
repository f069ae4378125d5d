"""A Redis server of one test's own, with AOF on.

For tests that restart Redis, and for tests whose streams must survive other test sessions
running at the same time (those flush the shared test database 15 between their tests).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest
import redis


class PrivateRedis:
    def __init__(self, data_dir: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is required (run scripts/setup.sh)")
        self.data_dir = data_dir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options: float) -> redis.Redis:
        return redis.Redis.from_url(self.url, **options)

    def start(self) -> None:
        self._proc = subprocess.Popen(
            # appendfsync always: what production should run for the sightings stream.
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        probe = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                probe.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"private redis-server on port {self.port} did not start")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): Redis writes out its AOF first."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
