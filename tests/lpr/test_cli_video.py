"""``platetrace read`` on videos and streams that cannot be read: one line, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lpr.conftest import free_port

PLATETRACE = Path(sys.executable).with_name("platetrace")


def read(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLATETRACE), "read", *args], capture_output=True, text=True, timeout=120
    )


def test_a_corrupt_video_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 500)
    result = read(str(tmp_path / "broken.mp4"))
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path / 'broken.mp4'}: not a readable video")


def test_an_unreachable_stream_is_a_one_line_error() -> None:
    url = f"rtsp://admin:secret@127.0.0.1:{free_port()}/cam"
    result = read("--json", url)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "cannot open stream" in line and "secret" not in line
