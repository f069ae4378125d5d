"""``platetrace simulate`` and ``platetrace cameras place``. Heavy imports stay inside commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import networkx as nx

    from tracing.cameras import CameraSite

CityOption = Annotated[
    Path, typer.Option("--city", help="OpenStreetMap extract (.osm.pbf) of the city.")
]


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _graph(city: Path) -> nx.MultiDiGraph:
    from tracing.graph import GraphError, load_graph

    try:
        return load_graph(city)
    except GraphError as exc:
        raise _fail(exc) from exc


def place(
    city: CityOption,
    count: Annotated[int, typer.Option(min=1, max=9999, help="How many cameras.")],
    strategy: Annotated[
        str, typer.Option(help="intersections (busiest first) or arterials (major roads only).")
    ] = "intersections",
    code: Annotated[
        str | None, typer.Option(help="City code of the camera codes (default: from the file).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print, write nothing.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the layout as GeoJSON here instead of the store.")
    ] = None,
) -> None:
    """Create a realistic camera layout: major intersections first, spread over the city."""
    from tracing.cameras import STRATEGIES, CameraError, layout_geojson, place_cameras
    from tracing.graph import ODBL_CREDIT

    if strategy not in STRATEGIES:
        raise _fail(ValueError(f"strategy must be one of {', '.join(STRATEGIES)}"))
    graph = _graph(city)
    city_code = code or "".join(c for c in city.name.upper() if c.isalpha())[:3]
    try:
        planned = place_cameras(graph, count=count, city=city_code, strategy=strategy)
    except CameraError as exc:
        raise _fail(exc) from exc
    if out is not None:
        out.write_text(json.dumps(layout_geojson(planned, credit=ODBL_CREDIT)), encoding="utf-8")
        typer.echo(f"{len(planned)} cameras written to {out}")
        return
    if dry_run:
        for p in planned:
            typer.echo(f"{p.code}  {p.lat:.6f},{p.lon:.6f}  {p.heading:5.1f}°  {p.name}")
        typer.echo(f"{len(planned)} cameras (dry run, nothing written)")
        return
    from store.db import make_engine
    from store.errors import StoreError
    from tracing.cameras import save_layout

    try:
        with make_engine().begin() as conn:
            rows = save_layout(conn, planned)
    except StoreError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{len(rows)} cameras added ({rows[0].code} … {rows[-1].code})")


def _store_sites(graph: nx.MultiDiGraph) -> dict[int, CameraSite]:
    from store.cameras import list_cameras
    from store.db import make_engine
    from tracing.cameras import CameraError, attach_all

    with make_engine().connect() as conn:
        rows = [r for r in list_cameras(conn) if r.status != "disabled"]
    if not rows:
        raise _fail(ValueError("the store has no cameras: run 'platetrace cameras place' first"))
    try:
        return attach_all(graph, rows)
    except CameraError as exc:
        raise _fail(exc) from exc


def _layout_sites(graph: nx.MultiDiGraph, layout: Path) -> dict[int, CameraSite]:
    from tracing.cameras import CameraError, attach

    try:
        features = json.loads(layout.read_text(encoding="utf-8"))["features"]
        return {
            i: attach(
                graph,
                camera_id=i,
                lon=f["geometry"]["coordinates"][0],
                lat=f["geometry"]["coordinates"][1],
                heading=f["properties"].get("heading"),
            )
            for i, f in enumerate(features, start=1)
        }
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise _fail(ValueError(f"cannot use layout {layout}: {exc}")) from exc
    except CameraError as exc:
        raise _fail(exc) from exc


def simulate_command(
    city: CityOption,
    vehicles: Annotated[int, typer.Option(min=1, help="Vehicles, one trip each.")] = 500,
    start: Annotated[
        datetime | None, typer.Option(help="First departure (UTC unless a zone is given).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same traffic.")] = 1,
    layout: Annotated[
        Path | None,
        typer.Option(help="Cameras from a 'cameras place --out' file (needs --out)."),
    ] = None,
    coverage: Annotated[
        float | None,
        typer.Option(
            min=0.001, max=1.0, help="Cameras on every approach of this share of intersections."
        ),
    ] = None,
    miss_rate: Annotated[float, typer.Option(min=0.0, max=0.99)] = 0.05,
    dead_share: Annotated[float, typer.Option(min=0.0, max=0.99)] = 0.0,
    misread_rate: Annotated[float, typer.Option(min=0.0, max=0.99)] = 0.0,
    clones: Annotated[int, typer.Option(min=0, help="Extra vehicles with cloned plates.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Write sightings as JSON lines here instead of the store.")
    ] = None,
    truth: Annotated[Path | None, typer.Option(help="Write the true trips as JSON lines.")] = None,
) -> None:
    """Drive simulated traffic past the cameras; sightings to the store or a file."""
    from tracing.simulate import SimOptions, SimulationError, simulate, write_jsonl, write_store

    if layout is not None and coverage is not None:
        raise _fail(ValueError("give --layout or --coverage, not both"))
    if (layout is not None or coverage is not None) and out is None:
        raise _fail(ValueError("cameras not in the store have no store ids: give --out as well"))
    began = (start or datetime.now(UTC)).replace(microsecond=0)
    began = began if began.tzinfo else began.replace(tzinfo=UTC)
    graph = _graph(city)
    if coverage is not None:
        from tracing.cameras import coverage_sites

        sites = {s.camera_id: s for s in coverage_sites(graph, coverage)}
    else:
        sites = _layout_sites(graph, layout) if layout else _store_sites(graph)
    try:
        options = SimOptions(
            miss_rate=miss_rate, dead_share=dead_share, misread_rate=misread_rate, clones=clones
        )
        sim = simulate(
            graph, list(sites.values()), vehicles=vehicles, start=began, seed=seed, options=options
        )
    except SimulationError as exc:
        raise _fail(exc) from exc
    if truth is not None:
        write_jsonl(truth, sim.truth)
    if out is not None:
        written = write_jsonl(out, sim.sightings)
        typer.echo(f"{written} sightings of {len(sim.truth)} vehicles written to {out}")
        return
    from store.db import make_engine
    from store.errors import StoreError

    try:
        with make_engine().begin() as conn:
            added = write_store(conn, sim)
    except StoreError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{added} new sightings of {len(sim.truth)} vehicles added to the store")


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the main app."""
    from platetrace.groups import cameras

    cameras.command("place")(place)
    app.command("simulate")(simulate_command)
