"""Engine construction. Repositories take a ``Connection``; the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine

from platetrace.settings import get_settings


def make_engine(url: str | None = None, *, pool_size: int = 5) -> Engine:
    return create_engine(
        url or get_settings().database_url,
        pool_size=pool_size,
        pool_pre_ping=True,
        future=True,
    )
