from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from store.cameras import NewCamera, create_cameras
from store.errors import InvalidInput
from store.models import SeenPlate
from store.search import (
    SearchQuery,
    decode_cursor,
    encode_cursor,
    parse_area,
    search_sightings,
)
from store.sightings import NewSighting, add_sightings
from store.users import Principal, Role, create_agency, grant_cameras
from store.watchlist import PlatePattern

NOW = datetime.now(UTC).replace(microsecond=0)
ADMIN = Principal(id=1, name="root", role=Role.ADMIN, agency_id=None)
# Two cameras in District 1, one in Thủ Đức.
CAMERAS = [
    NewCamera(code="HCM-D01-W01-0001", name="Lê Lợi", lat=10.7745, lon=106.7010),
    NewCamera(code="HCM-D01-W02-0002", name="Nguyễn Huệ", lat=10.7740, lon=106.7035),
    NewCamera(code="HCM-TD-W07-0012", name="Võ Văn Ngân", lat=10.8500, lon=106.7700),
]
DISTRICT_1 = {
    "type": "Polygon",
    "coordinates": [
        [[106.69, 10.76], [106.71, 10.76], [106.71, 10.79], [106.69, 10.79], [106.69, 10.76]]
    ],
}


@pytest.fixture
def cams(conn: Connection) -> list[int]:
    return [c.id for c in create_cameras(conn, CAMERAS)]


def sighting(
    camera_id: int, plate: str, minutes_ago: int, *, colour: str = "white", country: str = "VN"
) -> NewSighting:
    return NewSighting(
        ingest_key=f"{camera_id}-{plate}-{minutes_ago}",
        camera_id=camera_id,
        plate=plate,
        plate_raw=plate,
        country=country,
        confidence=0.9,
        observed_at=NOW - timedelta(minutes=minutes_ago),
        colour=colour,
    )


def query(plate: str | None = None, distance: float = 0.0, **filters: Any) -> SearchQuery:
    pattern = PlatePattern.parse(plate, max_distance=distance) if plate else None
    window = SearchQuery(start=NOW - timedelta(days=30), end=NOW + timedelta(minutes=1))
    return replace(window, plate=pattern, **filters)


def plates(conn: Connection, q: SearchQuery, who: Principal = ADMIN) -> list[str]:
    return [h.plate for h in search_sightings(conn, who, q, limit=1000).hits]


def test_exact_wildcard_and_fuzzy_find_what_they_should(conn: Connection, cams: list[int]) -> None:
    add_sightings(
        conn,
        [
            sighting(cams[0], "51F12345", 10),
            sighting(cams[1], "51F12345", 5),
            sighting(cams[0], "51F1234S", 3),  # OCR read S for 5: distance 0.5
            sighting(cams[0], "51F12346", 4),  # one real substitution: distance 1
            sighting(cams[0], "51F12B46", 6),  # two edits: outside distance 1
            sighting(cams[2], "29A99999", 7),
        ],
    )
    assert plates(conn, query("51F12345")) == ["51F12345", "51F12345"]
    assert plates(conn, query("51F-123.45")) == ["51F12345", "51F12345"]  # separators ignored
    assert set(plates(conn, query("51F*"))) == {"51F12345", "51F1234S", "51F12346", "51F12B46"}
    assert plates(conn, query("51F1234?")) == ["51F1234S", "51F12346", "51F12345", "51F12345"]
    assert plates(conn, query("*999*")) == ["29A99999"]
    assert plates(conn, query("*2345")) == ["51F12345", "51F12345"]  # fixed end: reversed
    assert plates(conn, query("*2?46")) == ["51F12346", "51F12B46"]
    assert plates(conn, query("*F12B46")) == ["51F12B46"]

    page = search_sightings(conn, ADMIN, query("51F12345", distance=1), limit=10)
    assert [(h.plate, h.distance) for h in page.hits] == [
        ("51F1234S", 0.5),
        ("51F12346", 1.0),
        ("51F12345", 0.0),
        ("51F12345", 0.0),
    ]
    assert page.total == 4
    assert page.hits[0].camera_code == "HCM-D01-W01-0001"
    assert page.hits[0].lat == pytest.approx(10.7745)


def test_filters_narrow_by_time_cameras_area_colour_and_country(
    conn: Connection, cams: list[int]
) -> None:
    add_sightings(
        conn,
        [
            sighting(cams[0], "51F12345", 10, colour="white"),
            sighting(cams[1], "51F12345", 20, colour="red"),
            sighting(cams[2], "51F12345", 30, colour="white"),
            sighting(cams[2], "51F12345", 60 * 24 * 3, country="KH"),
        ],
    )
    q = query("51F12345")
    assert len(plates(conn, q)) == 4
    recent = replace(q, start=NOW - timedelta(hours=1))
    assert len(plates(conn, recent)) == 3
    by_camera = [
        h.camera_id
        for h in search_sightings(conn, ADMIN, replace(q, camera_ids=frozenset({cams[2]}))).hits
    ]
    assert by_camera == [cams[2], cams[2]]
    in_area = search_sightings(conn, ADMIN, replace(q, area=parse_area(DISTRICT_1))).hits
    assert [h.camera_id for h in in_area] == [cams[0], cams[1]]
    assert len(plates(conn, replace(q, colour="RED"))) == 1
    assert len(plates(conn, replace(q, country="kh"))) == 1
    # Place alone, no plate: everything seen by the cameras of the area.
    assert len(plates(conn, query(area=parse_area(DISTRICT_1)))) == 2


def test_agency_sees_only_its_cameras(conn: Connection, cams: list[int]) -> None:
    police = create_agency(conn, code="HCM-PD1", name="District 1 police")
    other = create_agency(conn, code="HCM-TD", name="Thủ Đức police")
    grant_cameras(conn, police.id, cams[:2])
    add_sightings(conn, [sighting(c, "51F12345", i + 1) for i, c in enumerate(cams)])
    d1 = Principal(id=2, name="lan", role=Role.INVESTIGATOR, agency_id=police.id)
    td = Principal(id=3, name="minh", role=Role.INVESTIGATOR, agency_id=other.id)

    seen = search_sightings(conn, d1, query("51F12345")).hits
    assert {h.camera_id for h in seen} == set(cams[:2])
    # Asking for a camera of another agency by id finds nothing rather than its sightings.
    assert plates(conn, query("51F12345", camera_ids=frozenset({cams[2]})), d1) == []
    page = search_sightings(conn, td, query("51F12345"))
    assert page.hits == () and page.total == 0


def test_pages_walk_every_match_once_newest_first(conn: Connection, cams: list[int]) -> None:
    # Several sightings share a timestamp, so the cursor must break ties by id.
    add_sightings(
        conn,
        [replace(sighting(cams[i % 3], "51F12345", i // 4), ingest_key=f"k{i}") for i in range(23)],
    )
    seen: list[int] = []
    cursor = None
    first = search_sightings(conn, ADMIN, query("51F12345"), limit=5)
    assert first.total == 23 and not first.total_capped
    for _ in range(10):
        page = search_sightings(conn, ADMIN, query("51F12345"), limit=5, cursor=cursor)
        assert (page.total is None) == (cursor is not None)  # counted on the first page only
        seen += [h.id for h in page.hits]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 23
    stamps = search_sightings(conn, ADMIN, query("51F12345"), limit=23).hits
    assert [h.id for h in stamps] == seen
    assert all(a.observed_at >= b.observed_at for a, b in itertools.pairwise(stamps))

    capped = search_sightings(conn, ADMIN, query("51F12345"), limit=5, count_cap=10)
    assert capped.total == 10 and capped.total_capped


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (replace(query("51F12345"), start=NOW, end=NOW), "end after it starts"),
        (replace(query("51F12345"), start=NOW - timedelta(days=400)), "longer than 366"),
        (query(), "give a plate"),
        (query("51F12345", camera_ids=frozenset()), "must not be empty"),
        (replace(query("51F12345"), start=NOW.replace(tzinfo=None)), "time zone"),
    ],
)
def test_bad_queries_are_refused_with_a_reason(
    conn: Connection, bad: SearchQuery, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        search_sightings(conn, ADMIN, bad)


def test_bad_cursor_and_page_size_are_refused(conn: Connection) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        search_sightings(conn, ADMIN, query("51F12345"), cursor="not-a-cursor")
    with pytest.raises(InvalidInput, match="page size"):
        search_sightings(conn, ADMIN, query("51F12345"), limit=0)
    moment = datetime(2026, 11, 21, 8, 15, 3, 120000, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)


@pytest.mark.parametrize(
    ("geojson", "reason"),
    [
        ({"type": "Point", "coordinates": [106.7, 10.77]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon"}, "not a GeoJSON geometry"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "not a valid polygon",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [200, 1], [0, 0]]]},
            "WGS84",
        ),
    ],
)
def test_bad_areas_are_refused(geojson: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_area(geojson)


@pytest.mark.parametrize("pattern", ["51F*", "51F?234*", None])
def test_pages_walk_back_through_the_days_newest_first(
    conn: Connection, cams: list[int], pattern: str | None
) -> None:
    # Two sightings a day for a week, plus a plate no pattern above matches.
    add_sightings(
        conn,
        [sighting(cams[0], f"51F{d}2345", d * 1440 + m) for d in range(7) for m in (5, 600)]
        + [sighting(cams[0], "29A99999", 30)],
    )
    q = query(pattern) if pattern else query(area=parse_area(DISTRICT_1))
    expected = 15 if pattern is None else 14
    seen: list[datetime] = []
    cursor = None
    while True:
        page = search_sightings(conn, ADMIN, q, limit=3, cursor=cursor)
        seen += [h.observed_at for h in page.hits]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == expected
    assert seen == sorted(seen, reverse=True)


def test_fuzzy_candidates_come_from_seen_plates_which_every_write_keeps(
    conn: Connection, cams: list[int]
) -> None:
    def seen(plate: str) -> tuple[date, date] | None:
        row = conn.execute(
            select(SeenPlate.first_day, SeenPlate.last_day).where(SeenPlate.plate == plate)
        ).first()
        return None if row is None else (row.first_day, row.last_day)

    day = timedelta(days=1)
    add_sightings(conn, [sighting(cams[0], "51F12345", 0), sighting(cams[1], "51F12345", 0)])
    assert seen("51F12345") == (NOW.date(), NOW.date())
    add_sightings(conn, [sighting(cams[0], "51F12345", 3 * 24 * 60)])  # three days ago
    assert seen("51F12345") == (NOW.date() - 3 * day, NOW.date())
    # Seen three days ago and today, so a candidate for yesterday; the page finds nothing.
    yesterday = SearchQuery(
        start=NOW - 2 * day, end=NOW - day, plate=PlatePattern.parse("51F1234S", max_distance=1)
    )
    assert plates(conn, yesterday) == []
    assert plates(conn, replace(yesterday, start=NOW - 4 * day)) == ["51F12345"]
