"""What the dashboard's map draws, from our own data: the city's roads and its cameras.

The road layer comes from the same OpenStreetMap extract as route tracing (``city_osm``),
so the map needs no tile server and works on a closed network. Streets are merged into one
MultiLineString per road class and simplified to about five metres: a few hundred kilobytes
that a canvas draws at once, instead of tens of thousands of separate map objects.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
from fastapi import APIRouter, HTTPException, Request, Response, status
from shapely import LineString
from sqlalchemy import JSON, Connection, Text, cast, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from api.deps import AppSettings, DbConn, Staff
from store.models import Camera
from store.users import Principal, camera_filter
from tracing.graph import ODBL_CREDIT, ROAD_RANK, file_sha256, load_graph

router = APIRouter(prefix="/map", tags=["map"])

_LAYER_VERSION = 1
# Links ("primary_link") rank as their road; the rest of the minor classes draw as residential.
_MINOR_RANK = 1


class MapError(ValueError):
    """The road layer cannot be built from what was given."""


def _rank(highway: str) -> int:
    return ROAD_RANK.get(highway.removesuffix("_link"), _MINOR_RANK)


def road_features(
    graph: nx.MultiDiGraph, *, tolerance_deg: float = 5e-5, digits: int = 5
) -> dict[str, Any]:
    """The streets of ``graph`` as a GeoJSON FeatureCollection, one feature per road class.

    Both directions of a two-way street are drawn once. ``tolerance_deg`` is the
    Douglas–Peucker tolerance (5e-5° is about 5 m) and ``digits`` the decimals kept.
    """
    if tolerance_deg < 0:
        raise MapError(f"tolerance must not be negative, got {tolerance_deg}")
    if not 0 <= digits <= 7:
        raise MapError(f"digits must be within [0, 7], got {digits}")
    if graph.number_of_edges() == 0:
        raise MapError("the road graph has no edges")
    drawn: set[tuple[int, int]] = set()
    lines: dict[str, list[list[list[float]]]] = {}
    for u, v, data in graph.edges(data=True):
        pair = (min(u, v), max(u, v))
        if pair in drawn:
            continue
        drawn.add(pair)
        line = LineString(data["geometry"])
        # Zero keeps every point: shapely would still drop collinear ones.
        shape = line.simplify(tolerance_deg, preserve_topology=False) if tolerance_deg else line
        coords = [[round(x, digits), round(y, digits)] for x, y in shape.coords]
        lines.setdefault(data["highway"], []).append(coords)
    # Minor roads first, so the canvas paints the main roads over them.
    order = sorted(lines, key=lambda h: (_rank(h), h))
    xs = [float(x) for _, x in graph.nodes(data="x")]
    ys = [float(y) for _, y in graph.nodes(data="y")]
    return {
        "type": "FeatureCollection",
        "bbox": [round(v, digits) for v in (min(xs), min(ys), max(xs), max(ys))],
        "properties": {"credit": ODBL_CREDIT, "source": graph.graph.get("source", "")},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": lines[highway]},
                "properties": {"highway": highway, "rank": _rank(highway)},
            }
            for highway in order
        ],
    }


@dataclass(frozen=True, slots=True)
class RoadLayer:
    gzipped: bytes  # the GeoJSON, compressed once: it is served as is
    etag: str


def build_road_layer(
    osm: Path, *, cache_dir: Path, graph: nx.MultiDiGraph | None = None
) -> RoadLayer:
    """The road layer of ``osm``, from the disk cache when this exact file was drawn before.

    ``graph``, the road graph of ``osm`` when the caller already holds it, saves loading it
    again. Called before serving (``platetrace demo``), it spares the first page the drawing.
    """
    if not osm.is_file():
        raise MapError(f"OSM file not found: {osm}")
    digest = file_sha256(osm)
    cached = cache_dir / f"roads-v{_LAYER_VERSION}-{digest}.geojson.gz"
    etag = f'"roads-{_LAYER_VERSION}-{digest[:16]}"'
    if cached.is_file():
        return RoadLayer(gzipped=cached.read_bytes(), etag=etag)
    features = road_features(graph if graph is not None else load_graph(osm, cache_dir=cache_dir))
    body = gzip.compress(json.dumps(features, separators=(",", ":")).encode(), mtime=0)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".tmp")
    partial.write_bytes(body)
    partial.replace(cached)  # atomic: another worker never reads half a file
    return RoadLayer(gzipped=body, etag=etag)


_drawing = threading.Lock()


@lru_cache(maxsize=4)
def _cached_layer(osm: Path, mtime_ns: int, cache_dir: Path) -> RoadLayer:
    # mtime_ns is part of the key so a replaced extract is drawn again.
    del mtime_ns
    return build_road_layer(osm, cache_dir=cache_dir)


def _send(request: Request, body: bytes, *, etag: str | None = None) -> Response:
    """``body`` (gzip) compressed to clients that accept it, plain to the rest."""
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if etag:
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/geo+json", headers=headers)
    return Response(gzip.decompress(body), media_type="application/geo+json", headers=headers)


@router.get(
    "/roads",
    response_class=Response,
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "Roads by class."},
        404: {"description": "No city map is configured (PLATETRACE_CITY_OSM)."},
    },
)
def roads(request: Request, _: Staff, settings: AppSettings) -> Response:
    """The city's streets as GeoJSON, one MultiLineString per road class (OSM, ODbL)."""
    if settings.city_osm is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="no city map configured: set PLATETRACE_CITY_OSM to the city's .osm.pbf",
        )
    osm = settings.city_osm.resolve()
    try:
        # Requests run on a thread pool: the first ones after a start would each draw the
        # layer (seconds of CPU) without the lock; later ones hold it for a cache lookup.
        with _drawing:
            layer = _cached_layer(
                osm, osm.stat().st_mtime_ns, settings.data_dir.resolve() / "cache"
            )
    except (OSError, ValueError) as exc:  # GraphError and MapError are ValueErrors
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"the city map cannot be drawn: {exc}"
        ) from exc
    return _send(request, layer.gzipped, etag=layer.etag)


def camera_collection(conn: Connection, principal: Principal) -> bytes:
    """The cameras ``principal`` may use as a GeoJSON FeatureCollection, built by PostgreSQL:
    for thousands of cameras about five times faster than rows through Python objects."""
    properties = func.json_build_object(
        "code",
        Camera.code,
        "name",
        Camera.name,
        "status",
        Camera.status,
        # Codes are CITY-DISTRICT-WARD-NUMBER (enforced by the database).
        "district",
        func.split_part(Camera.code, "-", 2),
        "ward",
        func.split_part(Camera.code, "-", 3),
        "heading",
        Camera.heading,
        "last_frame_at",
        Camera.last_frame_at,
    )
    feature = func.json_build_object(
        "type",
        "Feature",
        "id",
        Camera.id,
        "geometry",
        cast(func.ST_AsGeoJSON(Camera.location, 6), JSON),
        "properties",
        properties,
    )
    features = func.coalesce(func.json_agg(aggregate_order_by(feature, Camera.id)), text("'[]'"))
    query = select(cast(features, Text)).where(camera_filter(principal, Camera.id))
    body: str = conn.execute(query).scalar_one()
    return f'{{"type":"FeatureCollection","features":{body}}}'.encode()


@router.get(
    "/cameras",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}, "description": "Cameras."}},
)
def cameras(request: Request, conn: DbConn, principal: Staff) -> Response:
    """Every camera the caller may use, with its health, as one GeoJSON FeatureCollection.

    The map needs all of them at once; the paged ``/cameras`` would take a request per page.
    """
    # Level 1: on a local network the time to compress matters more than the last bytes.
    return _send(request, gzip.compress(camera_collection(conn, principal), compresslevel=1))
