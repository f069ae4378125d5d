"""Timing between sightings: which drives are possible, where a trip ends, whose sighting is whose.

A *leg* is the drive between two consecutive hits of one plate, measured against the fastest
path on the road graph. Legs decide where one plate's hits split into trips (a stop), where
they cannot be one vehicle (impossible travel: a cloned plate), and whether a look-alike read
(a character confusion away from the plate) fits in between as a sighting of the same vehicle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import networkx as nx

from tracing.graph import RoutingIndex, routing_index
from tracing.search import Tree, search

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
    fastest path driven ``max_speedup`` times faster than free flow, or ``max_pace_change``
    times faster than the trip's own pace, less ``clock_slack_s`` for unsynchronised camera
    clocks; it splits a trip when longer than ``max_slowdown`` times the fastest path plus
    ``stop_s`` (the vehicle stopped somewhere).

    Route choice is probit: drivers misjudge each street's time by ``route_noise``
    independently, so a slower route is likely when it differs from the fastest over many
    streets and unlikely when one street makes all the difference. ``detour_per_s`` prices a
    second of detour against a silent camera when candidates are searched.
    """

    prior_slowness: float = 1.4  # free-flow speeds are limits; a busy city drives slower
    slowness_sigma: float = 0.35  # per segment, around a pace taken from the fastest paths
    pace_sigma: float = 0.1  # the pace measured on the chosen paths is known this well
    street_sigma: float = 0.25  # one street's time around the trip's pace: lights, queues
    route_noise: float = 0.3
    detour_per_s: float = 1 / 8  # log-probability lost per second slower than the fastest path
    max_detour: float = 0.6  # candidates up to 60 % (+ detour_slack_s) slower than the fastest
    detour_slack_s: float = 30.0
    max_speedup: float = 2.0  # night-time speeding on empty streets stays below this
    # A driver keeps roughly one pace through a trip: a leg at twice its pace elsewhere is a
    # second vehicle on the same plate.
    max_pace_change: float = 2.0
    clock_slack_s: float = 5.0
    max_slowdown: float = 4.0
    stop_s: float = 300.0
    max_gap_s: float = 3 * 3600.0
    # The same approach again within a minute is the same passage (read twice in a queue); two
    # approaches of one intersection are two passages, with a loop around a block in between.
    same_place_s: float = 60.0
    # Above a healthy camera's few percent: it also covers cameras that died unnoticed.
    miss_rate: float = 0.1
    # A trip whose timing and silent cameras one vehicle explains this rarely (or worse) is
    # two vehicles on one plate: the share of honest trips flagged, were the model exact.
    one_vehicle_alpha: float = 1e-3
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
            self.pace_sigma,
            self.street_sigma,
            self.route_noise,
            self.max_speedup,
            self.max_slowdown,
            self.detour_per_s,
        )
        if min(positive) <= 0 or self.max_detour < 0 or not 0 < self.miss_rate <= 1:
            raise RouteError(f"invalid fit model {self}")
        if not 0 < self.one_vehicle_alpha < 1:
            raise RouteError("one_vehicle_alpha must be a probability in (0, 1)")
        if self.max_pace_change <= 1:
            raise RouteError("max_pace_change must be above 1 (a pace may change that much)")
        if self.candidates < 1:
            raise RouteError("candidates must be at least 1")


DEFAULT_MODEL = FitModel()


def validate_hits(graph: nx.MultiDiGraph, hits: Sequence[Hit], *, ordered: bool = True) -> None:
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
        if ordered and i and hit.observed_at < hits[i - 1].observed_at:
            raise RouteError(
                f"sightings out of order at {i}: {hit.observed_at} before "
                f"{hits[i - 1].observed_at}; sort them by time first"
            )


@dataclass(frozen=True, slots=True)
class Leg:
    """Two consecutive hits and the fastest drive between them."""

    start: Hit
    end: Hit
    gap_s: float
    fastest_s: float  # math.inf when beyond the search limit
    last_leg_s: float = 0.0  # the watched approach into the end camera's node
    tree: Tree | None = None  # the forward search from the start, on free-flow costs

    @property
    def same_place(self) -> bool:
        return self.tree is None and self.fastest_s == 0.0

    @property
    def target(self) -> int:
        """The node the drive reaches before the end camera's own approach."""
        return approach_start(self.end)


def approach_start(hit: Hit) -> int:
    return hit.node if hit.from_node is None else hit.from_node


def measure(index: RoutingIndex, start: Hit, end: Hit, model: FitModel) -> Leg:
    gap = (end.observed_at - start.observed_at).total_seconds()
    one_approach = None in (start.from_node, end.from_node) or start.from_node == end.from_node
    if start.node == end.node and one_approach and gap <= model.same_place_s:
        return Leg(start, end, gap, 0.0)
    if gap > model.max_gap_s:
        return Leg(start, end, gap, math.inf)
    source, target = index.position[start.node], index.position[approach_start(end)]
    last_leg = 0.0 if end.from_node is None else index.cost[target, index.position[end.node]]
    # Beyond ``cap`` the leg is impossible travel. Most drivers are slower than free flow, so a
    # search to ``detour_bound(gap)`` usually reaches every candidate; only a leg driven faster
    # than free flow needs the second, wider search.
    cap = max((gap + model.clock_slack_s) * model.max_speedup, model.detour_slack_s)
    limit = min(cap, model.detour_bound(gap))
    tree = search(index.forward, source, limit)
    if limit < cap and not model.detour_bound(float(tree.dist[target])) <= limit:
        tree = search(index.forward, source, cap)
    fastest = float(tree.dist[target]) + last_leg
    if start.node == end.node and end.from_node is None:
        fastest = 0.0
    return Leg(start, end, gap, fastest, last_leg, tree)


def splits(leg: Leg, model: FitModel) -> bool:
    """The gap is far longer than any plausible drive: the vehicle stopped in between."""
    if leg.gap_s > model.max_gap_s:
        return True
    return math.isfinite(leg.fastest_s) and (
        leg.gap_s > leg.fastest_s * model.max_slowdown + model.stop_s
    )


def impossible(leg: Leg, model: FitModel, *, pace: float | None = None) -> bool:
    """No one vehicle drives this leg in time; ``pace`` (from ``trip_pace``) also refuses a
    leg driven ``max_pace_change`` times faster than the rest of the trip."""
    if leg.same_place:
        return False
    allowed = leg.gap_s + model.clock_slack_s
    if leg.fastest_s > allowed * model.max_speedup:
        return True
    return pace is not None and leg.fastest_s > allowed * model.max_pace_change / math.exp(pace)


def trip_pace(legs: Sequence[Leg], model: FitModel) -> float:
    """Log of the trip's median slowness over its possible legs, measured on the fastest paths."""
    return pace_of(
        [
            math.log(leg.gap_s / leg.fastest_s)
            for leg in legs
            if leg.fastest_s > 1.0
            and leg.gap_s > 0
            and math.isfinite(leg.fastest_s)
            and not impossible(leg, model)
        ],
        model,
    )


def pace_of(logs: Sequence[float], model: FitModel) -> float:
    """The median of log slownesses, shrunk towards the prior when few legs inform it."""
    prior = math.log(model.prior_slowness)
    if not logs:
        return prior
    return (len(logs) * statistics.median(logs) + prior) / (len(logs) + 1)


def leg_evidence(residual: float | None, unseen: int, model: FitModel) -> tuple[float, ...]:
    """How likely one vehicle drives a leg this way or worse (p-values): its timing
    ``residual`` standardised around the trip's pace (normal; None when untimed), and its path
    past ``unseen`` working cameras that all missed it (``miss_rate`` each)."""
    if unseen < 0:
        raise RouteError(f"{unseen} unseen cameras")
    timing = () if residual is None else (math.erfc(abs(residual) / math.sqrt(2)),)
    return (*timing, model.miss_rate**unseen)


def one_vehicle_p(p_values: Sequence[float]) -> float:
    """The chance that one vehicle's least likely piece of evidence (``leg_evidence`` of every
    leg of the trip) is this unlikely or more: Šidák-corrected for the number of pieces.

    A cloned plate hands over from one car to the other in one leg, whose timing or silent
    cameras carry the evidence: a sum over all legs would dilute it, a leg alone would not
    count how many chances an honest trip had to look as odd.
    """
    least = min(p_values, default=1.0)
    return 1.0 if least >= 1 else -math.expm1(len(p_values) * math.log1p(-least))


def split_trips(
    graph: nx.MultiDiGraph, hits: Sequence[Hit], *, model: FitModel = DEFAULT_MODEL
) -> list[list[Hit]]:
    """Cut the hits where the gap is far longer than any plausible drive between the cameras."""
    validate_hits(graph, hits)
    index = routing_index(graph)
    trips: list[list[Hit]] = [[hits[0]]]
    for start, end in pairwise(hits):
        if splits(measure(index, start, end, model), model):
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
            leg = measure(index, track[-1], hit, model)
            if impossible(leg, model):
                continue
            speed = leg.fastest_s / (leg.gap_s + model.clock_slack_s)
            if speed < least:
                best, least = track, speed
        if best is None:
            vehicles.append([hit])
        else:
            best.append(hit)
    return vehicles


def with_lookalikes(
    graph: nx.MultiDiGraph,
    hits: Sequence[Hit],
    lookalikes: Sequence[Hit],
    *,
    model: FitModel = DEFAULT_MODEL,
) -> list[Hit]:
    """``hits`` with the look-alike reads that fit between two of them as the same drive.

    A look-alike (the plate read with a character confused, so filed under another plate) is
    taken when it falls between two hits of the plate, both legs through it are possible
    drives without a stop, and the way through its camera is no longer than a candidate route
    between the two hits. Another vehicle with a look-alike plate rarely passes a camera on our
    vehicle's way at just the right time; one before the first or after the last hit has no
    such check and is left out.
    """
    validate_hits(graph, hits)
    if lookalikes:
        validate_hits(graph, lookalikes, ordered=False)
    index = routing_index(graph)
    out = list(hits)
    for hit in sorted(lookalikes, key=lambda h: h.observed_at):
        after = next((i for i, h in enumerate(out) if h.observed_at > hit.observed_at), 0)
        if after == 0:
            continue
        direct = measure(index, out[after - 1], out[after], model)
        legs = (measure(index, out[after - 1], hit, model), measure(index, hit, out[after], model))
        if any(impossible(leg, model) or splits(leg, model) for leg in (direct, *legs)):
            continue
        if sum(leg.fastest_s for leg in legs) <= model.detour_bound(direct.fastest_s):
            out.insert(after, hit)
    return out
