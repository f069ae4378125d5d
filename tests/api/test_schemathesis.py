"""Property-based requests from the OpenAPI document, as an admin: no response may be a 5xx or
contradict the schema it documents. Bounded and derandomized, so CI sees the same cases."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Connection

from api.main import create_app
from platetrace.settings import Settings
from tests.api.conftest import World, on_test_transaction

# The schema is read at collection, so the app is built here (settings from the environment
# the root conftest prepared); each test routes it into its own transaction below.
APP = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="platetrace-schemathesis-"))))
# The coverage phase's boundary cases are unbounded by max_examples (80+ for some routes), which
# costs minutes here; hypothesis's own generation already leans to boundary values.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
# The alert stream never ends, and a generated call reads the whole body.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    path="/alerts/stream"
)


@pytest.fixture(autouse=True)
def _isolated(conn: Connection, redis_client: redis.Redis) -> Iterator[None]:
    with on_test_transaction(APP, conn):
        yield


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case[Any], world: World, conn: Connection
) -> None:
    savepoint = conn.begin_nested()  # every generated call starts from the same world
    try:
        response = case.call(headers=world.headers["admin"])
    finally:
        savepoint.rollback()
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
