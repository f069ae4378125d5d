"""Route reconstruction: the streets a vehicle most likely drove between the cameras that saw it.

For each consecutive pair of hits (a leg, ``tracing.travel``) the candidates are *via-edge
paths* (fastest path to some street, the street, then the fastest path on to the next camera)
within a bounded detour: two bounded Dijkstra searches give every candidate at once. Each
candidate is scored by

* probit route choice: drivers misjudge each street's time independently, so a path slower
  than the fastest by ``Δ`` seconds is as likely as that misjudgement over the streets where
  the two differ (``Φ(-Δ / σ)``, ``σ`` growing with those streets' times),
* the working cameras it passes that did *not* see the vehicle: each costs ``log(miss_rate)``,
* how well its free-flow time fits the observed gap, given the trip's own speed factor
  (estimated robustly from all its legs: a motorbike in rush hour is slow everywhere),

and the confidence reported is the chosen path's posterior share among the candidates.
A trip whose least likely leg (by its timing or by its silent cameras) one vehicle explains
too rarely, counting the chances its many legs gave (``travel.one_vehicle_p``), is impossible
travel at that leg: a cloned plate handed over from one car to the other.

With known working cameras the searches run on *tolled* costs (free-flow seconds plus
``log(1/miss_rate) / detour_per_s`` per working camera): the best candidates then already
avoid cameras that stayed silent, however many detours that takes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import networkx as nx

from tracing.graph import RoutingIndex, best_edge, routing_index
from tracing.search import search, tolled, via_edge_paths, walk
from tracing.travel import (
    DEFAULT_MODEL,
    Approach,
    FitModel,
    Hit,
    Leg,
    approach_start,
    impossible,
    leg_evidence,
    measure,
    one_vehicle_p,
    pace_of,
    splits,
    trip_pace,
    validate_hits,
    with_lookalikes,
)


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


def _candidates(
    index: RoutingIndex, leg: Leg, coverage: Coverage | None, model: FitModel
) -> list[list[int]]:
    """Distinct simple paths (positions) from the start to the end's approach, best first.

    With a coverage the paths are best by tolled cost, so they already avoid silent cameras.
    """
    assert leg.tree is not None
    target = index.position[leg.target]
    tree, forward, backward = leg.tree, index.forward, index.backward
    if coverage is not None:
        source = index.position[leg.start.node]
        # Room for a few tolls beyond the free-flow search; without it, free flow it is.
        tolled_tree = search(coverage.forward, source, tree.limit + 3 * model.camera_toll_s)
        if math.isfinite(tolled_tree.dist[target]):
            tree, forward, backward = tolled_tree, coverage.forward, coverage.backward
    bound = min(model.detour_bound(float(tree.dist[target])), tree.limit)
    return via_edge_paths(
        index, forward, backward, tree, target, bound=bound, count=model.candidates
    )


def _route_choice(
    index: RoutingIndex,
    edges: set[tuple[int, int]],
    fastest: set[tuple[int, int]],
    detour_s: float,
    model: FitModel,
) -> float:
    """Log-probability (probit) that a driver judged this path faster than the fastest one."""
    differing = sum(index.cost[edge] ** 2 for edge in edges ^ fastest)
    if differing == 0.0:
        return 0.0
    z = detour_s / (model.route_noise * math.sqrt(differing))
    return math.log(max(0.5 * math.erfc(z / math.sqrt(2)), 1e-300))


@dataclass(frozen=True, slots=True)
class _Option:
    """A candidate path of one leg, with what is known of it before timing is considered."""

    nodes: tuple[int, ...]
    free_flow_s: float
    spread: float  # sqrt(sum of squared street times) / free_flow_s: how much its time varies
    prior: float  # log-probability from route choice and the cameras passed unseen
    unseen: int  # working cameras passed without a hit


def _options(
    index: RoutingIndex, leg: Leg, coverage: Coverage | None, model: FitModel
) -> list[_Option]:
    last = [] if leg.end.from_node is None else [leg.end.node]
    watched = coverage.watched if coverage else {}
    assert leg.tree is not None
    fastest = set(pairwise(walk(leg.tree, index.position[leg.target])))
    out = []
    for positions in _candidates(index, leg, coverage, model):
        edges = set(pairwise(positions))
        cost = leg.last_leg_s + sum(index.cost[edge] for edge in edges)
        squares = leg.last_leg_s**2 + sum(index.cost[edge] ** 2 for edge in edges)
        nodes = tuple(int(index.nodes[p]) for p in positions) + tuple(last)
        # The last edge is the end camera's own approach; every other watched one was passed
        # unseen.
        unseen = sum(1 for edge in pairwise(nodes[:-1]) if edge in watched)
        choice = _route_choice(index, edges, fastest, cost - leg.fastest_s, model)
        spread = math.sqrt(squares) / cost if cost > 0 else 0.0
        prior = choice + unseen * math.log(model.miss_rate)
        out.append(_Option(nodes, cost, spread, prior, unseen))
    return out


def _choose(
    leg: Leg, options: Sequence[_Option], pace: float, model: FitModel, *, known_pace: bool
) -> tuple[_Option, float]:
    """The most probable option and its posterior share.

    Until the pace is ``known_pace`` (measured on chosen paths) a leg's time fits loosely;
    after, a path's time varies around that pace by ``street_sigma`` per street.
    """
    scores = []
    for option in options:
        z = _residual(leg, option, pace, model, known_pace=known_pace)
        scores.append(option.prior - (0.0 if z is None else z * z / 2))
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    best = scores.index(top)
    return options[best], weights[best] / sum(weights)


def _residual(
    leg: Leg, option: _Option, pace: float, model: FitModel, *, known_pace: bool
) -> float | None:
    """The leg's log slowness on this path, standardised around the pace (None: no time)."""
    if leg.gap_s <= 0 or option.free_flow_s <= 0:
        return None
    variance = model.slowness_sigma**2
    if known_pace:
        variance = model.pace_sigma**2 + (model.street_sigma * option.spread) ** 2
    return (math.log(leg.gap_s / option.free_flow_s) - pace) / math.sqrt(variance)


def _hand_over(
    legs: Sequence[Leg], chosen: Mapping[int, _Option], pace: float, model: FitModel
) -> int | None:
    """The leg where a second vehicle most likely took over the plate, when one vehicle
    explains the trip too rarely (``travel.one_vehicle_p``); None when one fits."""
    evidence = {}
    for i, option in chosen.items():
        # As for the pace: a path of a second or less times nothing.
        z = _residual(legs[i], option, pace, model, known_pace=True)
        evidence[i] = leg_evidence(None if option.free_flow_s <= 1.0 else z, option.unseen, model)
    if not evidence:
        return None
    p = one_vehicle_p([p for leg in evidence.values() for p in leg])
    return min(evidence, key=lambda i: min(evidence[i])) if p < model.one_vehicle_alpha else None


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
    graph: nx.MultiDiGraph, leg: Leg, chosen: _Option, confidence: float, count: int
) -> Segment:
    edges = [best_edge(graph, u, v) for u, v in pairwise(chosen.nodes)]
    return Segment(
        leg.start,
        leg.end,
        chosen.nodes,
        _timestamps(graph, chosen.nodes, leg.start.observed_at, leg.end.observed_at),
        sum(e["length"] for e in edges),
        sum(e["travel_time"] for e in edges),
        leg.fastest_s,
        confidence,
        count,
    )


def _trip(
    graph: nx.MultiDiGraph,
    index: RoutingIndex,
    legs: Sequence[Leg],
    coverage: Coverage | None,
    model: FitModel,
) -> tuple[Segment, ...]:
    """The segments of one trip: paths chosen once on a rough pace (from the fastest paths),
    then again on the pace the chosen paths measure."""
    pace = trip_pace(legs, model)
    routed = {
        i: _options(index, leg, coverage, model)
        for i, leg in enumerate(legs)
        if not leg.same_place and not impossible(leg, model, pace=pace)
    }
    rough = [
        (legs[i], _choose(legs[i], o, pace, model, known_pace=False)[0]) for i, o in routed.items()
    ]
    logs = [
        math.log(leg.gap_s / o.free_flow_s)
        for leg, o in rough
        if leg.gap_s > 0 and o.free_flow_s > 1.0
    ]
    if logs:
        pace = pace_of(logs, model)
    chosen = {i: _choose(legs[i], o, pace, model, known_pace=bool(logs)) for i, o in routed.items()}
    # Only a trip each of whose legs one vehicle can drive needs the whole-trip test.
    hand_over = None
    if logs and all(i in routed or leg.same_place for i, leg in enumerate(legs)):
        hand_over = _hand_over(legs, {i: c[0] for i, c in chosen.items()}, pace, model)
    segments = []
    for i, leg in enumerate(legs):
        start, end = leg.start, leg.end
        if i in chosen and i != hand_over:
            option, confidence = chosen[i]
            segments.append(_segment(graph, leg, option, confidence, len(routed[i])))
        elif leg.same_place:
            segments.append(
                Segment(start, end, (start.node,), (start.observed_at,), 0.0, 0.0, 0.0, 1.0, 1)
            )
        else:
            segments.append(
                Segment(start, end, (), (), 0.0, 0.0, leg.fastest_s, 1.0, 0, impossible=True)
            )
    return tuple(segments)


def reconstruct(
    graph: nx.MultiDiGraph,
    hits: Sequence[Hit],
    *,
    plate: str = "",
    coverage: Coverage | None = None,
    lookalikes: Sequence[Hit] = (),
    model: FitModel = DEFAULT_MODEL,
) -> Route:
    """The most likely route of one plate from its time-ordered hits.

    ``coverage`` (from ``camera_coverage``) says which approaches working cameras watch: a path
    past one without a hit is less likely. Leave it out when camera health is unknown.
    ``lookalikes`` are reads of plates one character confusion away (misreads of this plate,
    perhaps): those that fit between two hits as the same drive join them
    (``travel.with_lookalikes``).
    """
    validate_hits(graph, hits)
    if lookalikes:
        hits = with_lookalikes(graph, hits, lookalikes, model=model)
    index = routing_index(graph)
    groups: list[list[Leg]] = [[]]
    starts = [0]
    for i, (a, b) in enumerate(pairwise(hits)):
        leg = measure(index, a, b, model)
        if splits(leg, model):
            groups.append([])
            starts.append(i + 1)
        else:
            groups[-1].append(leg)
    trips = []
    for first, group in zip(starts, groups, strict=True):
        segments = _trip(graph, index, group, coverage, model)
        trips.append(Trip(tuple(hits[first : first + len(group) + 1]), segments))
    return Route(plate, tuple(trips))


def shortest_route(graph: nx.MultiDiGraph, hits: Sequence[Hit], *, plate: str = "") -> Route:
    """The baseline: the fastest path between consecutive cameras, one trip, no scoring."""
    validate_hits(graph, hits)
    segments = []
    for a, b in pairwise(hits):
        nodes = nx.shortest_path(graph, a.node, approach_start(b), weight="travel_time")
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
