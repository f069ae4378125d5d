"""Investigators' search over sightings: a plate (exact, wildcard, OCR-fuzzy) and filters.

The query travels in the body (an area is a GeoJSON polygon, too big for a URL); the purpose
(``reason``, ``case_id``) in the query string like every other personal-data request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.deps import MAX_INT4, AppSettings, Audit, DbConn, Investigators, Purpose
from api.ratelimit import SearchRateLimit
from store.search import SearchHit, SearchQuery, parse_area, search_sightings
from store.watchlist import MAX_DISTANCE, PlatePattern

router = APIRouter(prefix="/search", tags=["search"])

MAX_CAMERAS = 5000


class AreaIn(BaseModel):
    """A GeoJSON Polygon or MultiPolygon, longitude/latitude (WGS84)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class SearchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "plate": "51F*",
                    "start": "2026-11-01T00:00:00+07:00",
                    "end": "2026-11-21T00:00:00+07:00",
                    "colour": "white",
                },
                {
                    "plate": "51F12345",
                    "max_distance": 1,
                    "start": "2026-11-01T00:00:00+07:00",
                    "end": "2026-11-21T00:00:00+07:00",
                },
                {
                    "start": "2026-11-20T18:00:00+07:00",
                    "end": "2026-11-20T20:00:00+07:00",
                    "area": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [106.69, 10.76],
                                [106.71, 10.76],
                                [106.71, 10.79],
                                [106.69, 10.79],
                                [106.69, 10.76],
                            ]
                        ],
                    },
                },
            ]
        },
    )

    plate: str | None = Field(
        default=None,
        max_length=32,
        description="A plate (`51F12345`), or a wildcard with `?` (one character) and `*` "
        "(any run) and at least 3 fixed characters (`51F*`, `*123?5`). Separators are ignored.",
    )
    max_distance: float = Field(
        default=0,
        ge=0,
        le=MAX_DISTANCE,
        description="Above 0: fuzzy search within this OCR-aware distance (a confusion such as "
        "O/0 or B/8 costs 0.5, any other edit 1). Up to 1 in practice.",
    )
    start: AwareDatetime
    end: AwareDatetime
    cameras: list[Annotated[int, Field(ge=1, le=MAX_INT4)]] | None = Field(
        default=None, min_length=1, max_length=MAX_CAMERAS, description="Camera ids."
    )
    area: AreaIn | None = None
    colour: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,16}$", examples=["white"])
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", examples=["VN"])
    limit: int = Field(default=100, ge=1, description="Page size (at most the server's cap).")
    cursor: str | None = Field(
        default=None, max_length=256, description="`next_cursor` of the previous page."
    )


class HitOut(BaseModel):
    id: int
    observed_at: datetime
    plate: str = Field(examples=["51F12345"])
    plate_raw: str = Field(examples=["51F-123.45"])
    country: str
    confidence: float
    colour: str | None
    colour_confidence: float
    camera_id: int
    camera_code: str = Field(examples=["HCM-TD-W07-0012"])
    lat: float
    lon: float
    box: list[int] | None
    evidence_key: str | None
    track_id: str | None
    distance: float = Field(description="OCR-aware distance to a fuzzy query; 0 otherwise.")

    @classmethod
    def of(cls, hit: SearchHit) -> HitOut:
        return cls(**{name: getattr(hit, name) for name in cls.model_fields})


class SearchOut(BaseModel):
    hits: list[HitOut]
    next_cursor: str | None = Field(description="Send it back for the next page; null at the end.")
    total: int | None = Field(
        description="All matches, counted up to a cap; on the first page only.", examples=[137]
    )
    total_capped: bool = Field(description="True: there are more than `total` (show `10000+`).")


def search_query(body: SearchIn) -> SearchQuery:
    """The store's query for a request; ``InvalidInput`` (400) for patterns and areas it
    refuses."""
    return SearchQuery(
        start=body.start,
        end=body.end,
        plate=PlatePattern.parse(body.plate, max_distance=body.max_distance)
        if body.plate is not None
        else None,
        camera_ids=frozenset(body.cameras) if body.cameras is not None else None,
        area=parse_area(body.area.model_dump()) if body.area is not None else None,
        colour=body.colour,
        country=body.country,
    )


@router.post(
    "",
    responses={
        400: {"description": "No purpose, a pattern that would scan everything, bad filters."},
        429: {"description": "Too many searches this minute."},
    },
)
def search(
    body: Annotated[SearchIn, Body()],
    conn: DbConn,
    user: Investigators,
    settings: AppSettings,
    _purpose: Purpose,
    _limit: SearchRateLimit,
    audit: Audit,
) -> SearchOut:
    """Sightings matching a plate and filters, newest first, on the cameras the caller's
    agency may use (``reason`` and ``case_id`` required)."""
    if body.limit > settings.max_page_size:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail=f"limit must be at most {settings.max_page_size}"
        )
    query = search_query(body)
    page = search_sightings(conn, user, query, limit=body.limit, cursor=body.cursor)
    audit.result_count = len(page.hits)
    audit.params = body.model_dump(mode="json", exclude_none=True)
    return SearchOut(
        hits=[HitOut.of(h) for h in page.hits],
        next_cursor=page.next_cursor,
        total=page.total,
        total_capped=page.total_capped,
    )
