from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
from sqlalchemy import Connection

from lpr.plates import parse
from store.sightings import sightings_by_plate
from tracing.cameras import (
    CameraSite,
    place_cameras,
    save_layout,
    sites_of,
    watched_approaches,
)
from tracing.routes import camera_coverage, reconstruct
from tracing.simulate import (
    CONFUSIONS,
    SimOptions,
    Simulation,
    SimulationError,
    misread,
    simulate,
    vn_plates,
    write_jsonl,
    write_store,
)
from tracing.travel import Hit

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
SHORT = SimOptions(min_trip_m=800.0, max_trip_m=3000.0)


@pytest.fixture(scope="module")
def sites(monaco: nx.MultiDiGraph) -> list[CameraSite]:
    planned = place_cameras(monaco, count=120, city="MCO")
    return sites_of(planned, list(range(1, len(planned) + 1)))


@pytest.fixture(scope="module")
def sim(monaco: nx.MultiDiGraph, sites: list[CameraSite]) -> Simulation:
    return simulate(monaco, sites, vehicles=30, start=START, seed=5, options=SHORT)


def test_the_same_seed_gives_the_same_city(
    monaco: nx.MultiDiGraph, sites: list[CameraSite], sim: Simulation
) -> None:
    again = simulate(monaco, sites, vehicles=30, start=START, seed=5, options=SHORT)
    assert again == sim
    other = simulate(monaco, sites, vehicles=30, start=START, seed=6, options=SHORT)
    assert other.truth != sim.truth


def test_trips_are_real_drives_on_the_graph(monaco: nx.MultiDiGraph, sim: Simulation) -> None:
    assert len(sim.truth) == 30
    for trip in sim.truth:
        assert all(monaco.has_edge(u, v) for u, v in pairwise(trip.nodes))
        assert list(trip.times) == sorted(trip.times) and len(trip.times) == len(trip.nodes)
        assert trip.times[0] >= START and trip.slowness > 0


def test_sightings_match_the_truth(
    monaco: nx.MultiDiGraph, sites: list[CameraSite], sim: Simulation
) -> None:
    by_id = {s.camera_id: s for s in sites}
    trips = {t.vehicle: t for t in sim.truth}
    assert sim.sightings, "cameras at 40 intersections must see some of 30 vehicles"
    assert list(sim.sightings) == sorted(sim.sightings, key=lambda s: s.observed_at)
    for s in sim.sightings:
        trip, site = trips[s.vehicle], by_id[s.camera_id]
        step = trip.times.index(s.observed_at)
        assert (trip.nodes[step - 1], trip.nodes[step]) == site.approach
        assert s.plate == s.true_plate == trip.plate  # no misreads by default
    assert len({s.ingest_key for s in sim.sightings}) == len(sim.sightings)


def test_cameras_that_never_miss_see_every_passage(
    monaco: nx.MultiDiGraph, sites: list[CameraSite]
) -> None:
    options = SimOptions(miss_rate=0.0, min_trip_m=800.0, max_trip_m=3000.0)
    sim = simulate(monaco, sites, vehicles=10, start=START, seed=1, options=options)
    watched = watched_approaches(monaco, sites)
    passages = sum(1 for t in sim.truth for edge in pairwise(t.nodes) if edge in watched)
    assert len(sim.sightings) == passages


def test_dead_cameras_never_report(monaco: nx.MultiDiGraph, sites: list[CameraSite]) -> None:
    options = SimOptions(dead_share=0.4, min_trip_m=800.0, max_trip_m=3000.0)
    sim = simulate(monaco, sites, vehicles=30, start=START, seed=2, options=options)
    assert len(sim.dead) == round(0.4 * len(sites))
    assert not {s.camera_id for s in sim.sightings} & sim.dead


def test_misreads_swap_one_look_alike_character(
    monaco: nx.MultiDiGraph, sites: list[CameraSite]
) -> None:
    options = SimOptions(misread_rate=0.5, min_trip_m=800.0, max_trip_m=3000.0)
    sim = simulate(monaco, sites, vehicles=30, start=START, seed=3, options=options)
    wrong = [s for s in sim.sightings if s.plate != s.true_plate]
    assert 0.3 < len(wrong) / len(sim.sightings) < 0.7
    for s in wrong:
        diff = [(a, b) for a, b in zip(s.true_plate, s.plate, strict=True) if a != b]
        assert len(diff) == 1 and CONFUSIONS[diff[0][0]] == diff[0][1]
        assert s.confidence < 0.85


def test_misread_leaves_plates_without_look_alikes_alone() -> None:
    assert misread("CHK", random.Random(1)) == "CHK"
    assert misread("51F", random.Random(1)) in {"5IF", "S1F"}


def test_plates_look_like_ho_chi_minh_city_plates() -> None:
    plates = vn_plates(200, random.Random(4))
    assert len(set(plates)) == 200
    for plate in plates:
        assert parse(plate, countries=["VN"]).plate == plate
        assert plate[:2] in {"41", *(str(n) for n in range(50, 60))}


def test_clones_wear_another_plate_at_the_same_time(
    monaco: nx.MultiDiGraph, sites: list[CameraSite]
) -> None:
    options = SimOptions(clones=5, min_trip_m=800.0, max_trip_m=3000.0)
    sim = simulate(monaco, sites, vehicles=10, start=START, seed=8, options=options)
    clones = [t for t in sim.truth if t.clone_of is not None]
    assert len(clones) == 5
    for clone in clones:
        original = sim.truth[clone.clone_of]  # type: ignore[index]
        assert clone.plate == original.plate
        assert abs((clone.times[0] - original.times[0]).total_seconds()) <= 300


def test_bad_options_are_refused(monaco: nx.MultiDiGraph, sites: list[CameraSite]) -> None:
    with pytest.raises(SimulationError, match="miss_rate"):
        SimOptions(miss_rate=1.5)
    with pytest.raises(SimulationError, match="trip lengths"):
        SimOptions(min_trip_m=5000.0, max_trip_m=100.0)
    with pytest.raises(SimulationError, match="vehicles"):
        simulate(monaco, sites, vehicles=0, start=START, seed=1)
    with pytest.raises(SimulationError, match="timezone"):
        simulate(monaco, sites, vehicles=1, start=START.replace(tzinfo=None), seed=1)
    with pytest.raises(SimulationError, match="not in graph"):
        simulate(monaco, [CameraSite(1, -5)], vehicles=1, start=START, seed=1)
    with pytest.raises(SimulationError, match="apart"):
        far = SimOptions(min_trip_m=50_000.0, max_trip_m=60_000.0)
        simulate(monaco, sites, vehicles=1, start=START, seed=1, options=far)


def test_simulated_routes_are_reconstructed(
    monaco: nx.MultiDiGraph, sites: list[CameraSite], sim: Simulation
) -> None:
    by_id = {s.camera_id: s for s in sites}
    hits: dict[str, list[Hit]] = defaultdict(list)
    for s in sim.sightings:
        site = by_id[s.camera_id]
        hits[s.plate].append(Hit(s.camera_id, site.node, s.observed_at, site.from_node))
    coverage = camera_coverage(monaco, watched_approaches(monaco, sites))
    right = total = 0
    for trip in sim.truth:
        if len(hits[trip.plate]) < 2:
            continue
        route = reconstruct(monaco, hits[trip.plate], plate=trip.plate, coverage=coverage)
        assert route.impossible == ()
        first = trip.times.index(hits[trip.plate][0].observed_at)
        last = trip.times.index(hits[trip.plate][-1].observed_at)
        truth = set(pairwise(trip.nodes[first : last + 1]))
        found = {e for t in route.trips for e in pairwise(t.nodes)}
        right += len(truth & found)
        total += len(truth)
    assert total > 50 and right / total > 0.8


def test_sightings_go_to_the_store_once(
    monaco: nx.MultiDiGraph, conn: Connection, sim: Simulation
) -> None:
    planned = place_cameras(monaco, count=120, city="MCO")
    rows = save_layout(conn, planned)
    # The fixture's cameras are numbered 1…120 in layout order: give them the store's ids.
    ids = {i + 1: row.id for i, row in enumerate(rows)}
    sightings = tuple(replace(s, camera_id=ids[s.camera_id]) for s in sim.sightings)
    stored = replace(sim, sightings=sightings)
    assert write_store(conn, stored) == len(sim.sightings)
    assert write_store(conn, stored) == 0
    plate = sim.sightings[0].plate
    found = sightings_by_plate(conn, plate, START, START.replace(hour=12))
    assert len(found) == sum(1 for s in sim.sightings if s.plate == plate)


def test_jsonl_files_hold_sightings_and_truth(sim: Simulation, tmp_path: Path) -> None:
    assert write_jsonl(tmp_path / "s.jsonl", sim.sightings) == len(sim.sightings)
    assert write_jsonl(tmp_path / "t.jsonl", sim.truth) == len(sim.truth)
    first = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])
    assert first["plate"] == sim.sightings[0].plate
    assert datetime.fromisoformat(first["observed_at"]) == sim.sightings[0].observed_at
    trip = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])
    assert tuple(trip["nodes"]) == sim.truth[0].nodes
