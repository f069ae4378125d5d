"""Engine construction. Repositories take a ``Connection``; the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine

from platetrace.settings import get_settings


def make_engine(url: str | None = None, *, pool_size: int = 5, pre_ping: bool = True) -> Engine:
    """``pre_ping=False`` saves a round trip per checkout, for a caller that retries on its
    own when a pooled connection turns out dead (the ingest worker)."""
    return create_engine(
        url or get_settings().database_url,
        pool_size=pool_size,
        pool_pre_ping=pre_ping,
        future=True,
    )
