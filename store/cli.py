"""Store subcommands: ``migrate``, ``maintain``, ``retention``, ``holds``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from store.partitions import RetentionReport

holds = typer.Typer(
    help="Case holds: keep a case's sightings past retention.", no_args_is_help=True
)


def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or upgrade every table of the store (Alembic)."""
    from platetrace.settings import get_settings
    from store.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


def maintain() -> None:
    """Create sighting partitions ahead and apply retention (run it daily, e.g. from cron)."""
    from platetrace.settings import get_settings
    from store.db import make_engine
    from store.partitions import apply_retention, ensure_partitions_ahead

    settings = get_settings()
    now = datetime.now(UTC)
    with make_engine().begin() as conn:
        created = ensure_partitions_ahead(
            conn, today=now.date(), days_ahead=settings.partitions_ahead_days
        )
        report = apply_retention(conn, retention_days=settings.retention_days, now=now)
    typer.echo(f"partitions created: {', '.join(created) or 'none'}")
    _print_retention(report)


def retention(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default: the setting).")
    ] = None,
) -> None:
    """Drop sighting partitions older than the retention period, keeping held sightings."""
    from platetrace.settings import get_settings
    from store.db import make_engine
    from store.partitions import apply_retention

    keep = days or get_settings().retention_days
    with make_engine().begin() as conn:
        report = apply_retention(conn, retention_days=keep, now=datetime.now(UTC))
    _print_retention(report)


def _print_retention(report: RetentionReport) -> None:
    typer.echo(f"partitions dropped: {', '.join(report.dropped) or 'none'}")
    typer.echo(f"partitions trimmed to held rows: {', '.join(report.trimmed) or 'none'}")
    typer.echo(f"rows deleted: {report.rows_deleted}; rows kept for cases: {report.rows_held}")


@holds.command("add")
def hold_add(
    case_id: Annotated[str, typer.Option(help="Case number.")],
    reason: Annotated[str, typer.Option(help="Why the sightings must be kept.")],
    days: Annotated[int, typer.Option(min=1, help="How long to keep them.")] = 90,
    plate: Annotated[str | None, typer.Option(help="Hold every sighting of this plate.")] = None,
    sighting_id: Annotated[int | None, typer.Option(help="Hold one sighting.")] = None,
) -> None:
    """Keep a plate's (or one sighting's) sightings past retention for a case."""
    from store.db import make_engine
    from store.errors import InvalidInput
    from store.holds import NewHold, add_hold

    now = datetime.now(UTC)
    hold = NewHold(
        case_id=case_id,
        reason=reason,
        until=now + timedelta(days=days),
        plate=plate,
        sighting_id=sighting_id,
    )
    try:
        with make_engine().begin() as conn:
            hold_id = add_hold(conn, hold, now=now)
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"case hold {hold_id} until {hold.until:%Y-%m-%d}")


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the main app."""
    app.command()(migrate)
    app.command()(maintain)
    app.command()(retention)
    app.add_typer(holds, name="holds")
