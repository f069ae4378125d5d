"""Route reconstruction: the streets a vehicle most likely drove between the cameras that saw it.

For each consecutive pair of hits the candidates are *via-edge paths* (fastest path to some
street, the street, then the fastest path on to the next camera) within a bounded detour: two
bounded Dijkstra searches give every candidate at once. Each candidate is scored by

* a prior for near-fastest routes: each second slower than the fastest path costs
  ``detour_per_s`` in log-probability (drivers rarely take long detours),
* the working cameras it passes that did *not* see the vehicle: each costs ``log(miss_rate)``,
* how well its free-flow time fits the observed gap, given the trip's own speed factor
  (estimated robustly from all its segments: a motorbike in rush hour is slow everywhere),

and the confidence reported is the chosen path's posterior share among the candidates.

The first two terms are additive along a path, so with known working cameras the searches run on
*tolled* costs (free-flow seconds plus ``log(1/miss_rate) / detour_per_s`` per working camera):
the best candidates then already avoid cameras that stayed silent, however many detours that
takes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import networkx as nx

from tracing.graph import ODBL_CREDIT, RoutingIndex, best_edge, path_geometry, routing_index
from tracing.search import Tree, search, tolled, via_edge_paths

Approach = tuple[int, int]  # a directed edge (from_node, node) a camera watches


class RouteError(ValueError):
    """The hits cannot be reconstructed as given (empty, unordered, unknown node)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One camera saw the vehicle at ``node``, arriving from ``from_node`` when known."""

    camera_id: int
    node: int
    observed_at: datetime
    from_node: int | None = None


@dataclass(frozen=True, slots=True)
class FitModel:
    """How real travel relates to free-flow travel time. Defaults are for a dense city.

    ``slowness`` is observed time / free-flow time; it is log-normal around the trip's own
    median, starting from ``prior_slowness``. A gap is *impossible* when it is shorter than the
    fastest path driven ``max_speedup`` times faster than free flow, less ``clock_slack_s`` for
    unsynchronised camera clocks; it splits a trip when longer than ``max_slowdown`` times the
    fastest path plus ``stop_s`` (the vehicle stopped somewhere).
    """

    prior_slowness: float = 1.4  # free-flow speeds are limits; a busy city drives slower
    slowness_sigma: float = 0.35  # per segment: lights and queues vary more than drivers do
    detour_per_s: float = 1 / 8  # log-probability lost per second slower than the fastest path
    max_detour: float = 0.6  # candidates up to 60 % (+ detour_slack_s) slower than the fastest
    detour_slack_s: float = 30.0
    max_speedup: float = 2.0  # night-time speeding on empty streets stays below this
    clock_slack_s: float = 5.0
    max_slowdown: float = 4.0
    stop_s: float = 300.0
    max_gap_s: float = 3 * 3600.0
    same_place_s: float = 60.0  # the same camera again within a minute is the same passage
    # Above a healthy camera's few percent: it also covers cameras that died unnoticed.
    miss_rate: float = 0.1
    candidates: int = 8

    @property
    def camera_toll_s(self) -> float:
        """The detour, in free-flow seconds, as unlikely as passing a working camera unseen."""
        return math.log(1 / self.miss_rate) / self.detour_per_s

    def detour_bound(self, fastest_s: float) -> float:
        """The free-flow time of the slowest path still worth considering."""
        return fastest_s * (1 + self.max_detour) + self.detour_slack_s

    def __post_init__(self) -> None:
        positive = (
            self.prior_slowness,
            self.slowness_sigma,
            self.max_speedup,
            self.max_slowdown,
            self.detour_per_s,
        )
        if min(positive) <= 0 or self.max_detour < 0 or not 0 < self.miss_rate <= 1:
            raise RouteError(f"invalid fit model {self}")
        if self.candidates < 1:
            raise RouteError("candidates must be at least 1")


DEFAULT_MODEL = FitModel()


@dataclass(frozen=True)
class Coverage:
    """The approaches working cameras watch, and the graph's costs tolled at each of them.

    Build it with ``camera_coverage`` once per camera state (not per query).
    """

    watched: Mapping[Approach, int]
    forward: Any  # scipy.sparse.csr_matrix of tolled seconds
    backward: Any


def camera_coverage(
    graph: nx.MultiDiGraph, watched: Mapping[Approach, int], *, model: FitModel = DEFAULT_MODEL
) -> Coverage:
    """``watched`` maps each approach covered by a *working* camera to the camera's id."""
    forward = tolled(routing_index(graph), watched, model.camera_toll_s)
    return Coverage(dict(watched), forward, forward.T.tocsr())


@dataclass(frozen=True, slots=True)
class Segment:
    """The path between two consecutive hits: observed at both ends, inferred in between."""

    start: Hit
    end: Hit
    nodes: tuple[int, ...]  # inferred path, start.node … end.node; empty when impossible
    times: tuple[datetime, ...]  # estimated passage time at each node
    length_m: float
    free_flow_s: float  # of the chosen path
    fastest_s: float  # of the fastest path between the two cameras
    confidence: float  # posterior share of the chosen path among the candidates
    candidates: int
    impossible: bool = False

    @property
    def observed_s(self) -> float:
        return (self.end.observed_at - self.start.observed_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Trip:
    hits: tuple[Hit, ...]
    segments: tuple[Segment, ...]

    @property
    def nodes(self) -> tuple[int, ...]:
        """The reconstructed node sequence of the trip (impossible segments are left out)."""
        out: list[int] = [self.hits[0].node]
        for segment in self.segments:
            if segment.nodes and segment.nodes[0] == out[-1]:
                out.extend(segment.nodes[1:])
            elif segment.nodes:
                out.extend(segment.nodes)
        return tuple(out)

    @property
    def confidence(self) -> float:
        return math.prod(s.confidence for s in self.segments if not s.impossible)


@dataclass(frozen=True, slots=True)
class Route:
    plate: str
    trips: tuple[Trip, ...]

    @property
    def impossible(self) -> tuple[Segment, ...]:
        return tuple(s for t in self.trips for s in t.segments if s.impossible)


def validate_hits(graph: nx.MultiDiGraph, hits: Sequence[Hit]) -> None:
    """Refuse hits that cannot be routed, with the reason."""
    if not hits:
        raise RouteError("no sightings to reconstruct (empty time window?)")
    for i, hit in enumerate(hits):
        if hit.observed_at.tzinfo is None:
            raise RouteError(f"hit {i} has a naive timestamp; use timezone-aware datetimes")
        if hit.node not in graph:
            raise RouteError(f"camera {hit.camera_id} is attached to node {hit.node}, not in graph")
        if hit.from_node is not None and not graph.has_edge(hit.from_node, hit.node):
            raise RouteError(
                f"camera {hit.camera_id} watches {hit.from_node} → {hit.node}, not a road edge"
            )
        if i and hit.observed_at < hits[i - 1].observed_at:
            raise RouteError(
                f"sightings out of order at {i}: {hit.observed_at} before "
                f"{hits[i - 1].observed_at}; sort them by time first"
            )


@dataclass(frozen=True, slots=True)
class _Pair:
    start: Hit
    end: Hit
    gap_s: float
    fastest_s: float  # math.inf when beyond the search limit
    last_leg_s: float = 0.0  # the watched approach into the end camera's node
    tree: Tree | None = None  # the forward search from the start, on free-flow costs

    @property
    def same_place(self) -> bool:
        return self.tree is None and self.fastest_s == 0.0


def _target(hit: Hit) -> int:
    return hit.node if hit.from_node is None else hit.from_node


def _measure(index: RoutingIndex, start: Hit, end: Hit, model: FitModel) -> _Pair:
    gap = (end.observed_at - start.observed_at).total_seconds()
    if start.node == end.node and gap <= model.same_place_s:
        return _Pair(start, end, gap, 0.0)
    if gap > model.max_gap_s:
        return _Pair(start, end, gap, math.inf)
    source, target = index.position[start.node], index.position[_target(end)]
    last_leg = 0.0 if end.from_node is None else index.cost[target, index.position[end.node]]
    # Beyond ``cap`` the pair is impossible travel. Most drivers are slower than free flow, so a
    # search to ``detour_bound(gap)`` usually reaches every candidate; only a pair driven faster
    # than free flow needs the second, wider search.
    cap = max((gap + model.clock_slack_s) * model.max_speedup, model.detour_slack_s)
    limit = min(cap, model.detour_bound(gap))
    tree = search(index.forward, source, limit)
    if limit < cap and not model.detour_bound(float(tree.dist[target])) <= limit:
        tree = search(index.forward, source, cap)
    fastest = float(tree.dist[target]) + last_leg
    if start.node == end.node and end.from_node is None:
        fastest = 0.0
    return _Pair(start, end, gap, fastest, last_leg, tree)


def _splits(pair: _Pair, model: FitModel) -> bool:
    if pair.gap_s > model.max_gap_s:
        return True
    return math.isfinite(pair.fastest_s) and (
        pair.gap_s > pair.fastest_s * model.max_slowdown + model.stop_s
    )


def _impossible(pair: _Pair, model: FitModel) -> bool:
    allowed = (pair.gap_s + model.clock_slack_s) * model.max_speedup
    return not pair.same_place and pair.fastest_s > allowed


def split_trips(
    graph: nx.MultiDiGraph, hits: Sequence[Hit], *, model: FitModel = DEFAULT_MODEL
) -> list[list[Hit]]:
    """Cut the hits where the gap is far longer than any plausible drive between the cameras."""
    validate_hits(graph, hits)
    index = routing_index(graph)
    trips: list[list[Hit]] = [[hits[0]]]
    for start, end in pairwise(hits):
        if _splits(_measure(index, start, end, model), model):
            trips.append([])
        trips[-1].append(end)
    return trips


def separate_vehicles(
    graph: nx.MultiDiGraph, hits: Sequence[Hit], *, model: FitModel = DEFAULT_MODEL
) -> list[list[Hit]]:
    """One plate's hits split into the vehicles timing demands (a cloned plate gives two).

    Greedy in time order: each hit joins the vehicle whose last hit it can follow at the least
    speed, or starts another vehicle when none can have made it. An honest plate stays one list.
    """
    validate_hits(graph, hits)
    index = routing_index(graph)
    vehicles: list[list[Hit]] = []
    for hit in hits:
        best: list[Hit] | None = None
        least = math.inf
        for track in vehicles:
            pair = _measure(index, track[-1], hit, model)
            if _impossible(pair, model):
                continue
            speed = pair.fastest_s / (pair.gap_s + model.clock_slack_s)
            if speed < least:
                best, least = track, speed
        if best is None:
            vehicles.append([hit])
        else:
            best.append(hit)
    return vehicles


def _trip_slowness(pairs: Sequence[_Pair], model: FitModel) -> float:
    """Log of the trip's median slowness, shrunk towards the prior when few segments inform it."""
    logs = sorted(
        math.log(p.gap_s / p.fastest_s)
        for p in pairs
        if p.fastest_s > 1.0 and p.gap_s > 0 and math.isfinite(p.fastest_s)
    )
    prior = math.log(model.prior_slowness)
    if not logs:
        return prior
    return (len(logs) * statistics.median(logs) + prior) / (len(logs) + 1)


def _candidates(
    index: RoutingIndex, pair: _Pair, coverage: Coverage | None, model: FitModel
) -> list[list[int]]:
    """Distinct simple paths (positions) from the start to the end's approach, best first.

    With a coverage the paths are best by tolled cost, so they already avoid silent cameras.
    """
    assert pair.tree is not None
    target = index.position[_target(pair.end)]
    tree, forward, backward = pair.tree, index.forward, index.backward
    if coverage is not None:
        source = index.position[pair.start.node]
        # Room for a few tolls beyond the free-flow search; without it, free flow it is.
        tolled_tree = search(coverage.forward, source, tree.limit + 3 * model.camera_toll_s)
        if math.isfinite(tolled_tree.dist[target]):
            tree, forward, backward = tolled_tree, coverage.forward, coverage.backward
    bound = min(model.detour_bound(float(tree.dist[target])), tree.limit)
    return via_edge_paths(
        index, forward, backward, tree, target, bound=bound, count=model.candidates
    )


def _choose(
    index: RoutingIndex,
    pair: _Pair,
    slowness: float,
    coverage: Coverage | None,
    model: FitModel,
) -> tuple[list[int], float, int]:
    """The most probable path (graph nodes), its posterior share and the number of candidates."""
    last = [] if pair.end.from_node is None else [pair.end.node]
    watched = coverage.watched if coverage else {}
    scores: list[float] = []
    paths: list[list[int]] = []
    for positions in _candidates(index, pair, coverage, model):
        cost = pair.last_leg_s + sum(index.cost[edge] for edge in pairwise(positions))
        nodes = [int(index.nodes[p]) for p in positions] + last
        # The last edge is the end camera's own approach; every other watched one was passed
        # unseen.
        unseen = sum(1 for edge in pairwise(nodes[:-1]) if edge in watched)
        fit = 0.0
        if pair.gap_s > 0 and cost > 0:
            fit = -((math.log(pair.gap_s / cost) - slowness) ** 2) / (2 * model.slowness_sigma**2)
        detour = -model.detour_per_s * (cost - pair.fastest_s)
        scores.append(fit + detour + unseen * math.log(model.miss_rate))
        paths.append(nodes)
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    best = scores.index(top)
    return paths[best], weights[best] / sum(weights), len(paths)


def _timestamps(
    graph: nx.MultiDiGraph, nodes: Sequence[int], start: datetime, end: datetime
) -> tuple[datetime, ...]:
    """Passage times spread along the path in proportion to free-flow time."""
    costs = [best_edge(graph, u, v)["travel_time"] for u, v in pairwise(nodes)]
    total = sum(costs)
    span = (end - start).total_seconds()
    out, elapsed = [start], 0.0
    for cost in costs:
        elapsed += cost
        out.append(start + timedelta(seconds=span * elapsed / total if total else span))
    return tuple(out)


def _segment(
    graph: nx.MultiDiGraph,
    index: RoutingIndex,
    pair: _Pair,
    slowness: float,
    coverage: Coverage | None,
    model: FitModel,
) -> Segment:
    start, end = pair.start, pair.end
    if _impossible(pair, model):
        return Segment(start, end, (), (), 0.0, 0.0, pair.fastest_s, 1.0, 0, impossible=True)
    if pair.same_place:
        return Segment(start, end, (start.node,), (start.observed_at,), 0.0, 0.0, 0.0, 1.0, 1)
    nodes, confidence, count = _choose(index, pair, slowness, coverage, model)
    edges = [best_edge(graph, u, v) for u, v in pairwise(nodes)]
    return Segment(
        start,
        end,
        tuple(nodes),
        _timestamps(graph, nodes, start.observed_at, end.observed_at),
        sum(e["length"] for e in edges),
        sum(e["travel_time"] for e in edges),
        pair.fastest_s,
        confidence,
        count,
    )


def reconstruct(
    graph: nx.MultiDiGraph,
    hits: Sequence[Hit],
    *,
    plate: str = "",
    coverage: Coverage | None = None,
    model: FitModel = DEFAULT_MODEL,
) -> Route:
    """The most likely route of one plate from its time-ordered hits.

    ``coverage`` (from ``camera_coverage``) says which approaches working cameras watch: a path
    past one without a hit is less likely. Leave it out when camera health is unknown.
    """
    validate_hits(graph, hits)
    index = routing_index(graph)
    pairs = [_measure(index, a, b, model) for a, b in pairwise(hits)]
    groups: list[list[_Pair]] = [[]]
    starts = [0]
    for i, pair in enumerate(pairs):
        if _splits(pair, model):
            groups.append([])
            starts.append(i + 1)
        else:
            groups[-1].append(pair)
    trips = []
    for first, group in zip(starts, groups, strict=True):
        plausible = [p for p in group if not _impossible(p, model) and not p.same_place]
        slowness = _trip_slowness(plausible, model)
        segments = tuple(_segment(graph, index, p, slowness, coverage, model) for p in group)
        trips.append(Trip(tuple(hits[first : first + len(group) + 1]), segments))
    return Route(plate, tuple(trips))


def shortest_route(graph: nx.MultiDiGraph, hits: Sequence[Hit], *, plate: str = "") -> Route:
    """The baseline: the fastest path between consecutive cameras, one trip, no scoring."""
    validate_hits(graph, hits)
    segments = []
    for a, b in pairwise(hits):
        nodes = nx.shortest_path(graph, a.node, _target(b), weight="travel_time")
        if b.from_node is not None:
            nodes.append(b.node)
        edges = [best_edge(graph, u, v) for u, v in pairwise(nodes)]
        time = sum(e["travel_time"] for e in edges)
        segments.append(
            Segment(
                a,
                b,
                tuple(nodes),
                _timestamps(graph, nodes, a.observed_at, b.observed_at),
                sum(e["length"] for e in edges),
                time,
                time,
                1.0,
                1,
            )
        )
    return Route(plate, (Trip(tuple(hits), tuple(segments)),))


def _vertex_times(
    graph: nx.MultiDiGraph, segment: Segment
) -> list[tuple[tuple[float, float], datetime]]:
    """Every vertex of the segment's street geometry with an interpolated passage time."""
    out: list[tuple[tuple[float, float], datetime]] = []
    for (u, v), t0, t1 in zip(
        zip(segment.nodes, segment.nodes[1:], strict=False),
        segment.times,
        segment.times[1:],
        strict=False,
    ):
        points = path_geometry(graph, (u, v))
        steps = [0.0]
        for a, b in pairwise(points):
            steps.append(steps[-1] + math.dist(a, b))
        span = (t1 - t0).total_seconds()
        for point, walked in zip(points, steps, strict=True):
            if out and walked == 0.0:
                continue
            share = walked / steps[-1] if steps[-1] else 1.0
            out.append((point, t0 + timedelta(seconds=span * share)))
    return out


def route_geojson(graph: nx.MultiDiGraph, route: Route) -> dict[str, Any]:
    """A FeatureCollection for map playback: one timed LineString per trip, hits as points."""
    features: list[dict[str, Any]] = []
    for number, trip in enumerate(route.trips):
        vertices: list[tuple[tuple[float, float], datetime]] = []
        for segment in trip.segments:
            if segment.impossible or len(segment.nodes) < 2:
                continue
            timed = _vertex_times(graph, segment)
            vertices.extend(timed if not vertices else timed[1:])
        if len(vertices) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for (x, y), _ in vertices],
                    },
                    "properties": {
                        "kind": "route",
                        "plate": route.plate,
                        "trip": number,
                        "times": [t.isoformat() for _, t in vertices],
                        "confidence": round(trip.confidence, 4),
                    },
                }
            )
        for hit in trip.hits:
            x, y = graph.nodes[hit.node]["x"], graph.nodes[hit.node]["y"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {
                        "kind": "hit",
                        "trip": number,
                        "camera_id": hit.camera_id,
                        "observed_at": hit.observed_at.isoformat(),
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"plate": route.plate, "credit": ODBL_CREDIT},
    }


def route_json(route: Route) -> dict[str, Any]:
    """The compact form for the API: per segment, what was observed and what was inferred."""
    return {
        "plate": route.plate,
        "impossible_travel": len(route.impossible),
        "credit": ODBL_CREDIT,
        "trips": [
            {
                "start": trip.hits[0].observed_at.isoformat(),
                "end": trip.hits[-1].observed_at.isoformat(),
                "confidence": round(trip.confidence, 4),
                "segments": [
                    {
                        "from_camera": s.start.camera_id,
                        "to_camera": s.end.camera_id,
                        "observed_s": round(s.observed_s, 1),
                        "inferred_s": round(s.free_flow_s, 1),
                        "fastest_s": round(s.fastest_s, 1) if math.isfinite(s.fastest_s) else None,
                        "length_m": round(s.length_m, 1),
                        "confidence": round(s.confidence, 4),
                        "candidates": s.candidates,
                        "impossible": s.impossible,
                        "nodes": list(s.nodes),
                    }
                    for s in trip.segments
                ],
            }
            for trip in route.trips
        ],
    }
