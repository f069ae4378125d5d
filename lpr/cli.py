"""Subcommands of ``platetrace`` that belong to this package."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the main app."""
