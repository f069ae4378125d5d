"""The ``platetrace`` command. Each package registers its own subcommands."""

from __future__ import annotations

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
