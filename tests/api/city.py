"""A tiny city for route tests: a 3 x 3 grid of two-way primary roads 500 m apart in
Thủ Đức, written as OSM XML, and cameras on its west and east edges (agency A's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from store.cameras import NewCamera, create_camera
from store.sightings import NewSighting, add_sightings
from store.users import grant_cameras

STEP = 0.0045  # about 500 m
SOUTH, WEST = 10.80, 106.70
PLATE = "51G67890"
COMPANION = "59C11111"
# Two minutes apart: a plausible drive of 1 km between the two cameras.
SEEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def write_osm(path: Path) -> Path:
    nodes = [
        f'  <node id="{r * 3 + c + 1}" lat="{SOUTH + r * STEP:.6f}" lon="{WEST + c * STEP:.6f}"/>'
        for r in range(3)
        for c in range(3)
    ]
    rows = [[r * 3 + c + 1 for c in range(3)] for r in range(3)]
    lines = rows + [list(column) for column in zip(*rows, strict=True)]
    refs = ["".join(f"<nd ref='{n}'/>" for n in line) for line in lines]
    ways = [
        f"  <way id='{100 + i}'>{nds}<tag k='highway' v='primary'/></way>"
        for i, nds in enumerate(refs)
    ]
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    )
    return path


@dataclass(frozen=True)
class Cameras:
    west: int
    east: int


def place_cameras(conn: Connection, agency_id: int) -> Cameras:
    """Cameras at the west and east ends of the middle street; the plate passes west then
    east, twice, with a companion a few seconds behind each time."""
    west = create_camera(
        conn, NewCamera(code="HCM-TD-W01-0101", name="West", lat=SOUTH + STEP, lon=WEST)
    ).id
    east = create_camera(
        conn,
        NewCamera(code="HCM-TD-W01-0102", name="East", lat=SOUTH + STEP, lon=WEST + 2 * STEP),
    ).id
    grant_cameras(conn, agency_id, [west, east])
    passes = [(west, SEEN), (east, SEEN + timedelta(minutes=2))]
    passes += [(c, t + timedelta(hours=1)) for c, t in passes]
    add_sightings(
        conn,
        [
            NewSighting(
                ingest_key=f"city-{plate}-{i}",
                camera_id=camera,
                plate=plate,
                plate_raw=plate,
                country="VN",
                confidence=0.9,
                observed_at=at + timedelta(seconds=lag),
            )
            for plate, lag in ((PLATE, 0), (COMPANION, 4))
            for i, (camera, at) in enumerate(passes)
        ],
    )
    return Cameras(west=west, east=east)
