from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from platetrace.cli import app
from platetrace.settings import get_settings
from store.cameras import list_cameras
from store.models import Sighting
from tracing.graph import ODBL_CREDIT

runner = CliRunner()
START = "2026-03-02T07:00:00+00:00"


@pytest.fixture(autouse=True)
def private_cache(
    graph_cache: Path, monaco: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # The session's Monaco cache lives in <graph_cache>; the CLI finds it under data_dir/cache.
    data_dir = graph_cache.parent / "cli-data"
    (data_dir / "cache").mkdir(parents=True, exist_ok=True)
    for cached in graph_cache.glob("graph-*.pickle"):
        target = data_dir / "cache" / cached.name
        if not target.exists():
            target.symlink_to(cached)
    monkeypatch.setenv("PLATETRACE_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_place_dry_run_prints_the_layout(monaco_pbf: Path) -> None:
    result = runner.invoke(
        app, ["cameras", "place", "--city", str(monaco_pbf), "--count", "6", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 7 and lines[0].startswith("MON-")
    assert "nothing written" in lines[-1]


def test_place_writes_geojson(monaco_pbf: Path, tmp_path: Path) -> None:
    out = tmp_path / "layout.geojson"
    args = ["cameras", "place", "--city", str(monaco_pbf), "--count", "8", "--code", "MCO"]
    result = runner.invoke(app, [*args, "--strategy", "arterials", "--out", str(out)])
    assert result.exit_code == 0, result.output
    layout = json.loads(out.read_text())
    assert layout["properties"]["credit"] == ODBL_CREDIT
    assert [f["properties"]["code"][:4] for f in layout["features"]] == ["MCO-"] * 8


def test_place_then_simulate_into_the_store(monaco_pbf: Path, clean_engine: Engine) -> None:
    place = ["cameras", "place", "--city", str(monaco_pbf), "--count", "60"]
    result = runner.invoke(app, place)
    assert result.exit_code == 0, result.output
    with clean_engine.connect() as conn:
        assert len(list_cameras(conn)) == 60
    again = runner.invoke(app, place)
    assert again.exit_code == 2
    assert "already exists" in again.output

    simulate = ["simulate", "--city", str(monaco_pbf), "--vehicles", "15", "--start", START]
    result = runner.invoke(app, simulate)
    assert result.exit_code == 0, result.output
    added = int(result.output.split()[0])
    with clean_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Sighting)).scalar_one() == added
    repeat = runner.invoke(app, simulate)
    assert repeat.output.startswith("0 new sightings")


def test_simulate_to_files_from_a_layout(monaco_pbf: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout.geojson"
    place = ["cameras", "place", "--city", str(monaco_pbf), "--count", "60", "--out", str(layout)]
    assert runner.invoke(app, place).exit_code == 0
    out, truth = tmp_path / "s.jsonl", tmp_path / "t.jsonl"
    args = ["simulate", "--city", str(monaco_pbf), "--layout", str(layout), "--vehicles", "12"]
    result = runner.invoke(
        app, [*args, "--seed", "3", "--start", START, "--out", str(out), "--truth", str(truth)]
    )
    assert result.exit_code == 0, result.output
    assert len(truth.read_text().splitlines()) == 12
    sightings = [json.loads(line) for line in out.read_text().splitlines()]
    assert sightings and {s["camera_id"] for s in sightings} <= set(range(1, 61))


def test_simulate_at_a_coverage_needs_no_cameras_anywhere(monaco_pbf: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    args = ["simulate", "--city", str(monaco_pbf), "--coverage", "0.2", "--vehicles", "5"]
    result = runner.invoke(app, [*args, "--start", START, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{len(out.read_text().splitlines())} sightings of 5 vehicles")


def test_bad_requests_get_one_line_and_exit_2(
    monaco_pbf: Path, tmp_path: Path, clean_engine: Engine
) -> None:
    cases = [
        ["cameras", "place", "--city", str(tmp_path / "no.pbf"), "--count", "3"],
        ["cameras", "place", "--city", str(monaco_pbf), "--count", "3", "--strategy", "random"],
        ["simulate", "--city", str(monaco_pbf), "--layout", str(tmp_path / "x.geojson")],
        ["simulate", "--city", str(monaco_pbf)],  # an empty store
        ["simulate", "--city", str(monaco_pbf), "--coverage", "0.1"],  # no --out
        ["simulate", "--city", str(monaco_pbf), "--layout", str(tmp_path), "--out", "o.jsonl"],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1
