"""Exports for case files: a traced route as CSV, GeoJSON or KML (Google Earth, QGIS), and a
search's sightings as CSV, streamed page by page so a long list never sits in memory.

Each export is audited like the request it repeats, before the first byte leaves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any, Literal
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Connection

from api.deps import AppSettings, Audit, DbConn, Investigators, Purpose
from api.ratelimit import SearchRateLimit
from api.routes.search import SearchIn, search_query
from api.routes.trace import NOT_TRACEABLE, End, Plate, Start, trace_plate
from store.errors import InvalidInput
from store.search import SearchQuery, search_sightings
from store.users import Principal
from tracing.route_output import route_geojson

router = APIRouter(prefix="/exports", tags=["exports"])

RouteFormat = Literal["csv", "geojson", "kml"]
MEDIA_TYPES: dict[RouteFormat, str] = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}
ROUTE_COLUMNS = ("trip", "kind", "time", "lon", "lat", "camera_id")
SIGHTING_COLUMNS = (
    "id", "observed_at", "plate", "plate_raw", "country", "confidence", "colour",
    "camera_id", "camera_code", "lat", "lon", "evidence_key", "track_id", "distance",
)  # fmt: skip
EXPORT_PAGE = 1000
MAX_EXPORT = 100_000
KML = "http://www.opengis.net/kml/2.2"


def route_rows(collection: dict[str, Any]) -> list[dict[str, Any]]:
    """The route's timed vertices and its camera hits, one row each, by trip and time."""
    rows: list[dict[str, Any]] = []
    for feature in collection["features"]:
        props = feature["properties"]
        if props["kind"] == "route":
            coordinates = feature["geometry"]["coordinates"]
            for (lon, lat), time in zip(coordinates, props["times"], strict=True):
                rows.append({"trip": props["trip"], "kind": "route", "time": time,
                             "lon": lon, "lat": lat, "camera_id": ""})  # fmt: skip
        else:
            lon, lat = feature["geometry"]["coordinates"]
            rows.append({"trip": props["trip"], "kind": "hit", "time": props["observed_at"],
                         "lon": lon, "lat": lat, "camera_id": props["camera_id"]})  # fmt: skip
    return sorted(rows, key=lambda r: (r["trip"], r["time"], r["kind"] == "route"))


def route_csv(collection: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROUTE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(route_rows(collection))
    return out.getvalue()


def route_kml(collection: dict[str, Any]) -> str:
    """One placemark per trip (a line) and per camera hit (a timestamped point)."""
    ET.register_namespace("", KML)
    root = ET.Element(f"{{{KML}}}kml")
    document = ET.SubElement(root, f"{{{KML}}}Document")
    plate = collection["properties"]["plate"]
    ET.SubElement(document, f"{{{KML}}}name").text = f"Route of {plate}"
    ET.SubElement(document, f"{{{KML}}}description").text = collection["properties"]["credit"]
    for feature in collection["features"]:
        props = feature["properties"]
        mark = ET.SubElement(document, f"{{{KML}}}Placemark")
        if props["kind"] == "route":
            ET.SubElement(mark, f"{{{KML}}}name").text = f"trip {props['trip']}"
            span = ET.SubElement(mark, f"{{{KML}}}TimeSpan")
            ET.SubElement(span, f"{{{KML}}}begin").text = props["times"][0]
            ET.SubElement(span, f"{{{KML}}}end").text = props["times"][-1]
            line = ET.SubElement(mark, f"{{{KML}}}LineString")
            ET.SubElement(line, f"{{{KML}}}coordinates").text = " ".join(
                f"{lon},{lat}" for lon, lat in feature["geometry"]["coordinates"]
            )
        else:
            ET.SubElement(mark, f"{{{KML}}}name").text = f"camera {props['camera_id']}"
            stamp = ET.SubElement(mark, f"{{{KML}}}TimeStamp")
            ET.SubElement(stamp, f"{{{KML}}}when").text = props["observed_at"]
            point = ET.SubElement(mark, f"{{{KML}}}Point")
            lon, lat = feature["geometry"]["coordinates"]
            ET.SubElement(point, f"{{{KML}}}coordinates").text = f"{lon},{lat}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _geojson(collection: dict[str, Any]) -> str:
    return json.dumps(collection, separators=(",", ":"))


ConnectionFactory = Callable[[], AbstractContextManager[Connection]]


def stream_connections(request: Request) -> ConnectionFactory:
    """Connections for a response that outlives its request: the request's own connection
    commits (with the audit entry) before the first byte is sent. They come from the API's
    pool, so they run as the API's database role like the request's own."""

    @contextmanager
    def connect() -> Iterator[Connection]:
        with request.app.state.engine.connect() as conn:
            yield conn

    return connect


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/route",
    response_class=Response,
    responses={
        **NOT_TRACEABLE,
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
    },
)
def export_route(
    plate: Plate,
    start: Start,
    end: End,
    conn: DbConn,
    user: Investigators,
    settings: AppSettings,
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
    fmt: Annotated[RouteFormat, Query(alias="format")] = "csv",
) -> Response:
    """A traced route as a file (``reason`` and ``case_id`` required): CSV of timed points,
    GeoJSON, or KML."""
    traced = trace_plate(conn, user, settings, plate, start, end)
    collection = route_geojson(traced.graph, traced.route)
    body = {"csv": route_csv, "kml": route_kml, "geojson": _geojson}[fmt](collection)
    audit.result_count = traced.sightings
    name = f"route-{traced.route.plate}.{fmt}"
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=_attachment(name))


@router.post(
    "/sightings",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV, newest first."},
        400: {"description": "No purpose, a pattern that would scan everything, bad filters."},
    },
)
def export_sightings(
    body: Annotated[SearchIn, Body()],
    conn: DbConn,
    user: Investigators,
    connections: Annotated[ConnectionFactory, Depends(stream_connections)],
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
) -> StreamingResponse:
    """Every sighting a search finds, newest first, as CSV (``reason`` and ``case_id``
    required); at most 100,000. ``limit`` and ``cursor`` of the body are ignored."""
    query = search_query(body)
    counted = search_sightings(conn, user, query, limit=1, count_cap=MAX_EXPORT)
    if counted.total_capped:
        raise InvalidInput(f"more than {MAX_EXPORT} sightings match; narrow the search")
    audit.result_count = counted.total
    audit.params = body.model_dump(mode="json", exclude_none=True)
    rows = _sightings_csv(connections, user, query)
    return StreamingResponse(rows, media_type="text/csv", headers=_attachment("sightings.csv"))


def _sightings_csv(
    connections: ConnectionFactory, user: Principal, query: SearchQuery
) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SIGHTING_COLUMNS)
    yield _drain(out)
    cursor = None
    with connections() as conn:
        while True:
            page = search_sightings(conn, user, query, limit=EXPORT_PAGE, cursor=cursor)
            for hit in page.hits:
                writer.writerow([getattr(hit, name) for name in SIGHTING_COLUMNS])
            yield _drain(out)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
