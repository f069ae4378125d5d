"""Investigators' sighting search: a plate (exact, wildcard or OCR-fuzzy) and filters, limited to
the cameras the caller may use, newest first, one keyset page at a time.

How each plate kind finds its rows without scanning the table:

* exact: the ``(plate, observed_at)`` B-tree of every day partition in the window;
* wildcard (``?`` one character, ``*`` any run, at least 3 fixed characters): a fixed start
  is a range of the plate B-tree, a fixed end (3 characters or more) a range of the
  reversed-plate B-tree (migration 0008), anything else ``LIKE`` on the trigram index of
  migration 0004; walking back in time from the newest hour, until a page is full;
* fuzzy: no index answers "within OCR distance d", so the query enumerates every plate within
  ``d`` (``plate_neighbourhood``: about 700 plates at distance 1 for an 8-character plate),
  keeps those ``seen_plates`` knows in the window, and looks those few up on the plate B-tree.
  The result is exact: no plate outside the distance is fetched and none inside is missed.

Filters on cameras (a set, an area, the caller's agency) are resolved to camera ids first, so
the sightings query sees one ``camera_id = ANY(...)`` that the planner estimates well.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Integer,
    Row,
    RowMapping,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeEngine

from store.errors import InvalidInput
from store.models import Camera, SeenPlate, Sighting
from store.plate_keys import plate_neighbourhood, prefix_range
from store.users import Principal, camera_filter
from store.watchlist import PlatePattern
from tracing.watch import ocr_distance

COUNT_CAP = 10_000
MAX_PAGE = 10_000
MAX_AREA_VERTICES = 10_000
# Sightings are kept 30 days, longer only under a case hold; a wider window is a typo.
MAX_WINDOW = timedelta(days=366)
_FIRST_SLICE = timedelta(hours=1)
# Shorter fixed ends (``*12?45``) are left to the trigram index: "45" is in 1% of plates.
_MIN_SUFFIX = 3

Area = Polygon | MultiPolygon

_COLUMNS = (
    Sighting.id,
    Sighting.observed_at,
    Sighting.plate,
    Sighting.plate_raw,
    Sighting.country,
    Sighting.confidence,
    Sighting.colour,
    Sighting.colour_confidence,
    Sighting.camera_id,
    Sighting.box,
    Sighting.evidence_key,
    Sighting.track_id,
)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to look for. ``plate`` comes from ``PlatePattern.parse``; ``None`` searches by
    place alone, which then needs ``camera_ids`` or ``area``."""

    start: datetime
    end: datetime
    plate: PlatePattern | None = None
    camera_ids: frozenset[int] | None = None
    area: Area | None = None
    colour: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    observed_at: datetime
    plate: str
    plate_raw: str
    country: str
    confidence: float
    colour: str | None
    colour_confidence: float
    camera_id: int
    camera_code: str
    lat: float
    lon: float
    box: list[int] | None
    evidence_key: str | None
    track_id: str | None
    distance: float  # OCR-aware distance to a fuzzy query; 0 otherwise


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    next_cursor: str | None  # None on the last page
    total: int | None  # on the first page only: all matches, counted up to the cap
    total_capped: bool  # True: there are more than ``total``


def parse_area(geojson: Mapping[str, Any]) -> Area:
    """A GeoJSON Polygon or MultiPolygon in WGS84 longitude/latitude, validated."""
    try:
        geometry = shape(dict(geojson))
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise InvalidInput(f"area is not a GeoJSON geometry: {exc}") from exc
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise InvalidInput(f"area must be a Polygon or MultiPolygon, got {geometry.geom_type}")
    if geometry.is_empty or not geometry.is_valid:
        raise InvalidInput(f"area is not a valid polygon: {shapely.is_valid_reason(geometry)}")
    if shapely.get_num_coordinates(geometry) > MAX_AREA_VERTICES:
        raise InvalidInput(f"area has more than {MAX_AREA_VERTICES} vertices")
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise InvalidInput("area coordinates must be longitude, latitude in degrees (WGS84)")
    return geometry


def encode_cursor(observed_at: datetime, sighting_id: int) -> str:
    raw = f"{observed_at.isoformat()}|{sighting_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a cursor stands for; ``InvalidInput`` for anything this module did not
    issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, sighting_id = raw.split("|")
        at = datetime.fromisoformat(moment)
        position = (at, int(sighting_id))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("cursor is not one this service issued") from exc
    if at.tzinfo is None:
        raise InvalidInput("cursor is not one this service issued")
    return position


def search_sightings(
    conn: Connection,
    principal: Principal,
    query: SearchQuery,
    *,
    limit: int = 100,
    cursor: str | None = None,
    count_cap: int = COUNT_CAP,
) -> SearchPage:
    """One page of the sightings ``query`` finds among the cameras ``principal`` may use."""
    _validate(query, limit=limit)
    after = decode_cursor(cursor) if cursor is not None else None
    conditions = _conditions(conn, principal, query)
    if conditions is None:
        return SearchPage(
            hits=(), next_cursor=None, total=0 if after is None else None, total_capped=False
        )

    upper = query.end
    if after is not None:
        conditions += [
            Sighting.observed_at <= after[0],  # lets the planner prune later day partitions
            tuple_(Sighting.observed_at, Sighting.id) < tuple_(*after),
        ]
        upper = min(upper, after[0] + timedelta(microseconds=1))
    if query.plate is not None and query.plate.kind != "wildcard":
        # The plate B-tree returns each plate's rows in time order: one query is a merge.
        rows = _page(conn, conditions, limit + 1)
    else:
        rows = _page_by_slices(conn, conditions, limit + 1, start=query.start, end=upper)
    more = len(rows) > limit
    hits = tuple(_hit(r._mapping, query.plate) for r in rows[:limit])
    next_cursor = encode_cursor(hits[-1].observed_at, hits[-1].id) if more else None

    total: int | None = None
    capped = False
    if after is None:
        if more:
            # Only columns the indexes hold (plate, observed_at, camera_id): the count is an
            # index-only scan, without a heap read per match.
            counted = (
                select(Sighting.observed_at).where(*conditions).limit(count_cap + 1).subquery()
            )
            total = conn.execute(select(func.count()).select_from(counted)).scalar_one()
            capped = total > count_cap
            total = min(total, count_cap)
        else:
            total = len(hits)
    return SearchPage(hits=hits, next_cursor=next_cursor, total=total, total_capped=capped)


def _page(
    conn: Connection, conditions: Sequence[ColumnElement[bool]], limit: int
) -> list[Row[Any]]:
    page = (
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(Sighting.observed_at.desc(), Sighting.id.desc())
        .limit(limit)
    )
    return list(conn.execute(_with_camera(page)).all())


def _page_by_slices(
    conn: Connection,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    start: datetime,
    end: datetime,
) -> list[Row[Any]]:
    """The newest ``limit`` rows, in time slices walked backwards from ``end``: the newest hour
    first, each next slice twice as long as the one before.

    No index returns wildcard or area matches in time order; sorting all matches of a month
    costs as many reads as there are matches (350,000 for ``51F*`` in 100 million rows), and a
    time index tempts the planner into walking backwards through millions of rows for a rare
    pattern it misjudges as common. A slice is sorted whole, so a page reads at most about
    twice the matches it needs after the first hour (a day of ``51F*`` at 100 million rows is
    10,000 matches, its newest hour 400), and a rare pattern costs a dozen small queries for a
    month.
    """
    rows: list[Row[Any]] = []
    upper, span = end, _FIRST_SLICE
    while upper > start and len(rows) < limit:
        lower = max(start, upper - span)
        within = [Sighting.observed_at >= lower, Sighting.observed_at < upper]
        rows += _page(conn, [*conditions, *within], limit - len(rows))
        upper, span = lower, span * 2
    return rows


def _validate(query: SearchQuery, *, limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"page size must be within 1-{MAX_PAGE}, got {limit}")
    if query.start.tzinfo is None or query.end.tzinfo is None:
        raise InvalidInput("start and end must carry a time zone")
    if query.end <= query.start:
        raise InvalidInput("the window must end after it starts")
    if query.end - query.start > MAX_WINDOW:
        raise InvalidInput(f"the window is longer than {MAX_WINDOW.days} days")
    if query.plate is None and query.camera_ids is None and query.area is None:
        # Everything everywhere is a trawl, not an investigation.
        raise InvalidInput("give a plate, or narrow the search to cameras or an area")
    if query.camera_ids is not None and not query.camera_ids:
        raise InvalidInput("the camera set must not be empty")


def _conditions(
    conn: Connection, principal: Principal, query: SearchQuery
) -> list[ColumnElement[bool]] | None:
    """The WHERE clause of ``query``; ``None`` when nothing can match."""
    conditions = [Sighting.observed_at >= query.start, Sighting.observed_at < query.end]
    if query.camera_ids is None and query.area is None:
        conditions.append(camera_filter(principal, Sighting.camera_id))
    else:
        cameras = _cameras(conn, principal, query)
        if not cameras:
            return None
        conditions.append(Sighting.camera_id.in_(_unnest("cameras", cameras, Integer())))
    if query.plate is not None:
        plate = _plate_condition(conn, query.plate, start=query.start, end=query.end)
        if plate is None:
            return None
        conditions.append(plate)
    if query.colour is not None:
        conditions.append(Sighting.colour == query.colour.strip().lower())
    if query.country is not None:
        conditions.append(Sighting.country == query.country.strip().upper())
    return conditions


def _cameras(conn: Connection, principal: Principal, query: SearchQuery) -> list[int]:
    """The ids of the cameras in the query's set and area that ``principal`` may use."""
    cameras = select(Camera.id).where(camera_filter(principal, Camera.id)).order_by(Camera.id)
    if query.camera_ids is not None:
        cameras = cameras.where(Camera.id.in_(sorted(query.camera_ids)))
    if query.area is not None:
        area = func.ST_GeomFromText(query.area.wkt, 4326)
        cameras = cameras.where(func.ST_Intersects(Camera.location, area))
    return list(conn.execute(cameras).scalars())


def _plate_condition(
    conn: Connection, pattern: PlatePattern, *, start: datetime, end: datetime
) -> ColumnElement[bool] | None:
    if pattern.kind == "exact":
        return Sighting.plate == pattern.text
    if pattern.kind == "wildcard":
        # Plates hold only capitals and digits, so LIKE's own metacharacters cannot occur.
        like = Sighting.plate.like(pattern.text.replace("?", "_").replace("*", "%"))
        prefix = re.split(r"[?*]", pattern.text, maxsplit=1)[0]
        if prefix:
            # A fixed start is a range of the plate B-tree. Trigrams serve it badly: the padded
            # first trigrams of ``51F%`` ("  5", " 51") occur in most plates of the city.
            return _starting_with(Sighting.plate, prefix, like, only=pattern.text == prefix + "*")
        suffix = re.split(r"[?*]", pattern.text)[-1]
        if len(suffix) >= _MIN_SUFFIX:
            # A fixed end is a range of the reversed-plate B-tree (migration 0008). Each
            # trigram of ``*1234`` occurs in ~1% of plates: counting a month's matches read
            # every day partition's posting lists (0.2-1.4 s at 100 million rows).
            reversed_plate = func.reverse(Sighting.plate, type_=String())
            return _starting_with(
                reversed_plate, suffix[::-1], like, only=pattern.text == "*" + suffix
            )
        return like
    # Most plates of the neighbourhood were never seen; ``seen_plates`` names the few that were
    # (one probe per plate in one small index, instead of one per plate per day partition), so
    # the page query gets a short list the planner estimates well.
    neighbourhood = sorted(plate_neighbourhood(pattern.text, pattern.max_distance))
    seen = select(SeenPlate.plate).where(
        SeenPlate.plate == any_(bindparam("plates", neighbourhood, ARRAY(String()))),
        SeenPlate.last_day >= start.astimezone(UTC).date(),
        SeenPlate.first_day <= end.astimezone(UTC).date(),
    )
    plates = list(conn.execute(seen).scalars())
    return Sighting.plate.in_(plates) if plates else None


def _starting_with(
    column: ColumnElement[str] | InstrumentedAttribute[str],
    start: str,
    like: ColumnElement[bool],
    *,
    only: bool,
) -> ColumnElement[bool]:
    """``column`` starts with ``start`` as a B-tree range; ``like`` on top unless the range
    is the ``only`` condition: then LIKE would make the planner expect far fewer rows than
    there are, and sort them all instead of stopping at the newest day."""
    low, high = prefix_range(start)
    bounds = [column >= low] + ([column < high] if high else [])
    return and_(*bounds) if only else and_(like, *bounds)


def _unnest(name: str, values: Sequence[Any], item: TypeEngine[Any]) -> Select[Any]:
    """``values`` as rows of a sub-select, for ``IN``: the planner joins them instead of
    estimating each of hundreds of values in every day partition (hundreds of milliseconds)."""
    return select(func.unnest(bindparam(name, list(values), ARRAY(item))))


def _with_camera(page: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The page joined to its cameras' codes and positions, in the page's order."""
    s = page.subquery()
    return (
        select(
            s,
            Camera.code.label("camera_code"),
            func.ST_Y(Camera.location).label("lat"),
            func.ST_X(Camera.location).label("lon"),
        )
        .join(Camera, Camera.id == s.c.camera_id)
        .order_by(s.c.observed_at.desc(), s.c.id.desc())
    )


def _hit(row: RowMapping, pattern: PlatePattern | None) -> SearchHit:
    plate: str = row["plate"]
    return SearchHit(
        id=row["id"],
        observed_at=row["observed_at"],
        plate=plate,
        plate_raw=row["plate_raw"],
        country=row["country"],
        confidence=row["confidence"],
        colour=row["colour"],
        colour_confidence=row["colour_confidence"],
        camera_id=row["camera_id"],
        camera_code=row["camera_code"],
        lat=row["lat"],
        lon=row["lon"],
        box=row["box"],
        evidence_key=row["evidence_key"],
        track_id=row["track_id"],
        distance=ocr_distance(pattern.text, plate) if pattern and pattern.kind == "fuzzy" else 0.0,
    )
