"""A traffic simulator on the real road graph, with the ground truth kept beside its sightings.

Vehicles drive realistic trips: origins and destinations favour major roads; each driver takes
the fastest path under their *own* perception of the streets (free-flow time times a per-driver,
per-street log-normal factor, so most routes are near-fastest and some are not), at their own
pace (a per-driver slowness, log-normal around a city median, with per-street jitter). Cameras
see a vehicle arriving on the approach they watch, unless dead or they miss it; a read may be
garbled by a character confusion (O/0, I/1, B/8, S/5, Z/2, …). Everything derives from one seed.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from lpr.plates import FORMATS, TO_LETTER, VN_LETTERS, PlateFormat
from tracing.cameras import CameraSite
from tracing.graph import RoutingIndex, haversine_m, road_rank, routing_index
from tracing.travel import Approach

# Province codes registered in Ho Chi Minh City (41, 50–59).
HCM_PROVINCES = ("41", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59")
# Both directions of the reader's confusion table: a digit read as a letter and back.
CONFUSIONS = {**TO_LETTER, **{letter: digit for digit, letter in TO_LETTER.items()}}


class SimulationError(ValueError):
    """Options the simulator cannot honour (no cameras, impossible trip lengths, …)."""


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What the city is like. Defaults describe a dense, motorbike-heavy city."""

    miss_rate: float = 0.05  # a working camera misses a passing vehicle
    dead_share: float = 0.0  # cameras that never report (Thủ Đức: 0.4)
    misread_rate: float = 0.0  # reads garbled into another plate
    clones: int = 0  # extra vehicles wearing the plate of another, driving at the same time
    route_noise: float = 0.3  # sigma of a driver's per-street cost perception
    slowness_median: float = 1.5  # real time / free-flow time, typical driver
    slowness_sigma: float = 0.25  # between drivers
    jitter_sigma: float = 0.2  # per street, within one trip
    min_trip_m: float = 1500.0
    max_trip_m: float = 8000.0
    departures_s: float = 3600.0  # departures spread uniformly over this span from ``start``

    def __post_init__(self) -> None:
        for name in ("miss_rate", "dead_share", "misread_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise SimulationError(f"{name} must be within [0, 1)")
        if not 0 < self.min_trip_m < self.max_trip_m:
            raise SimulationError("trip lengths must satisfy 0 < min_trip_m < max_trip_m")
        if self.clones < 0 or self.departures_s < 0 or self.slowness_median <= 0:
            raise SimulationError("clones, departures_s and slowness_median must be positive")


@dataclass(frozen=True, slots=True)
class SimSighting:
    """One read as a camera would report it; ``vehicle`` and ``true_plate`` are the truth."""

    ingest_key: str
    camera_id: int
    plate: str
    plate_raw: str
    confidence: float
    observed_at: datetime
    vehicle: int
    true_plate: str


@dataclass(frozen=True, slots=True)
class TrueTrip:
    vehicle: int
    plate: str
    nodes: tuple[int, ...]
    times: tuple[datetime, ...]  # arrival at each node
    slowness: float
    clone_of: int | None = None  # the vehicle whose plate this one copies


@dataclass(frozen=True, slots=True)
class Simulation:
    sightings: tuple[SimSighting, ...]  # in time order
    truth: tuple[TrueTrip, ...]
    dead: frozenset[int] = field(default_factory=frozenset)  # camera ids that never reported


def vn_plates(count: int, rng: random.Random) -> list[str]:
    """Distinct plates of HCM's formats: cars ``51F12345``, motorbikes ``59X212345``."""
    formats = [f for f in FORMATS if isinstance(f, PlateFormat) and f.country == "VN"]
    common = [f for f in formats if f.kinds in ("DDLDDDDD", "DDLDDDDDD")]
    plates: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        kinds = rng.choice(common).kinds
        chars = [*rng.choice(HCM_PROVINCES)]
        for kind in kinds[2:]:
            chars.append(rng.choice(VN_LETTERS) if kind == "L" else rng.choice("0123456789"))
        plate = "".join(chars)
        if plate not in plates:
            plates.add(plate)
            out.append(plate)
    return out


def misread(plate: str, rng: random.Random) -> str:
    """The plate with one character swapped for a look-alike, as a camera might read it."""
    spots = [i for i, c in enumerate(plate) if c in CONFUSIONS]
    if not spots:
        return plate
    i = rng.choice(spots)
    return plate[:i] + CONFUSIONS[plate[i]] + plate[i + 1 :]


def _origin_weights(graph: nx.MultiDiGraph, index: RoutingIndex) -> npt.NDArray[np.float64]:
    """Trips start and end on busy roads far more often than in alleys."""
    ranks = [
        max((road_rank(d["highway"]) for *_, d in graph.out_edges(int(n), data=True)), default=0)
        for n in index.nodes
    ]
    weights: npt.NDArray[np.float64] = (1.0 + np.asarray(ranks, dtype=np.float64)) ** 2
    weights /= weights.sum()
    return weights


def _pick_trip(
    graph: nx.MultiDiGraph,
    index: RoutingIndex,
    weights: npt.NDArray[np.float64],
    options: SimOptions,
    rng: np.random.Generator,
) -> tuple[int, int]:
    """Origin and destination positions, a plausible city trip apart."""
    for _ in range(200):
        a, b = (int(x) for x in rng.choice(len(weights), size=2, p=weights))
        na, nb = graph.nodes[int(index.nodes[a])], graph.nodes[int(index.nodes[b])]
        if (
            options.min_trip_m
            <= haversine_m(na["x"], na["y"], nb["x"], nb["y"])
            <= options.max_trip_m
        ):
            return a, b
    raise SimulationError(
        f"no origin/destination {options.min_trip_m:.0f}–{options.max_trip_m:.0f} m apart "
        "in 200 tries: is the map that small?"
    )


def _drive(
    index: RoutingIndex,
    origin: int,
    destination: int,
    options: SimOptions,
    rng: np.random.Generator,
) -> list[int] | None:
    """The driver's own fastest path (positions), or None when their view leaves no way."""
    from scipy.sparse.csgraph import dijkstra

    perceived = index.forward.copy()
    perceived.data = perceived.data * rng.lognormal(0.0, options.route_noise, len(perceived.data))
    _, pred = dijkstra(perceived, indices=origin, return_predecessors=True)
    if pred[destination] < 0:
        return None
    path = [destination]
    while path[-1] != origin:
        path.append(int(pred[path[-1]]))
    return path[::-1]


def _watching(graph: nx.MultiDiGraph, cameras: Sequence[CameraSite]) -> dict[Approach, list[int]]:
    """The cameras on each approach (a camera without heading watches every approach)."""
    watching: dict[Approach, list[int]] = defaultdict(list)
    for site in cameras:
        if site.node not in graph:
            raise SimulationError(f"camera {site.camera_id} sits on node {site.node}, not in graph")
        sources = [site.from_node] if site.from_node is not None else list(graph.pred[site.node])
        for u in sources:
            watching[(u, site.node)].append(site.camera_id)
    return watching


def _timed(
    index: RoutingIndex,
    path: list[int],
    departure: datetime,
    slowness: float,
    jitter: float,
    rng: np.random.Generator,
) -> tuple[tuple[int, ...], tuple[datetime, ...]]:
    """Graph nodes of a path and the arrival time at each, at the driver's pace."""
    costs = np.array([index.cost[edge] for edge in pairwise(path)])
    seconds = costs * slowness * rng.lognormal(0.0, jitter, len(costs))
    elapsed = np.concatenate(([0.0], np.cumsum(seconds)))
    nodes = tuple(int(index.nodes[p]) for p in path)
    return nodes, tuple(departure + timedelta(seconds=float(s)) for s in elapsed)


def _observe(
    trip: TrueTrip,
    watching: Mapping[Approach, list[int]],
    dead: frozenset[int],
    options: SimOptions,
    prng: random.Random,
    seed: int,
) -> list[SimSighting]:
    """What the cameras along the trip report: misses, dead cameras and misreads included."""
    out = []
    for step, edge in enumerate(pairwise(trip.nodes)):
        for camera_id in watching.get(edge, ()):
            if camera_id in dead or prng.random() < options.miss_rate:
                continue
            read, confidence = trip.plate, prng.uniform(0.85, 0.99)
            if prng.random() < options.misread_rate:
                read, confidence = misread(read, prng), prng.uniform(0.5, 0.8)
            out.append(
                SimSighting(
                    ingest_key=f"sim-{seed}-{trip.vehicle}-{step}-{camera_id}",
                    camera_id=camera_id,
                    plate=read,
                    plate_raw=read,
                    confidence=round(confidence, 3),
                    observed_at=trip.times[step + 1],
                    vehicle=trip.vehicle,
                    true_plate=trip.plate,
                )
            )
    return out


def simulate(
    graph: nx.MultiDiGraph,
    cameras: Sequence[CameraSite],
    *,
    vehicles: int,
    start: datetime,
    seed: int,
    options: SimOptions | None = None,
) -> Simulation:
    """Drive ``vehicles`` trips (plus ``options.clones``) past ``cameras`` from ``start``."""
    opts = options or SimOptions()
    if vehicles < 1:
        raise SimulationError(f"vehicles must be at least 1, got {vehicles}")
    if start.tzinfo is None:
        raise SimulationError("start must be timezone-aware")
    if opts.clones > vehicles:
        raise SimulationError(f"{opts.clones} clones need at least as many vehicles")
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    index = routing_index(graph)
    watching = _watching(graph, cameras)
    ids = sorted({s.camera_id for s in cameras})
    dead = frozenset(prng.sample(ids, round(len(ids) * opts.dead_share)))
    weights = _origin_weights(graph, index)
    plates = vn_plates(vehicles, prng)

    truth: list[TrueTrip] = []
    for vehicle in range(vehicles + opts.clones):
        clone_of = prng.randrange(vehicles) if vehicle >= vehicles else None
        path = None
        while path is None:
            origin, destination = _pick_trip(graph, index, weights, opts, rng)
            path = _drive(index, origin, destination, opts, rng)
        if clone_of is None:
            departure = start + timedelta(seconds=float(rng.uniform(0, opts.departures_s)))
        else:
            # A clone is only caught by its timing if it drives while the original does.
            departure = truth[clone_of].times[0] + timedelta(seconds=float(rng.uniform(-300, 300)))
        slowness = float(opts.slowness_median * rng.lognormal(0.0, opts.slowness_sigma))
        nodes, times = _timed(index, path, departure, slowness, opts.jitter_sigma, rng)
        plate = plates[vehicle if clone_of is None else clone_of]
        truth.append(TrueTrip(vehicle, plate, nodes, times, slowness, clone_of))

    sightings = [s for trip in truth for s in _observe(trip, watching, dead, opts, prng, seed)]
    sightings.sort(key=lambda s: (s.observed_at, s.ingest_key))
    return Simulation(tuple(sightings), tuple(truth), dead)


def write_store(conn: Any, simulation: Simulation, *, batch: int = 5000) -> int:
    """Add the sightings through the store (the caller owns the transaction); rows inserted."""
    from store.sightings import NewSighting, add_sightings

    items = [
        NewSighting(
            ingest_key=s.ingest_key,
            camera_id=s.camera_id,
            plate=s.plate,
            plate_raw=s.plate_raw,
            country="VN",
            confidence=s.confidence,
            observed_at=s.observed_at,
        )
        for s in simulation.sightings
    ]
    return sum(add_sightings(conn, items[i : i + batch]) for i in range(0, len(items), batch))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def write_jsonl(path: Path, rows: Iterable[SimSighting | TrueTrip]) -> int:
    """Sightings or truth, one JSON object a line; the number of lines written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: _jsonable(v) for k, v in asdict(row).items()}) + "\n")
            count += 1
    return count
