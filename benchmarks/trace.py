"""Route reconstruction against the truth of simulated trips, side by side with the baseline.

    .venv/bin/python -m benchmarks.trace --trips 500 --clones 1000

On the HCM graph, cameras watch every approach of the top 5 %, 10 % and 20 % of intersections
(major ones first, spread out; ``tracing.cameras.rank_intersections``). For each coverage, one
clean run (5 % misses) and one degraded run (also 40 % dead cameras and 5 % misreads). Each
plate's sightings are reconstructed by ``routes.reconstruct`` (told which cameras work, as
health monitoring does, and given the reads of plates one reader confusion away, to take back
the misreads that fit its drive) and by the baseline, ``routes.shortest_route`` (the fastest
path between consecutive cameras). The truth compared is the vehicle's path from its first to
its last sighting; precision and recall are weighted by street length. Milliseconds per trip are CPU
time of this process (``time.process_time``): the machine is shared, wall time is not stable.

Impossible travel: ``--clones`` extra vehicles copy the plate of another driving at about the
same time (10 % coverage, degraded); a clone is caught when its plate's route flags an
impossible segment, and separated when ``travel.separate_vehicles`` splits the plate's
sightings into exactly its true vehicles. False flags are counted on the honest plates of every
run. ``--coverage`` with no value runs the clones alone.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import networkx as nx

from benchmarks.common import print_table
from platetrace.settings import get_settings
from tracing.cameras import CameraSite, coverage_sites, rank_intersections, watched_approaches
from tracing.graph import best_edge, load_graph
from tracing.routes import Coverage, Route, camera_coverage, reconstruct, shortest_route
from tracing.simulate import CONFUSIONS, SimOptions, Simulation, simulate
from tracing.travel import Hit, separate_vehicles

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@dataclass
class Score:
    overlap_m: float = 0.0
    true_m: float = 0.0
    routed_m: float = 0.0
    exact: int = 0
    trips: int = 0
    seconds: float = 0.0
    flagged: int = 0

    @property
    def precision(self) -> float:
        return self.overlap_m / self.routed_m if self.routed_m else 0.0

    @property
    def recall(self) -> float:
        return self.overlap_m / self.true_m if self.true_m else 0.0


def _edges(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> dict[tuple[int, int], float]:
    return {(u, v): best_edge(graph, u, v)["length"] for u, v in pairwise(nodes)}


def lookalikes(by_plate: dict[str, list[Hit]], plate: str) -> list[Hit]:
    """The hits of every plate one reader confusion (O/0, B/8, …) away from ``plate``."""
    variants = {
        plate[:i] + CONFUSIONS[c] + plate[i + 1 :] for i, c in enumerate(plate) if c in CONFUSIONS
    }
    return [hit for variant in variants for hit in by_plate.get(variant, ())]


def _hits(
    graph: nx.MultiDiGraph, sim: Simulation, sites: Sequence[CameraSite]
) -> tuple[dict[str, list[Hit]], Coverage]:
    """Every plate's hits as read, and the coverage of the cameras that work."""
    by_id = {s.camera_id: s for s in sites}
    working = [s for s in sites if s.camera_id not in sim.dead]
    by_plate: dict[str, list[Hit]] = defaultdict(list)
    for s in sim.sightings:
        site = by_id[s.camera_id]
        by_plate[s.plate].append(Hit(s.camera_id, site.node, s.observed_at, site.from_node))
    return by_plate, camera_coverage(graph, watched_approaches(graph, working))


def evaluate(
    graph: nx.MultiDiGraph, sim: Simulation, sites: Sequence[CameraSite]
) -> tuple[Score, Score]:
    """Scores of the reconstruction and of the baseline over the honest plates."""
    by_plate, alive = _hits(graph, sim, sites)
    cloned = {t.plate for t in sim.truth if t.clone_of is not None}
    ours, base = Score(), Score()
    for trip in sim.truth:
        hits = by_plate.get(trip.plate, [])
        if trip.plate in cloned or len(hits) < 2:
            continue
        position = {t: i for i, t in enumerate(trip.times)}
        own = [position[h.observed_at] for h in hits if h.observed_at in position]
        truth = _edges(graph, trip.nodes[min(own) : max(own) + 1])
        for score, method in ((ours, "ours"), (base, "baseline")):
            began = time.process_time()
            route: Route = (
                reconstruct(
                    graph,
                    hits,
                    plate=trip.plate,
                    coverage=alive,
                    lookalikes=lookalikes(by_plate, trip.plate),
                )
                if method == "ours"
                else shortest_route(graph, hits, plate=trip.plate)
            )
            score.seconds += time.process_time() - began
            routed = {}
            for t in route.trips:
                routed.update(_edges(graph, t.nodes))
            score.trips += 1
            score.flagged += bool(route.impossible)
            score.true_m += sum(truth.values())
            score.routed_m += sum(routed.values())
            score.overlap_m += sum(truth[e] for e in truth.keys() & routed.keys())
            score.exact += len(route.trips) == 1 and routed == truth
    return ours, base


def clone_catch(
    graph: nx.MultiDiGraph, sim: Simulation, sites: Sequence[CameraSite]
) -> list[tuple[str, int, int]]:
    """(what, how many clones, how many caught): flagged among those seen by both vehicles,
    flagged among those whose sightings overlap in time (two places at once; the others may as
    well be one car), and separated into their true vehicles by ``separate_vehicles``."""
    by_plate, alive = _hits(graph, sim, sites)
    owner: dict[tuple[str, int, datetime], int] = {}
    spans: dict[str, dict[int, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for s in sim.sightings:
        owner[s.plate, s.camera_id, s.observed_at] = s.vehicle
        if s.plate == s.true_plate:
            spans[s.plate][s.vehicle].append(s.observed_at)
    seen = caught = overlapping = caught_overlapping = separated = 0
    for trip in sim.truth:
        times = spans[trip.plate]
        if trip.clone_of is None or len(times) < 2:
            continue  # a clone nobody saw beside its original cannot be told apart
        hits = by_plate[trip.plate]
        look = lookalikes(by_plate, trip.plate)
        route = reconstruct(graph, hits, plate=trip.plate, coverage=alive, lookalikes=look)
        flagged = bool(route.impossible)
        seen += 1
        caught += flagged
        if max(min(t) for t in times.values()) <= min(max(t) for t in times.values()):
            overlapping += 1
            caught_overlapping += flagged
        tracks = separate_vehicles(graph, hits)
        owners = [{owner[trip.plate, h.camera_id, h.observed_at] for h in t} for t in tracks]
        separated += len(tracks) == len(times) and all(len(o) == 1 for o in owners)
    return [
        ("clones flagged, seen by both vehicles", seen, caught),
        ("clones flagged, seen at overlapping times", overlapping, caught_overlapping),
        ("clones separated into their vehicles", seen, separated),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--city", type=Path, default=get_settings().shared_data_dir / "osm" / "hcm_2018.osm.pbf"
    )
    parser.add_argument("--trips", type=int, default=500)
    parser.add_argument("--clones", type=int, default=1000)
    parser.add_argument("--coverage", type=float, nargs="*", default=[0.05, 0.10, 0.20])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    began = time.perf_counter()
    graph = load_graph(args.city)
    print(
        f"graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges, "
        f"loaded in {time.perf_counter() - began:.2f} s (wall clock)"
    )
    ranked = rank_intersections(graph)
    rows = []
    false_flags = honest = 0
    for share in args.coverage:
        sites = coverage_sites(graph, share, ranked=ranked)
        for label, options in (
            ("clean", SimOptions()),
            ("40% dead, 5% misread", SimOptions(dead_share=0.4, misread_rate=0.05)),
        ):
            sim = simulate(
                graph, sites, vehicles=args.trips, start=START, seed=args.seed, options=options
            )
            ours, base = evaluate(graph, sim, sites)
            false_flags += ours.flagged
            honest += ours.trips
            rows.append(
                [
                    f"{share:.0%}",
                    len(sites),
                    label,
                    ours.trips,
                    ours.recall,
                    base.recall,
                    ours.precision,
                    base.precision,
                    ours.exact / ours.trips,
                    base.exact / base.trips,
                    1000 * ours.seconds / ours.trips,
                    1000 * base.seconds / base.trips,
                    ours.recall / base.recall,
                    (ours.exact / ours.trips) / max(base.exact / base.trips, 1e-9),
                ]
            )
    if rows:
        print_table(
            [
                "coverage",
                "cameras",
                "cameras state",
                "trips",
                "recall",
                "recall (baseline)",
                "precision",
                "precision (baseline)",
                "exact",
                "exact (baseline)",
                "ms/trip",
                "ms/trip (baseline)",
                "recall ratio",
                "exact ratio",
            ],
            rows,
        )
    if args.clones:
        sites = coverage_sites(graph, 0.10, ranked=ranked)
        options = SimOptions(dead_share=0.4, misread_rate=0.05, clones=args.clones)
        sim = simulate(
            graph, sites, vehicles=args.clones, start=START, seed=args.seed + 1, options=options
        )
        rows = [
            [label, count, right, right / max(count, 1)]
            for label, count, right in clone_catch(graph, sim, sites)
        ]
        share = false_flags / max(honest, 1)
        rows.append(["honest plates flagged (all runs above)", honest, false_flags, share])
        print()
        print("impossible travel, 10% coverage, 40% dead cameras, 5% misreads:")
        print_table(["", "count", "yes", "share"], rows)


if __name__ == "__main__":
    main()
