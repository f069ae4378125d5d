"""Test harness on the real services: a fresh PostGIS database per session, migrated to head,
and a real Redis database. Nothing here is mocked.

Fixtures: ``database_url``, ``engine``, ``conn`` (a transaction rolled back after the test),
``clean_engine`` (committed data, visible to other processes; every table emptied after the
test), ``redis_url``, ``redis_client``, ``shared_data``, ``monaco`` (the Monaco road graph).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
import redis
from sqlalchemy import Connection, Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PLATETRACE_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
SERVER_URL = os.environ.get(
    "PLATETRACE_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
REDIS_BASE = os.environ.get("PLATETRACE_TEST_REDIS", "redis://127.0.0.1:6379")
# Developers running several suites at once give each its own database number.
REDIS_DB = int(os.environ.get("PLATETRACE_TEST_REDIS_DB", "15"))
TEST_DB = f"platetrace_test_{os.getpid()}"
IN_CI = os.environ.get("CI") == "true"

# Subprocesses (CLI, servers, workers) started by tests inherit these.
os.environ["PLATETRACE_ENVIRONMENT"] = "test"
os.environ["PLATETRACE_SECRET_KEY"] = "test-secret-key-for-the-test-suite-only-0123456789"
os.environ["PLATETRACE_DATABASE_URL"] = f"{SERVER_URL}/{TEST_DB}"
os.environ["PLATETRACE_REDIS_URL"] = f"{REDIS_BASE}/{REDIS_DB}"
os.environ["PLATETRACE_SHARED_DATA_DIR"] = str(SHARED_DATA)


def require_shared_data(path: Path = SHARED_DATA) -> Path:
    """The shared evaluation data, or a skip (a failure in CI) saying what is missing."""
    if not path.exists():
        message = f"shared data not found at {path} (expected ../shared/data beside the project)"
        if IN_CI:
            pytest.fail(message + "; it is required when CI=true")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared_data()


@pytest.fixture(scope="session")
def monaco_pbf() -> Path:
    return require_shared_data(require_shared_data() / "osm" / "monaco.osm.pbf")


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def monaco(monaco_pbf: Path, graph_cache: Path) -> nx.MultiDiGraph:
    """The Monaco road graph, built once per session into a private cache directory."""
    from tracing.graph import load_graph

    return load_graph(monaco_pbf, cache_dir=graph_cache)


def _drop_stale_test_databases(admin: Connection) -> None:
    """Databases left by killed runs: their pid is gone."""
    names = admin.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE 'platetrace\\_test\\_%'")
    ).scalars()
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_engine = create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as admin:
            _drop_stale_test_databases(admin)
            admin.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)'))
            admin.execute(text(f'CREATE DATABASE "{TEST_DB}"'))
    except Exception as exc:  # any failure here means "no usable PostgreSQL"
        pytest.fail(f"PostgreSQL at {SERVER_URL} is required (run scripts/setup.sh): {exc}")
    url = f"{SERVER_URL}/{TEST_DB}"
    from store.migrate import upgrade

    upgrade(url)
    yield url
    with admin_engine.connect() as admin:
        admin.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


def _truncate_all(eng: Engine) -> None:
    with eng.begin() as c:
        tables = c.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version', 'spatial_ref_sys') "
                "AND tablename NOT LIKE 'sightings\\_p%'"
            )
        ).scalars()
        names = ", ".join(tables)
        if names:
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    """For tests whose data must be committed (other processes read it)."""
    _truncate_all(engine)
    yield engine
    _truncate_all(engine)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = f"{REDIS_BASE}/{REDIS_DB}"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is required (run scripts/setup.sh): {exc}")
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
