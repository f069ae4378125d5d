"""Per-caller rate limits in Redis: a sliding one-minute window per caller and scope.

Each admitted request is a member of a sorted set scored by its time, so "the last 60
seconds" is exact (no double burst at a fixed window's edge) and the wait is known to the
second. Refused requests are not counted: backing off is always enough to get back in.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Request, status

from api.deps import AppSettings, CurrentUser

WINDOW_SECONDS = 60


def hit(client: redis.Redis, key: str, *, limit: int, now: float | None = None) -> int | None:
    """Count one request against ``key``; the seconds to wait when over ``limit``, else None."""
    moment = time.time() if now is None else now
    bucket = f"platetrace:ratelimit:{key}"
    member = f"{moment:.6f}:{secrets.token_hex(4)}"
    pipe = client.pipeline()  # MULTI: the trim, add and count see the same set
    pipe.zremrangebyscore(bucket, "-inf", moment - WINDOW_SECONDS)
    pipe.zadd(bucket, {member: moment})
    pipe.zcard(bucket)
    pipe.zrange(bucket, 0, 0, withscores=True)
    pipe.expire(bucket, WINDOW_SECONDS)
    _, _, count, oldest, _ = pipe.execute()
    if int(count) <= limit:
        return None
    client.zrem(bucket, member)
    return max(1, math.ceil(float(oldest[0][1]) + WINDOW_SECONDS - moment))


def enforce(request: Request, key: str, *, limit: int, what: str) -> None:
    """Count one request against ``key``: 429 over ``limit`` a minute, 503 without Redis."""
    try:
        wait = hit(request.app.state.redis, key, limit=limit)
    except redis.RedisError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="rate limiter unavailable; retry"
        ) from exc
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit of {limit} {what} per minute reached; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


class RateLimit:
    """Dependency limiting each caller to ``settings.search_rate_per_minute`` on ``scope``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: Request, principal: CurrentUser, settings: AppSettings) -> None:
        key = f"{self.scope}:{principal.role.value}:{principal.id}"
        limit = settings.search_rate_per_minute
        enforce(request, key, limit=limit, what=f"{self.scope} requests")


SearchRateLimit = Annotated[None, Depends(RateLimit("search"))]
