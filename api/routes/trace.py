"""Trace: the route a plate most likely drove in a time window, from its sightings on the
cameras the caller's agency may use, reconstructed on the city's road graph
(``tracing.routes``). The exports routes serve the same route as files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime
from sqlalchemy import Connection

from api.deps import AppSettings, Audit, DbConn, Investigators, Purpose
from api.ratelimit import SearchRateLimit
from platetrace.settings import Settings
from store.cameras import list_cameras
from store.errors import InvalidInput
from store.sightings import sightings_by_plate
from store.users import Principal, visible_camera_ids
from store.watchlist import PlatePattern
from tracing.cameras import CameraError, CameraSite, attach, hits_from, working_coverage
from tracing.graph import load_graph
from tracing.route_output import route_geojson, route_json
from tracing.routes import Coverage, Route, reconstruct

router = APIRouter(prefix="/trace", tags=["trace"])

MAX_WINDOW = timedelta(days=31)
MAX_HITS = 5000  # a month of one car's sightings is a few hundred

Plate = Annotated[str, Query(max_length=32, description="The plate.", examples=["51F12345"])]
Start = Annotated[AwareDatetime, Query(examples=["2026-11-20T06:00:00+07:00"])]
End = Annotated[AwareDatetime, Query(examples=["2026-11-20T10:00:00+07:00"])]
NOT_TRACEABLE: dict[int | str, dict[str, Any]] = {
    400: {"description": "No purpose, a bad plate or window."},
    404: {"description": "No city map configured, or no sightings of the plate."},
}


@dataclass(frozen=True, slots=True)
class Traced:
    route: Route
    graph: nx.MultiDiGraph
    sightings: int
    off_map: tuple[int, ...]  # cameras that saw the plate but are not on the road graph


@lru_cache(maxsize=1)
def _graph(osm: Path, mtime_ns: int, cache_dir: Path) -> nx.MultiDiGraph:
    del mtime_ns  # part of the key only: a replaced extract is loaded again
    return load_graph(osm, cache_dir=cache_dir)


def city_graph(settings: Settings) -> nx.MultiDiGraph:
    if settings.city_osm is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="no city map configured: set PLATETRACE_CITY_OSM to the city's .osm.pbf",
        )
    osm = settings.city_osm.resolve()
    try:
        return _graph(osm, osm.stat().st_mtime_ns, settings.data_dir.resolve() / "cache")
    except (OSError, ValueError) as exc:  # GraphError is a ValueError
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"the city map cannot be loaded: {exc}"
        ) from exc


# (id, lon, lat, heading) of each online camera, in id order.
OnlineCameras = tuple[tuple[int, float, float, float | None], ...]


@lru_cache(maxsize=16)
def _coverage(graph: nx.MultiDiGraph, online: OnlineCameras) -> Coverage:
    sites: dict[int, CameraSite] = {}
    for camera_id, lon, lat, heading in online:
        try:
            sites[camera_id] = attach(graph, camera_id=camera_id, lon=lon, lat=lat, heading=heading)
        except CameraError:
            continue  # off the map: it watches none of its streets
    return working_coverage(graph, sites, dict.fromkeys(sites, "online"))


def camera_health(conn: Connection, graph: nx.MultiDiGraph, allowed: set[int] | None) -> Coverage:
    """The approaches the caller's online cameras watch: a route past one of them that did
    not see the plate is less likely. Cameras the caller may not use say nothing (their
    sightings are hidden), nor do stale or offline ones. Built once per camera state."""
    online = tuple(
        (c.id, c.lon, c.lat, c.heading)
        for c in list_cameras(conn, status="online")
        if allowed is None or c.id in allowed
    )
    return _coverage(graph, online)


def trace_plate(
    conn: Connection,
    principal: Principal,
    settings: Settings,
    plate: str,
    start: datetime,
    end: datetime,
) -> Traced:
    """Reconstruct ``plate``'s route in ``[start, end)`` from the sightings ``principal`` may
    see; 404 when there are none."""
    pattern = PlatePattern.parse(plate)
    if pattern.kind != "exact":
        raise InvalidInput(f"trace needs one plate, not the pattern {plate!r}")
    if end - start > MAX_WINDOW:
        raise InvalidInput(f"the window is longer than {MAX_WINDOW.days} days")
    graph = city_graph(settings)
    rows = sightings_by_plate(conn, pattern.text, start, end, limit=MAX_HITS)
    visible = visible_camera_ids(conn, principal)
    allowed = None if visible is None else set(visible)
    if allowed is not None:
        rows = [r for r in rows if r.camera_id in allowed]
    sites: dict[int, CameraSite] = {}
    off_map: list[int] = []
    for camera in list_cameras(conn, ids=sorted({r.camera_id for r in rows})):
        try:
            sites[camera.id] = attach(
                graph, camera_id=camera.id, lon=camera.lon, lat=camera.lat, heading=camera.heading
            )
        except CameraError:
            off_map.append(camera.id)
    seen = [(r.camera_id, r.observed_at) for r in rows if r.camera_id in sites]
    if not seen:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no sightings of {pattern.text} on mapped cameras you may use in the window",
        )
    coverage = camera_health(conn, graph, allowed)
    route = reconstruct(graph, hits_from(sites, seen), plate=pattern.text, coverage=coverage)
    return Traced(route=route, graph=graph, sightings=len(seen), off_map=tuple(off_map))


@router.get("", responses={**NOT_TRACEABLE, 200: {"content": {"application/geo+json": {}}}})
def trace(
    plate: Plate,
    start: Start,
    end: End,
    conn: DbConn,
    user: Investigators,
    settings: AppSettings,
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
    fmt: Annotated[
        Literal["json", "geojson"],
        Query(
            alias="format",
            description="`json`: trips and segments; `geojson`: timed lines for a map.",
        ),
    ] = "json",
) -> JSONResponse:
    """The most likely route of a plate in a window (``reason`` and ``case_id`` required):
    trips split at long stops, each segment with its inferred streets and confidence."""
    traced = trace_plate(conn, user, settings, plate, start, end)
    audit.result_count = traced.sightings
    if fmt == "geojson":
        return JSONResponse(
            route_geojson(traced.graph, traced.route), media_type="application/geo+json"
        )
    return JSONResponse({**route_json(traced.route), "cameras_off_map": list(traced.off_map)})
