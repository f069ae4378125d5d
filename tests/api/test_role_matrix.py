"""Every route of the app × every caller: allowed ones get through, the others 403, no
credentials 401. The routes come from the app's own route table (hidden ones included), so a
new route fails ``test_every_route_has_a_row`` until its allowed roles are in ``ALLOWED``.

Routes with a ready-made request in ``REQUESTS`` must succeed (2xx) for every allowed caller;
for the others the matrix checks the gate only (not 401/403, and never a 5xx).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from api.main import create_app
from store.users import Role
from tests.api.conftest import PASSWORD, PEOPLE, PURPOSE, World, png_bytes

A, I, D, O, U, S = (  # noqa: E741 - one letter per role keeps the table readable
    Role.ADMIN,
    Role.INVESTIGATOR,
    Role.DISPATCHER,
    Role.OPERATOR,
    Role.AUDITOR,
    Role.SERVICE,
)
PUBLIC: frozenset[Role] | None = None

ALLOWED: dict[str, frozenset[Role] | None] = {
    "GET /healthz": PUBLIC,
    "POST /auth/token": PUBLIC,
    "GET /auth/me": frozenset(Role),
    "GET /users": frozenset({A}),
    "POST /users": frozenset({A}),
    "GET /users/{user_id}": frozenset({A}),
    "PATCH /users/{user_id}": frozenset({A}),
    "GET /agencies": frozenset({A}),
    "POST /agencies": frozenset({A}),
    "GET /agencies/{agency_id}/cameras": frozenset({A}),
    "POST /agencies/{agency_id}/cameras": frozenset({A}),
    "DELETE /agencies/{agency_id}/cameras/{camera_id}": frozenset({A}),
    "GET /api-keys": frozenset({A}),
    "POST /api-keys": frozenset({A}),
    "DELETE /api-keys/{key_id}": frozenset({A}),
    "GET /cameras": frozenset({A, I, D, O}),
    "POST /cameras": frozenset({A, O}),
    "GET /cameras/{camera_id}": frozenset({A, I, D, O}),
    "PATCH /cameras/{camera_id}": frozenset({A, O}),
    "DELETE /cameras/{camera_id}": frozenset({A, O}),
    "POST /cameras/{camera_id}/health": frozenset({A, O, S}),
    "POST /cameras/import": frozenset({A, O}),
    "POST /sightings": frozenset({A, S}),
    "POST /sightings/evidence": frozenset({A, S}),
    "GET /sightings/{sighting_id}": frozenset({A, I}),
    "GET /sightings/{sighting_id}/evidence": frozenset({A, I}),
    "GET /audit": frozenset({A, U}),
    "GET /audit/verify": frozenset({A, U}),
    "GET /map/roads": frozenset({A, I, D, O}),
    "GET /map/cameras": frozenset({A, I, D, O}),
    "POST /search": frozenset({A, I}),
    "GET /analytics/sightings-per-hour": frozenset({A, I, D, O}),
    "GET /analytics/cameras": frozenset({A, I, D, O}),
    "GET /trace": frozenset({A, I}),
    "GET /exports/route": frozenset({A, I}),
    "POST /exports/sightings": frozenset({A, I}),
    "GET /cotravel": frozenset({A, I}),
    "POST /stakeout": frozenset({A, I}),
    "GET /alerts/stream": frozenset({A, D}),
    "GET /alerts": frozenset({A, D}),
    "GET /alerts/{alert_id}": frozenset({A, D}),
    "GET /alerts/{alert_id}/evidence": frozenset({A, D}),
    "POST /alerts/{alert_id}/acknowledge": frozenset({A, D}),
    "POST /alerts/{alert_id}/assign": frozenset({A, D}),
    "POST /alerts/{alert_id}/close": frozenset({A, D}),
    "POST /watchlist": frozenset({A, I}),
    "GET /watchlist": frozenset({A, I, D}),
    "GET /watchlist/{entry_id}": frozenset({A, I, D}),
    "PATCH /watchlist/{entry_id}": frozenset({A, I}),
    "POST /watchlist/{entry_id}/expire": frozenset({A, I}),
    # The dashboard's shell and assets; everything it shows comes through the routes above.
    "GET /": PUBLIC,
    "GET /dashboard": PUBLIC,
    "GET /dashboard/{asset:path}": PUBLIC,
}

# Routes into past sightings: search, routes, co-travel, stakeouts, their exports.
HISTORY_ROUTES = {"search", "trace", "cotravel", "stakeout", "exports"}

Request = Callable[[World], dict[str, Any]]
DAY = {"start": "2026-11-20T00:00:00Z", "end": "2026-11-21T00:00:00Z"}


def _sighting(world: World) -> dict[str, Any]:
    return {
        "ingest_key": "matrix-1",
        "camera_id": world.camera_a,
        "plate": "59A99999",
        "plate_raw": "59A-999.99",
        "country": "VN",
        "confidence": 0.8,
        "observed_at": "2026-01-02T03:04:05+07:00",
    }


REQUESTS: dict[str, Request] = {
    "GET /healthz": lambda w: {},
    "POST /auth/token": lambda w: {"data": {"username": "investigator", "password": PASSWORD}},
    "GET /auth/me": lambda w: {},
    "GET /users": lambda w: {},
    "POST /users": lambda w: {
        "json": {
            "username": "new.user",
            "password": "a long enough password",
            "role": "investigator",
            "agency_id": w.agency_a,
        }
    },
    "GET /users/{user_id}": lambda w: {},
    "PATCH /users/{user_id}": lambda w: {"json": {"active": False}},
    "GET /agencies": lambda w: {},
    "POST /agencies": lambda w: {"json": {"code": "PC-NEW", "name": "New agency"}},
    "GET /agencies/{agency_id}/cameras": lambda w: {},
    "POST /agencies/{agency_id}/cameras": lambda w: {"json": {"camera_ids": [w.camera_b]}},
    "DELETE /agencies/{agency_id}/cameras/{camera_id}": lambda w: {},
    "GET /api-keys": lambda w: {},
    "POST /api-keys": lambda w: {"json": {"name": "worker"}},
    "DELETE /api-keys/{key_id}": lambda w: {},
    "GET /cameras": lambda w: {},
    "POST /cameras": lambda w: {
        "json": {"code": "HCM-TD-W07-0077", "name": "New", "lat": 10.8, "lon": 106.7}
    },
    "GET /cameras/{camera_id}": lambda w: {},
    "PATCH /cameras/{camera_id}": lambda w: {"json": {"name": "Renamed"}},
    "DELETE /cameras/{camera_id}": lambda w: {"path": {"camera_id": w.camera_idle}},
    "POST /cameras/{camera_id}/health": lambda w: {"json": {"status": "online"}},
    "POST /cameras/import": lambda w: {
        "files": {"file": ("c.csv", b"code,name,lat,lon\nHCM-TD-W07-0099,Imported,10.8,106.7\n")}
    },
    "POST /sightings": lambda w: {"json": {"sightings": [_sighting(w)]}},
    "POST /sightings/evidence": lambda w: {"files": {"file": ("e.png", png_bytes("red"))}},
    "GET /sightings/{sighting_id}": lambda w: {},
    "GET /sightings/{sighting_id}/evidence": lambda w: {},
    "GET /audit": lambda w: {},
    "GET /audit/verify": lambda w: {},
    "POST /search": lambda w: {
        "json": {"plate": w.plate, "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}
    },
    "GET /analytics/sightings-per-hour": lambda w: {"params": DAY},
    "GET /analytics/cameras": lambda w: {"params": DAY},
    "POST /exports/sightings": lambda w: {
        "json": {"plate": w.plate, "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}
    },
    "GET /cotravel": lambda w: {"params": {"plate": w.plate, **DAY}},
    "GET /alerts/stream": lambda w: {},
    "GET /alerts": lambda w: {},
    "GET /watchlist": lambda w: {},
    "POST /watchlist": lambda w: {
        "json": {"pattern": "51F*", "reason": "stolen vehicle", "legal_basis": "HCM-2026-0042"}
    },
    "POST /stakeout": lambda w: {
        "json": {"windows": [{"cameras": [w.camera_a], **DAY}]},
    },
}

CALLERS = {**{name: role for name, (role, _) in PEOPLE.items()}, "service": Role.SERVICE}
CALLERS.pop("investigator-b")
ROUTES = sorted(
    f"{method} {context.path}"
    for context in iter_route_contexts(create_app().routes)
    if isinstance(context.route, APIRoute)
    for method in context.methods or ()
)
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def path_params(world: World) -> dict[str, int]:
    return {
        "camera_id": world.camera_a,
        "user_id": world.users["investigator"],
        "agency_id": world.agency_a,
        "key_id": world.service_key_id,
        "sighting_id": world.sighting_a,
    }


def call(
    client: TestClient, conn: Connection, world: World, route: str, who: str
) -> tuple[int, str]:
    """One request in a savepoint that is rolled back, so callers don't disturb each other."""
    method, template = route.split(" ", 1)
    spec = REQUESTS[route](world) if route in REQUESTS else {}
    values = {**path_params(world), **spec.pop("path", {})}
    url = _PARAM.sub(lambda m: str(values.get(m.group(1), 1)), template)
    params = {**PURPOSE, **spec.pop("params", {})}
    savepoint = conn.begin_nested()
    try:
        with client.stream(method, url, params=params, headers=world.headers[who], **spec) as r:
            # An event stream never ends: its first event is enough to know it was let in.
            if r.headers.get("content-type", "").startswith("text/event-stream"):
                return r.status_code, next(r.iter_text())
            return r.status_code, r.read().decode(errors="replace")
    finally:
        savepoint.rollback()


def test_every_route_has_a_row() -> None:
    assert set(ROUTES) - set(ALLOWED) == set(), "routes without allowed roles in ALLOWED"
    assert set(ALLOWED) - set(ROUTES) == set(), "rows in ALLOWED for routes that are gone"


@pytest.mark.parametrize("route", ROUTES)
def test_route_admits_exactly_its_roles(
    route: str, client: TestClient, conn: Connection, world: World
) -> None:
    allowed = ALLOWED.get(route, frozenset())
    for who, role in CALLERS.items():
        status, body = call(client, conn, world, route, who)
        assert status < 500, f"{route} as {who}: {status} {body}"
        if allowed is None or role in allowed:
            if route in REQUESTS:
                assert 200 <= status < 300, f"{route} as {who}: {status} {body}"
            else:
                assert status not in (401, 403), f"{route} as {who}: {status} {body}"
        else:
            assert status == 403, f"{route} as {who} should be forbidden: {status} {body}"
            assert "may not" in body
    status, body = call(client, conn, world, route, "anonymous")
    if allowed is None:
        assert status not in (401, 403), f"{route} without credentials: {status} {body}"
    else:
        assert status == 401, f"{route} without credentials: {status} {body}"


def test_dispatchers_cannot_search_history() -> None:
    # The matrix above proves each row; these rows are the promise.
    history = [r for r in ALLOWED if r.split()[1].split("/")[1] in HISTORY_ROUTES]
    assert history, "the history routes are gone from the table"
    for route in history:
        assert D not in (ALLOWED[route] or frozenset(Role)), route


def test_auditors_reach_nothing_but_the_audit_log() -> None:
    for route, roles in ALLOWED.items():
        if roles is not None and U in roles:
            assert route.split()[1].startswith("/audit") or route == "GET /auth/me", route
