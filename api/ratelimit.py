"""Per-caller rate limits in Redis: a fixed one-minute window per caller and scope.

A fixed window lets a caller burst up to twice the limit across a window edge; for keeping
bulk history trawls off the search routes that is enough, and it costs one round trip.
"""

from __future__ import annotations

import time
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Request, status

from api.deps import AppSettings, CurrentUser

WINDOW_SECONDS = 60


def hit(client: redis.Redis, key: str, *, limit: int, now: float | None = None) -> int | None:
    """Count one request against ``key``; the seconds to wait when over ``limit``, else None."""
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS)
    bucket = f"platetrace:ratelimit:{key}:{window}"
    pipe = client.pipeline()
    pipe.incr(bucket)
    pipe.expire(bucket, WINDOW_SECONDS * 2)
    count, _ = pipe.execute()
    if int(count) <= limit:
        return None
    return int((window + 1) * WINDOW_SECONDS - moment) + 1


class RateLimit:
    """Dependency limiting each caller to ``settings.search_rate_per_minute`` on ``scope``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: Request, principal: CurrentUser, settings: AppSettings) -> None:
        key = f"{self.scope}:{principal.role.value}:{principal.id}"
        try:
            wait = hit(request.app.state.redis, key, limit=settings.search_rate_per_minute)
        except redis.RedisError as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail="rate limiter unavailable; retry"
            ) from exc
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"rate limit of {settings.search_rate_per_minute} {self.scope} "
                f"requests per minute reached; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )


SearchRateLimit = Annotated[None, Depends(RateLimit("search"))]
