"""The HTTP service: ``create_app(settings)`` wires the routers, limits and error format.

Every error answers ``{"detail": ...}``: a sentence for refusals, FastAPI's list of field
errors for malformed requests (422).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import platetrace
from api.deps import run_as_api_role
from api.routes import (
    alerts,
    analytics,
    audit,
    auth,
    cameras,
    cotravel,
    dashboard,
    exports,
    map,
    search,
    sightings,
    trace,
    users,
    watchlists,
)
from platetrace.settings import Settings, get_settings
from store.db import make_engine
from store.errors import NotFound, StoreError

DESCRIPTION = """
Plate search, vehicle tracing and alerts over a city's camera network.

* **Auth**: `POST /auth/token` (OAuth2 password flow) gives a short-lived bearer token.
  Recognition workers use an API key in `X-API-Key` and may only post sightings and health.
* **Purpose**: requests for personal data need `reason` and `case_id`; without them, 400.
* **Audit**: every request that reads or changes personal data is recorded in a
  tamper-evident log that auditors read at `/audit`.
"""


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with a JSON 413: at once when the declared
    length is too big, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request body larger than {self.max_bytes} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse({"detail": detail}, status.HTTP_413_CONTENT_TOO_LARGE)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=detail)
            return message

        await self.app(scope, limited, send)


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])
    redis: str = Field(examples=["ok"])


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, pool_size=10)
    run_as_api_role(engine, settings)
    redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        redis_client.close()

    app = FastAPI(
        title="platetrace",
        version=platetrace.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.state.settings = settings
    app.state.engine = engine
    app.state.redis = redis_client

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(StoreError)  # InvalidInput and any other refusal of the store
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_400_BAD_REQUEST)

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # Routes bound what they accept; this catches a value the database still refuses.
        return JSONResponse(
            {"detail": "a value is out of range or malformed for the database"},
            status.HTTP_400_BAD_REQUEST,
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log (Starlette re-raises); the client learns nothing.
        return JSONResponse(
            {"detail": "internal server error"}, status.HTTP_500_INTERNAL_SERVER_ERROR
        )

    @app.get("/healthz", tags=["health"], response_model=Health, responses={503: {"model": Health}})
    def healthz() -> JSONResponse:
        """Liveness of the service and its database and Redis; no authentication."""
        checks = {"database": "ok", "redis": "ok"}
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            redis_client.ping()
        except redis.RedisError as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        body = Health(status="ok" if healthy else "degraded", **checks)
        return JSONResponse(
            body.model_dump(),
            status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )

    for module in (
        auth,
        users,
        cameras,
        sightings,
        audit,
        map,
        dashboard,
        search,
        analytics,
        trace,
        exports,
        cotravel,
        alerts,
        watchlists,
    ):
        app.include_router(module.router)
    return app
