"""Cameras on the road graph: which approach each one watches, and realistic layouts.

A camera watches one *approach*: the directed edge ``from_node → node`` on which vehicles arrive
at an intersection, and its heading is that direction of travel (compass degrees). A camera
without a heading watches its node from every side.

Codes follow ``CITY-DISTRICT-WARD-NUMBER``. OSM admin boundaries are not part of the road
extract, so district and ward come from a grid over the graph's bounding box: districts are
2 km squares ``D01``, ``D02``, … numbered row by row from the south-west corner, wards the
500 m squares inside them, ``W01``–``W16``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from tracing.graph import ROAD_RANK, bearing_deg, haversine_m, road_rank
from tracing.routes import Coverage, camera_coverage
from tracing.travel import Approach, Hit

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from store.cameras import CameraRow

Strategy = Literal["intersections", "arterials"]
STRATEGIES: tuple[Strategy, ...] = ("intersections", "arterials")
ARTERIAL_RANK = ROAD_RANK["secondary"]
DISTRICT_M = 2000.0
WARD_M = 500.0
# Spacing between chosen intersections, relaxed pass by pass until enough are found: major
# intersections spread over the whole city first, then denser.
_SPACINGS_M = (800.0, 400.0, 200.0, 100.0, 0.0)


class CameraError(ValueError):
    """A camera that cannot be placed on the graph (too far from any road, bad heading)."""


@dataclass(frozen=True, slots=True)
class CameraSite:
    """Where a camera sits on the graph: the node it watches and the approach, if known."""

    camera_id: int
    node: int
    from_node: int | None = None

    @property
    def approach(self) -> Approach | None:
        return None if self.from_node is None else (self.from_node, self.node)


@dataclass(frozen=True, slots=True)
class PlannedCamera:
    """A camera of a generated layout, ready for ``store.cameras.NewCamera``."""

    code: str
    name: str
    lat: float
    lon: float
    heading: float
    node: int
    from_node: int


@dataclass(frozen=True)
class _Points:
    nodes: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


_POINTS: weakref.WeakKeyDictionary[nx.MultiDiGraph, _Points] = weakref.WeakKeyDictionary()


def _points(graph: nx.MultiDiGraph) -> _Points:
    cached = _POINTS.get(graph)
    if cached is None:
        nodes = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
        lon = np.array([graph.nodes[n]["x"] for n in nodes], dtype=np.float64)
        lat = np.array([graph.nodes[n]["y"] for n in nodes], dtype=np.float64)
        cached = _POINTS[graph] = _Points(nodes, lon, lat)
    return cached


def nearest_node(graph: nx.MultiDiGraph, lon: float, lat: float) -> tuple[int, float]:
    """The graph node closest to a point, and its distance in metres."""
    pts = _points(graph)
    # Equirectangular is exact enough to rank nodes within a city.
    dx = (pts.lon - lon) * math.cos(math.radians(lat))
    best = int(np.argmin(dx * dx + (pts.lat - lat) ** 2))
    node = int(pts.nodes[best])
    return node, haversine_m(lon, lat, float(pts.lon[best]), float(pts.lat[best]))


def approach_bearing(graph: nx.MultiDiGraph, from_node: int, node: int) -> float:
    """Direction of travel on ``from_node → node`` as it reaches ``node``."""
    geometry = min(graph[from_node][node].values(), key=lambda d: d["travel_time"])["geometry"]
    return bearing_deg(*geometry[-2], *geometry[-1])


def _angle(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def attach(
    graph: nx.MultiDiGraph,
    *,
    camera_id: int,
    lon: float,
    lat: float,
    heading: float | None = None,
    max_distance_m: float = 75.0,
    heading_tolerance: float = 50.0,
) -> CameraSite:
    """Attach a camera at a point, looking along ``heading``, to the approach it watches."""
    if heading is not None and not (math.isfinite(heading) and 0 <= heading < 360):
        raise CameraError(f"camera {camera_id}: heading must be within [0, 360), got {heading}")
    node, distance = nearest_node(graph, lon, lat)
    if distance > max_distance_m:
        raise CameraError(
            f"camera {camera_id} at ({lat:.6f}, {lon:.6f}) is {distance:.0f} m from the nearest "
            f"road node (more than {max_distance_m:.0f} m): outside the map?"
        )
    if heading is None:
        return CameraSite(camera_id, node)
    options = [(_angle(approach_bearing(graph, u, node), heading), u) for u in graph.pred[node]]
    angle, from_node = min(options)
    if angle > heading_tolerance:
        raise CameraError(
            f"camera {camera_id}: no road reaches node {node} within {heading_tolerance:.0f}° "
            f"of heading {heading:.0f}° (closest {angle:.0f}° off)"
        )
    return CameraSite(camera_id, node, from_node)


def watched_approaches(graph: nx.MultiDiGraph, sites: Iterable[CameraSite]) -> dict[Approach, int]:
    """Every approach some camera watches, to its camera (for ``routes.reconstruct``)."""
    out: dict[Approach, int] = {}
    for site in sites:
        sources = [site.from_node] if site.from_node is not None else list(graph.pred[site.node])
        for u in sources:
            out.setdefault((u, site.node), site.camera_id)
    return out


def _rank(graph: nx.MultiDiGraph, u: int, v: int) -> int:
    return max(road_rank(d["highway"]) for d in graph[u][v].values())


def _importance(graph: nx.MultiDiGraph, node: int) -> tuple[int, int, int]:
    """Major-crosses-major first, then the number of roads meeting, then the id (stable)."""
    ranks = sorted(
        (_rank(graph, u, node) for u in graph.pred[node]),
        reverse=True,
    )
    return (ranks[0] + ranks[1], len(set(graph.pred[node]) | set(graph.succ[node])), -node)


def is_intersection(graph: nx.MultiDiGraph, node: int) -> bool:
    return len(set(graph.pred[node]) | set(graph.succ[node])) >= 3 and len(graph.pred[node]) >= 2


def rank_intersections(
    graph: nx.MultiDiGraph, *, strategy: Strategy = "intersections"
) -> list[int]:
    """Intersections in the order cameras go up: major ones first, spread over the city."""
    if strategy not in STRATEGIES:
        raise CameraError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    nodes = [n for n in graph.nodes if is_intersection(graph, n)]
    if strategy == "arterials":
        nodes = [
            n for n in nodes if any(_rank(graph, u, n) >= ARTERIAL_RANK for u in graph.pred[n])
        ]
    nodes.sort(key=lambda n: _importance(graph, n), reverse=True)
    metres = {n: _metres(graph, n) for n in nodes}
    chosen: list[int] = []
    for spacing in _SPACINGS_M:
        cell = max(spacing, 1.0)
        grid: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for n in chosen:
            x, y = metres[n]
            grid.setdefault((int(x // cell), int(y // cell)), []).append((x, y))
        picked = set(chosen)
        for n in nodes:
            if n in picked:
                continue
            x, y = metres[n]
            cx, cy = int(x // cell), int(y // cell)
            near = (
                p for i in (-1, 0, 1) for j in (-1, 0, 1) for p in grid.get((cx + i, cy + j), ())
            )
            if spacing and any(math.hypot(x - px, y - py) < spacing for px, py in near):
                continue
            chosen.append(n)
            grid.setdefault((cx, cy), []).append((x, y))
    return chosen


def _metres(graph: nx.MultiDiGraph, node: int) -> tuple[float, float]:
    """Local metric coordinates, good for spacing within one city."""
    lon, lat = graph.nodes[node]["x"], graph.nodes[node]["y"]
    return lon * 111_320.0 * math.cos(math.radians(lat)), lat * 110_574.0


def approaches(graph: nx.MultiDiGraph, node: int, *, strategy: Strategy) -> list[int]:
    """The roads (their far nodes) that reach ``node``, most important first."""
    sources = sorted(graph.pred[node], key=lambda u: (-_rank(graph, u, node), u))
    if strategy == "arterials":
        sources = [u for u in sources if _rank(graph, u, node) >= ARTERIAL_RANK]
    return sources


def grid_code(graph: nx.MultiDiGraph, lon: float, lat: float) -> tuple[str, str]:
    """District and ward of a point on the documented 2 km / 500 m grid."""
    pts = _points(graph)
    west, south = float(pts.lon.min()), float(pts.lat.min())
    east_m = haversine_m(west, lat, lon, lat)
    north_m = haversine_m(lon, south, lon, lat)
    width = haversine_m(west, south, float(pts.lon.max()), south)
    columns = max(1, math.ceil(width / DISTRICT_M))
    district = int(north_m // DISTRICT_M) * columns + int(east_m // DISTRICT_M) + 1
    per_side = int(DISTRICT_M // WARD_M)
    ward = int((north_m % DISTRICT_M) // WARD_M) * per_side + int((east_m % DISTRICT_M) // WARD_M)
    return f"D{district:02d}", f"W{ward + 1:02d}"


def _compass(heading: float) -> str:
    return ("north", "east", "south", "west")[int(((heading + 45.0) % 360.0) // 90.0)]


def _street(graph: nx.MultiDiGraph, u: int, v: int) -> str:
    return str(min(graph[u][v].values(), key=lambda d: d["travel_time"])["name"] or "unnamed road")


def cameras_at(
    graph: nx.MultiDiGraph,
    nodes: Sequence[int],
    *,
    city: str,
    strategy: Strategy = "intersections",
    limit: int | None = None,
) -> list[PlannedCamera]:
    """One camera per approach of each intersection, in order, up to ``limit`` cameras."""
    planned: list[PlannedCamera] = []
    for node in nodes:
        lon, lat = float(graph.nodes[node]["x"]), float(graph.nodes[node]["y"])
        district, ward = grid_code(graph, lon, lat)
        for u in approaches(graph, node, strategy=strategy):
            if limit is not None and len(planned) >= limit:
                return planned
            number = len(planned) + 1
            if number > 9999:
                raise CameraError("camera numbers run out at 9999 per city")
            heading = round(approach_bearing(graph, u, node), 1) % 360.0
            planned.append(
                PlannedCamera(
                    code=f"{city}-{district}-{ward}-{number:04d}",
                    name=f"{_street(graph, u, node)}, {_compass(heading)}bound",
                    lat=lat,
                    lon=lon,
                    heading=heading,
                    node=node,
                    from_node=u,
                )
            )
    return planned


def place_cameras(
    graph: nx.MultiDiGraph,
    *,
    count: int,
    city: str,
    strategy: Strategy = "intersections",
) -> list[PlannedCamera]:
    """A realistic layout of ``count`` cameras: the busiest intersections first, spread out."""
    if count < 1:
        raise CameraError(f"count must be at least 1, got {count}")
    if not (2 <= len(city) <= 4 and city.isalpha() and city.isupper()):
        raise CameraError(f"city code must be 2-4 capital letters, got {city!r}")
    planned = cameras_at(
        graph,
        rank_intersections(graph, strategy=strategy),
        city=city,
        strategy=strategy,
        limit=count,
    )
    if len(planned) < count:
        raise CameraError(
            f"the map has room for only {len(planned)} cameras with strategy {strategy!r}"
        )
    return planned


def coverage_sites(
    graph: nx.MultiDiGraph, share: float, *, ranked: Sequence[int] | None = None
) -> list[CameraSite]:
    """Cameras on every approach of the top ``share`` of intersections, numbered from 1.

    ``ranked`` is ``rank_intersections(graph)`` when the caller already has it (it takes
    seconds on a city).
    """
    if not 0 < share <= 1:
        raise CameraError(f"coverage must be within (0, 1], got {share}")
    order = rank_intersections(graph) if ranked is None else ranked
    total = sum(1 for n in graph if is_intersection(graph, n))
    sites: list[CameraSite] = []
    for node in order[: round(total * share)]:
        for u in sorted(graph.pred[node]):
            sites.append(CameraSite(len(sites) + 1, node, u))
    return sites


def sites_of(planned: Sequence[PlannedCamera], ids: Sequence[int]) -> list[CameraSite]:
    """Planned cameras as sites, once the store (or a file) has given them ids."""
    if len(planned) != len(ids):
        raise CameraError(f"{len(planned)} cameras but {len(ids)} ids")
    return [CameraSite(i, p.node, p.from_node) for p, i in zip(planned, ids, strict=True)]


def save_layout(conn: Connection, planned: Sequence[PlannedCamera]) -> list[CameraRow]:
    """Create the planned cameras in the store (the caller owns the transaction)."""
    from store.cameras import NewCamera, create_cameras

    cams = [
        NewCamera(p.code, p.name, p.lat, p.lon, heading=p.heading, graph_node=p.node)
        for p in planned
    ]
    return create_cameras(conn, cams)


def layout_geojson(planned: Sequence[PlannedCamera], *, credit: str) -> dict[str, object]:
    """A layout as GeoJSON points, as ``cameras place --out`` writes it."""
    return {
        "type": "FeatureCollection",
        "properties": {"credit": credit},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "code": p.code,
                    "name": p.name,
                    "heading": p.heading,
                    "node": p.node,
                    "from_node": p.from_node,
                },
            }
            for p in planned
        ],
    }


def hits_from(sites: Mapping[int, CameraSite], seen: Iterable[tuple[int, datetime]]) -> list[Hit]:
    """``(camera_id, observed_at)`` pairs (e.g. sighting rows) as hits for reconstruction."""
    hits = []
    for camera_id, observed_at in seen:
        site = sites.get(camera_id)
        if site is None:
            raise CameraError(f"camera {camera_id} is not on the map (unknown or not attached)")
        hits.append(Hit(camera_id, site.node, observed_at, site.from_node))
    return hits


class _Located(Protocol):
    """A stored camera, as ``store.cameras.CameraRow`` gives it."""

    @property
    def id(self) -> int: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def heading(self) -> float | None: ...


def attach_all(graph: nx.MultiDiGraph, cameras: Iterable[_Located]) -> dict[int, CameraSite]:
    """Sites of stored cameras by id; the first one off the map raises ``CameraError``."""
    return {
        c.id: attach(graph, camera_id=c.id, lon=c.lon, lat=c.lat, heading=c.heading)
        for c in cameras
    }


def working_coverage(
    graph: nx.MultiDiGraph, sites: Mapping[int, CameraSite], statuses: Mapping[int, str]
) -> Coverage:
    """What ``routes.reconstruct`` may assume about silent cameras: only ``online`` ones count.

    A stale or offline camera may have seen the vehicle without reporting, so passing it
    unseen says nothing. Build this once per camera-state change, not per query.
    """
    online = [site for camera_id, site in sites.items() if statuses.get(camera_id) == "online"]
    return camera_coverage(graph, watched_approaches(graph, online))
