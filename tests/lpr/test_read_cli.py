"""``platetrace read`` on still images: one line per image, clean errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tests.conftest import require_shared_data
from tests.lpr.plate_images import car_with_plate, empty_scene
from tests.lpr.test_images import png_header

PLATETRACE = Path(sys.executable).with_name("platetrace")

# Each test starts the real command, which loads the models: seconds apiece.
pytestmark = pytest.mark.slow


def read(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLATETRACE), "read", *args], capture_output=True, text=True, timeout=300
    )


def test_json_lines_per_image_best_plate_first(tmp_path: Path, shared_data: Path) -> None:
    drawn = tmp_path / "drawn.png"
    cv2.imwrite(str(drawn), car_with_plate("AB1234CE", body="blue")[0])
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), empty_scene())
    photo = require_shared_data(shared_data / "plates" / "openalpr-br" / "OKL1235.jpg")

    result = read("--json", str(drawn), str(empty), str(photo))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(drawn), str(empty), str(photo)]
    first = lines[0]["plates"][0]
    assert first == {
        "plate": "AB1234CE",
        "country": "UA",
        "confidence": first["confidence"],
        "box": first["box"],
        "colour": "blue",
        "colour_confidence": first["colour_confidence"],
    }
    x, y, w, h = first["box"]
    assert 150 < x < 260 and 300 < y < 360 and 150 < w < 300 and 20 < h < 70
    assert lines[1]["plates"] == []
    assert lines[2]["plates"][0]["plate"] == "OKL1235"
    assert all(line["ms"] > 0 for line in lines)


def test_plain_output_is_one_readable_line_per_image(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), empty_scene())
    result = read(str(empty))
    assert result.returncode == 0
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{empty}: no plate (")


def test_bad_images_are_one_line_errors_and_exit_2(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.jpg"
    _, jpeg = cv2.imencode(".jpg", empty_scene())
    truncated.write_bytes(jpeg.tobytes()[:3000])
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header(20_000, 10_000))
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), empty_scene())

    result = read("--json", str(truncated), str(huge), "http://127.0.0.1:9/car.jpg", str(good))

    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(f"error: {truncated}: not a readable image")
    assert errors[1].startswith(f"error: {huge}: ") and "megapixels" in errors[1]
    assert errors[2].startswith("error: http://127.0.0.1:9/car.jpg: cannot fetch")
    # The good image after the bad ones is still read.
    assert [json.loads(x)["source"] for x in result.stdout.splitlines()] == [str(good)]


def test_unknown_country_is_refused() -> None:
    result = read("--country", "XX", "whatever.jpg")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: no plate format for ['XX']")
