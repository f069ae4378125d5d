from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from api.main import create_app
from platetrace.settings import Settings


def test_every_pooled_connection_runs_as_the_api_role(app: FastAPI) -> None:
    for _ in range(2):  # the second checkout reuses the connection after the pool's rollback
        with app.state.engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == "platetrace_api"
            with pytest.raises(ProgrammingError, match="must be owner"):
                conn.execute(text("DROP TABLE sightings"))


def test_without_an_api_role_the_pool_keeps_the_login_role(api_settings: Settings) -> None:
    app = create_app(api_settings.model_copy(update={"api_db_role": None}))
    try:
        with app.state.engine.connect() as conn:
            assert conn.execute(text("SELECT current_user = session_user")).scalar_one()
    finally:
        app.state.engine.dispose()
