from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import ROOT, SERVER_URL

EXPECTED = {"cameras", "sightings", "case_holds", "watchlist_entries", "alerts"}


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"platetrace_mig_{os.getpid()}"
    admin = create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{SERVER_URL}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def run(args: list[str], url: str) -> None:
    env = {**os.environ, "PLATETRACE_DATABASE_URL": url}
    bin_dir = Path(ROOT, ".venv", "bin")
    subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=ROOT, env=env, check=True)


@pytest.mark.slow
def test_migrate_then_down_to_base_and_up_again(empty_database: str) -> None:
    run(["platetrace", "migrate"], empty_database)
    assert tables(empty_database) >= EXPECTED
    run(["alembic", "downgrade", "base"], empty_database)
    assert not tables(empty_database) & EXPECTED
    run(["alembic", "upgrade", "head"], empty_database)
    assert tables(empty_database) >= EXPECTED
