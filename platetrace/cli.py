"""The ``platetrace`` command. Each package registers its own subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli import register as register_api
from lpr.camera_cli import register as register_camera_run
from lpr.cli import register as register_lpr
from platetrace.groups import cameras
from store.cli import register as register_store
from tracing.cli import register as register_tracing
from tracing.watch_cli import register as register_watch

app = typer.Typer(
    name="platetrace",
    help="License-plate recognition and vehicle tracing for city camera networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.add_typer(cameras, name="cameras")
register_camera_run(cameras)

for register in (register_store, register_lpr, register_tracing, register_watch, register_api):
    register(app)


@app.command()
def demo(
    city: Annotated[
        Path | None, typer.Option(help="OpenStreetMap extract (default: the HCM one in shared/).")
    ] = None,
    cameras_count: Annotated[int, typer.Option("--cameras", min=1, max=9999)] = 3094,
    vehicles: Annotated[int, typer.Option(min=1, help="Vehicles in the simulated morning.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = 7,
    alert_every: Annotated[
        float, typer.Option(min=1.0, help="Seconds between live passes of the suspect car.")
    ] = 30.0,
    serve: Annotated[
        bool, typer.Option(help="Serve after seeding (--no-serve: seed only).")
    ] = True,
) -> None:
    """Seed the Ho Chi Minh City demo and serve it: cameras, traffic, alerts, the map."""
    from platetrace.demo import run_demo
    from platetrace.settings import get_settings

    settings = get_settings()
    if settings.environment == "production":
        typer.echo("error: the demo seeds known passwords; refusing in production", err=True)
        raise typer.Exit(2)
    path = city or settings.city_osm or settings.shared_data_dir / "osm" / "hcm_2018.osm.pbf"
    if not path.is_file():
        typer.echo(f"error: no OpenStreetMap extract at {path}", err=True)
        raise typer.Exit(2)
    run_demo(
        settings.model_copy(update={"city_osm": path}),
        city=path,
        cameras=cameras_count,
        vehicles=vehicles,
        seed=seed,
        every_s=alert_every,
        serve=serve,
    )
