"""Command groups shared by several packages (``platetrace cameras run`` and ``cameras place``)."""

from __future__ import annotations

import typer

cameras = typer.Typer(help="Cameras: layout on the map, live recognition.", no_args_is_help=True)
