"""The drivable road graph of a city, built from an OpenStreetMap extract and cached on disk.

Nodes carry ``x`` (longitude) and ``y`` (latitude). Each directed edge carries ``length`` (m),
``speed_kph`` (free flow), ``travel_time`` (s), ``highway`` (the OSM class), ``name`` and
``geometry``: the ``(lon, lat)`` points from ``u`` to ``v`` inclusive, so chains of degree-2
nodes can be merged into one edge without losing the shape of the street.
"""

from __future__ import annotations

import gc
import hashlib
import math
import pickle
import re
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

ODBL_CREDIT = "Map data © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"

# Free-flow speeds (km/h) when a way has no usable ``maxspeed``. They are Vietnamese urban
# limits rounded down for a dense city of motorbikes: free flow is what an empty street allows;
# congestion is left to the route fit, which expects real travel to be slower than this.
DEFAULT_SPEED_KPH: dict[str, float] = {
    "motorway": 80.0,
    "trunk": 60.0,
    "primary": 50.0,
    "secondary": 45.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 15.0,
    "service": 20.0,
    "road": 30.0,
}
for _cls in ("motorway", "trunk", "primary", "secondary", "tertiary"):
    DEFAULT_SPEED_KPH[f"{_cls}_link"] = DEFAULT_SPEED_KPH[_cls] * 0.75

# Service ways are mostly parking aisles and driveways: routing through them invents
# shortcuts no investigator would believe, so they are left out unless asked for.
DRIVABLE = frozenset(DEFAULT_SPEED_KPH) - {"service"}

# Higher is more important: used to rank intersections and to weight trip origins.
ROAD_RANK: dict[str, int] = {
    "motorway": 6,
    "trunk": 5,
    "primary": 4,
    "secondary": 3,
    "tertiary": 2,
    "unclassified": 1,
    "residential": 1,
    "road": 1,
}


def road_rank(highway: str) -> int:
    """Importance of an OSM highway class, links counting as their road."""
    return ROAD_RANK.get(highway.removesuffix("_link"), 0)


# Zone defaults as tagged in OSM ("VN:urban"); anything else unknown falls back to the class.
_ZONE_KPH = {"urban": 50.0, "rural": 80.0, "motorway": 120.0, "living_street": 20.0}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?")
_EARTH_RADIUS_M = 6_371_008.8
_CACHE_VERSION = 1


class GraphError(ValueError):
    """The OSM file cannot give a usable road graph (missing, unreadable or without roads)."""


def parse_maxspeed(value: str | None, highway: str) -> float:
    """Free-flow speed in km/h from an OSM ``maxspeed`` value, or the class default."""
    default = DEFAULT_SPEED_KPH.get(highway, 30.0)
    if not value:
        return default
    text = value.strip().lower()
    if ":" in text:
        return _ZONE_KPH.get(text.split(":", 1)[1], default)
    # "50;30" and "50 km/h" alike: the first number counts, in its unit.
    match = _NUMBER.search(text)
    if match is None:
        return default
    speed = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
    return speed if 5.0 <= speed <= 150.0 else default


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Initial compass bearing from the first point to the second, 0–360, north = 0."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360.0


def oneway_direction(tags: Any, highway: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = (tags.get("oneway") or "").lower()
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value == "no":
        return 0
    implied = highway in ("motorway", "motorway_link") or tags.get("junction") in (
        "roundabout",
        "circular",
    )
    return 1 if implied else 0


def _line_length(points: Sequence[tuple[float, float]]) -> float:
    return sum(haversine_m(*a, *b) for a, b in pairwise(points))


def _read_ways(path: Path, classes: frozenset[str]) -> nx.MultiDiGraph:
    import osmium

    graph = nx.MultiDiGraph()
    ways = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    )
    for way in ways:
        if not isinstance(way, osmium.osm.Way):
            continue
        highway = way.tags.get("highway", "")
        if highway not in classes or way.tags.get("area") == "yes":
            continue
        if way.tags.get("access") in ("no", "private") or way.tags.get("motor_vehicle") == "no":
            continue
        refs: list[int] = []
        points: list[tuple[float, float]] = []
        for node in way.nodes:
            if not node.location.valid():
                continue  # clipped extract: the way continues outside the file
            if refs and refs[-1] == node.ref:
                continue
            refs.append(node.ref)
            points.append((node.lon, node.lat))
        direction = oneway_direction(way.tags, highway)
        speed = parse_maxspeed(way.tags.get("maxspeed"), highway)
        attrs = {"highway": highway, "name": way.tags.get("name", ""), "speed_kph": speed}
        for ref, (lon, lat) in zip(refs, points, strict=True):
            graph.add_node(ref, x=lon, y=lat)
        for i in range(len(refs) - 1):
            segment = (points[i], points[i + 1])
            length = haversine_m(*segment[0], *segment[1])
            if direction >= 0:
                graph.add_edge(refs[i], refs[i + 1], length=length, geometry=segment, **attrs)
            if direction <= 0:
                back = (segment[1], segment[0])
                graph.add_edge(refs[i + 1], refs[i], length=length, geometry=back, **attrs)
    return graph


def _is_interior(graph: nx.MultiDiGraph, node: int) -> bool:
    """A node that only continues one street: two-way through node or one-way through node."""
    preds, succs = set(graph.predecessors(node)), set(graph.successors(node))
    if node in preds or graph.in_degree(node) != graph.out_degree(node):
        return False
    if len(preds | succs) != 2:
        return False
    return graph.in_degree(node) in (1, 2) and (len(preds) == len(succs))


def _simplify(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Merge chains of interior nodes into single edges that keep the full geometry."""
    simple = nx.MultiDiGraph()
    ends = [n for n in graph.nodes if not _is_interior(graph, n)]
    for node in ends:
        simple.add_node(node, **graph.nodes[node])
    for start in ends:
        for _, first, data in graph.out_edges(start, data=True):
            points = list(data["geometry"])
            chain = [data]
            prev, node = start, first
            while node != start and _is_interior(graph, node):
                nxt = next(n for n in graph.successors(node) if n != prev)
                edge = min(graph[node][nxt].values(), key=lambda d: d["length"])
                points.extend(edge["geometry"][1:])
                chain.append(edge)
                prev, node = node, nxt
            if node == start:
                continue  # a loop that leads nowhere else
            main = max(chain, key=lambda d: d["length"])
            length = _line_length(points)
            time = sum(d["length"] / (d["speed_kph"] / 3.6) for d in chain)
            simple.add_edge(
                start,
                node,
                length=length,
                travel_time=time,
                speed_kph=length / time * 3.6 if time else main["speed_kph"],
                highway=main["highway"],
                name=main["name"],
                geometry=tuple(points),
            )
    return simple


def build_graph(path: Path, *, include_service: bool = False) -> nx.MultiDiGraph:
    """Parse ``path`` (.osm.pbf) into the largest strongly connected drivable graph."""
    path = Path(path)
    if not path.is_file():
        raise GraphError(f"OSM file not found: {path}")
    classes = DRIVABLE | {"service"} if include_service else DRIVABLE
    try:
        raw = _read_ways(path, classes)
    except RuntimeError as exc:  # osmium reports unreadable files this way
        raise GraphError(f"cannot read OSM file {path}: {exc}") from exc
    if raw.number_of_edges() == 0:
        raise GraphError(f"no drivable roads in {path}")
    biggest = max(nx.strongly_connected_components(raw), key=len)
    graph = _simplify(raw.subgraph(biggest).copy())
    graph.graph.update(source=path.name, credit=ODBL_CREDIT, crs="EPSG:4326")
    return graph


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_graph(
    path: Path, *, cache_dir: Path | None = None, include_service: bool = False
) -> nx.MultiDiGraph:
    """The graph of ``path``, from the on-disk cache when this exact file was built before."""
    from platetrace.settings import get_settings

    path = Path(path)
    if not path.is_file():
        raise GraphError(f"OSM file not found: {path}")
    cache_dir = cache_dir or get_settings().data_dir / "cache"
    variant = "svc" if include_service else "std"
    cached = cache_dir / f"graph-v{_CACHE_VERSION}-{variant}-{file_sha256(path)}.pickle"
    if cached.is_file():
        graph = _read_cache(cached)
        if graph is not None:
            return graph
    graph = build_graph(path, include_service=include_service)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # A private temporary name: two processes building at once must not write the same file.
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".tmp", delete=False) as fh:
        pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
    Path(fh.name).replace(cached)  # atomic: a concurrent reader never sees half a file
    return graph


def _read_cache(cached: Path) -> nx.MultiDiGraph | None:
    """The cached graph, or None when the file is damaged (it is then rebuilt)."""
    # The graph is ~10^5 small dicts and tuples: collecting garbage while they are created
    # triples the load time, and none of them is garbage.
    gc.disable()
    try:
        with cached.open("rb") as fh:
            # Only files load_graph wrote, named by the input's hash, are unpickled.
            graph = pickle.load(fh)  # noqa: S301
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        return None
    finally:
        gc.enable()
    return graph if isinstance(graph, nx.MultiDiGraph) else None


def node_point(graph: nx.MultiDiGraph, node: int) -> tuple[float, float]:
    data = graph.nodes[node]
    return float(data["x"]), float(data["y"])


def best_edge(graph: nx.MultiDiGraph, u: int, v: int) -> dict[str, Any]:
    """The fastest of the parallel edges ``u → v`` (the one a driver would take)."""
    edges = graph.get_edge_data(u, v)
    if not edges:
        raise KeyError(f"no edge {u} → {v}")
    return min(edges.values(), key=lambda d: d["travel_time"])


def path_geometry(graph: nx.MultiDiGraph, nodes: Iterable[int]) -> list[tuple[float, float]]:
    """The ``(lon, lat)`` polyline of a node path, with each street's full shape."""
    ordered = list(nodes)
    if len(ordered) == 1:
        return [node_point(graph, ordered[0])]
    points: list[tuple[float, float]] = []
    for u, v in pairwise(ordered):
        geometry = best_edge(graph, u, v)["geometry"]
        points.extend(geometry if not points else geometry[1:])
    return points


@dataclass(frozen=True)
class RoutingIndex:
    """The graph as sparse matrices of free-flow seconds, for fast bounded Dijkstra searches."""

    nodes: npt.NDArray[np.int64]  # graph node of each matrix position
    position: dict[int, int]
    forward: Any  # scipy.sparse.csr_matrix; [i, j] = fastest edge i → j
    backward: Any  # its transpose, for searches towards a target
    sources: npt.NDArray[np.int64]  # the row of each stored entry of ``forward``
    cost: dict[tuple[int, int], float]  # the same seconds by (row, column)


_INDEXES: weakref.WeakKeyDictionary[nx.MultiDiGraph, RoutingIndex] = weakref.WeakKeyDictionary()


def routing_index(graph: nx.MultiDiGraph) -> RoutingIndex:
    """Built once per graph: graphs are never edited after ``build_graph``."""
    cached = _INDEXES.get(graph)
    if cached is not None:
        return cached
    from scipy.sparse import csr_matrix

    nodes = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    position = {int(n): i for i, n in enumerate(nodes)}
    fastest: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        key = (position[u], position[v])
        # scipy reads a zero weight as "no edge"; a millisecond keeps zero-length edges usable.
        cost = max(float(data["travel_time"]), 1e-3)
        fastest[key] = min(cost, fastest.get(key, math.inf))
    rows = np.fromiter((k[0] for k in fastest), dtype=np.int64, count=len(fastest))
    cols = np.fromiter((k[1] for k in fastest), dtype=np.int64, count=len(fastest))
    costs = np.fromiter(fastest.values(), dtype=np.float64, count=len(fastest))
    forward = csr_matrix((costs, (rows, cols)), shape=(len(nodes), len(nodes)))
    forward.sort_indices()
    sources = np.repeat(np.arange(len(nodes)), np.diff(forward.indptr))
    index = RoutingIndex(nodes, position, forward, forward.T.tocsr(), sources, fastest)
    _INDEXES[graph] = index
    return index
