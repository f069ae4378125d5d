"""``platetrace ingest`` and ``platetrace watchlist add|list|change|expire``."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from store.watchlist import WatchlistEntry

T = TypeVar("T")

watchlist = typer.Typer(
    help="Watchlist: plates that raise an alert the moment a camera sees them.",
    no_args_is_help=True,
)

# Test-only: seconds the worker waits between its database commit and publishing/acking, so a
# test can kill it at the worst moment.
PAUSE_AFTER_WRITE_ENV = "PLATETRACE_TEST_PAUSE_AFTER_WRITE"

Expiry = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d%z"],
        help="When the entry stops matching, with its time zone (default: in 30 days).",
    ),
]
Colour = Annotated[str | None, typer.Option(help="Only sightings of this colour (if read).")]
Country = Annotated[str | None, typer.Option(help="Only plates of this country, e.g. VN.")]
Priority = Annotated[int | None, typer.Option(min=1, max=5, help="1 is the most urgent.")]
Distance = Annotated[
    float | None,
    typer.Option(help="Fuzzy: the largest OCR-aware distance that still matches (0.5 steps)."),
]


def ingest(
    consumer: Annotated[
        str | None, typer.Option(help="Unique name in the consumer group (default: host-pid).")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Entries per read.")] = 500,
    claim_idle_ms: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="PLATETRACE_INGEST_CLAIM_IDLE_MS",
            help="Take over another worker's pending entries after this idle time.",
        ),
    ] = 30_000,
    quiet_window_s: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="PLATETRACE_ALERT_QUIET_WINDOW_S",
            help="The same plate at the same camera alerts once within this many seconds.",
        ),
    ] = 300.0,
) -> None:
    """Run an ingest worker: sightings stream → store → watchlist → alerts, until stopped."""
    import redis

    from platetrace.settings import get_settings
    from store.db import make_engine
    from tracing.ingest import IngestOptions, IngestWorker, consumer_name

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    pause = float(os.environ.get(PAUSE_AFTER_WRITE_ENV, "0"))

    def after_write() -> None:
        typer.echo("ingest: paused after write")
        time.sleep(pause)

    worker = IngestWorker(
        # The worker retries a batch after any database error, a dead pooled connection too.
        make_engine(settings.database_url, pre_ping=False),
        redis.Redis.from_url(settings.redis_url),
        consumer=consumer or consumer_name(),
        options=IngestOptions(
            batch=batch,
            claim_idle_ms=claim_idle_ms,
            quiet_window=timedelta(seconds=quiet_window_s),
        ),
        after_write=after_write if pause > 0 else None,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.ensure_group()
    entries = worker.load_watchlist()
    # The index is millions of long-lived objects: a full collection scanning them stalls a
    # batch for hundreds of milliseconds (up to 450 ms at 100,000 entries in a profile). Frozen,
    # only what changes later is scanned.
    gc.freeze()
    typer.echo(f"ingest: running with {entries} active watchlist entries")
    worker.run(stop)


@watchlist.command("add")
def add(
    pattern: Annotated[str, typer.Argument(help="Plate, wildcard (? one, * any run), or fuzzy.")],
    reason: Annotated[str, typer.Option(help="Why the vehicle is sought.")],
    legal_basis: Annotated[str, typer.Option(help="Case number or warrant reference.")],
    created_by: Annotated[str, typer.Option(help="Who asks for it (username).")],
    priority: Priority = 3,
    max_distance: Distance = 0.0,
    expires_at: Expiry = None,
    colour: Colour = None,
    country: Country = None,
) -> None:
    """Add a watchlist entry."""
    from store.watchlist import NewWatchlistEntry, add_entry

    new = NewWatchlistEntry(
        pattern=pattern,
        reason=reason,
        legal_basis=legal_basis,
        created_by=created_by,
        priority=priority or 3,
        max_distance=max_distance or 0.0,
        expires_at=expires_at,
        colour=colour,
        country=country,
    )
    entry = _write(lambda conn: add_entry(conn, new))
    _print(entry)


@watchlist.command("list")
def list_(
    state: Annotated[
        str, typer.Option(help="active, expired or all.", case_sensitive=False)
    ] = "active",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List entries, newest first."""
    from store.watchlist import list_entries

    choices = {"active": True, "expired": False, "all": None}
    if state.lower() not in choices:
        _fail(f"state must be one of {', '.join(choices)}, got {state!r}")
    entries = _write(lambda conn: list_entries(conn, active=choices[state.lower()], limit=limit))
    for entry in entries:
        _print(entry)


@watchlist.command("change")
def change(
    entry_id: Annotated[int, typer.Argument(min=1)],
    pattern: Annotated[str | None, typer.Option()] = None,
    max_distance: Distance = None,
    priority: Priority = None,
    reason: Annotated[str | None, typer.Option()] = None,
    legal_basis: Annotated[str | None, typer.Option()] = None,
    expires_at: Expiry = None,
    colour: Colour = None,
    country: Country = None,
) -> None:
    """Change fields of an entry; the rest stay as they are."""
    from store.watchlist import EntryChanges, change_entry

    changes = EntryChanges(
        pattern=pattern,
        max_distance=max_distance,
        priority=priority,
        reason=reason,
        legal_basis=legal_basis,
        expires_at=expires_at,
        colour=colour,
        country=country,
    )
    _print(_write(lambda conn: change_entry(conn, entry_id, changes)))


@watchlist.command("expire")
def expire(entry_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """End an entry now; it stays listed as expired and never matches again."""
    from store.watchlist import expire_entry

    _print(_write(lambda conn: expire_entry(conn, entry_id)))


def _write(action: Callable[[Connection], T]) -> T:
    from store.db import make_engine
    from store.errors import StoreError

    try:
        with make_engine().begin() as conn:
            return action(conn)
    except StoreError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print(entry: WatchlistEntry) -> None:
    p = entry.pattern
    fuzzy = f" ±{p.max_distance:g}" if p.kind == "fuzzy" else ""
    filters = " ".join(f for f in (entry.colour, entry.country) if f)
    typer.echo(
        f"{entry.id}\t{p.text}{fuzzy}\t{p.kind}\tP{entry.priority}\t"
        f"until {entry.expires_at:%Y-%m-%d %H:%M %Z}\t{entry.reason} [{entry.legal_basis}]"
        f"{chr(9) + filters if filters else ''}"
    )


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.add_typer(watchlist, name="watchlist")
