"""Subcommands of ``platetrace`` that belong to this package: ``serve``, ``users``, ``audit``."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

users = typer.Typer(help="Users of the service.", no_args_is_help=True)
audit = typer.Typer(help="The audit trail.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: the setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: the setting).")] = None,
    as_role: Annotated[
        str | None,
        typer.Option(
            "--as-role",
            help="Database role the API switches to (default: the setting api_db_role).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP API."""
    import os

    import uvicorn

    from platetrace.settings import get_settings

    if as_role is not None:
        # Workers build their own settings from the environment, so pass it on that way.
        os.environ["PLATETRACE_API_DB_ROLE"] = as_role
        get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
    )


@users.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. lan.nguyen.")],
    role: Annotated[str, typer.Option(help="admin, investigator, dispatcher, operator, auditor.")],
    agency: Annotated[
        str | None, typer.Option(help="Agency code; created if new (needs --agency-name).")
    ] = None,
    agency_name: Annotated[str | None, typer.Option(help="Name of a new agency.")] = None,
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ] = "",
) -> None:
    """Create a user (the first admin, typically)."""
    from api.security import hash_password
    from store.db import make_engine
    from store.errors import NotFound, StoreError
    from store.users import NewUser, Role, create_agency, create_user, get_agency_by_code

    if len(password) < 12:
        _fail("the password must be at least 12 characters")
    try:
        user_role = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}")
    try:
        with make_engine().begin() as conn:
            agency_id = None
            if agency is not None:
                try:
                    agency_id = get_agency_by_code(conn, agency).id
                except NotFound:
                    if not agency_name:
                        raise
                    agency_id = create_agency(conn, code=agency, name=agency_name).id
            row = create_user(
                conn,
                NewUser(
                    username=username,
                    password_hash=hash_password(password),
                    role=user_role,
                    agency_id=agency_id,
                ),
            )
    except StoreError as exc:
        _fail(str(exc))
    typer.echo(f"user {row.id} {row.username} ({row.role.value}) created")


@audit.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            metavar="ID:HASH",
            help="A head printed by an earlier run: also check it is still there, unchanged "
            "(catches rows cut off the end, which a chain alone cannot).",
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken row."""
    from store.audit import chain_head, holds_anchor, verify_chain
    from store.db import make_engine

    anchored: tuple[int, str] | None = None
    if anchor is not None:
        row_id, _, row_hash = anchor.partition(":")
        if not row_id.isdigit() or len(row_hash) != 64:
            _fail(f"--anchor must be ID:HASH as printed by this command, got {anchor!r}")
        anchored = int(row_id), row_hash
    with make_engine().connect() as conn:
        broken = verify_chain(conn)
        kept = anchored is None or holds_anchor(conn, *anchored)
        head = chain_head(conn)
    if broken is not None:
        typer.echo(f"audit log broken at row {broken}: edited, inserted or deleted", err=True)
        raise typer.Exit(1)
    if not kept:
        typer.echo(
            f"audit log lost or changed anchor row {anchor}: truncated or rewritten", err=True
        )
        raise typer.Exit(1)
    if head is None:
        typer.echo("audit log intact: empty")
    else:
        typer.echo(f"audit log intact; head (keep it for --anchor): {head.id}:{head.hash}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the main app."""
    app.command()(serve)
    app.add_typer(users, name="users")
    app.add_typer(audit, name="audit")
