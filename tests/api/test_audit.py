from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from platetrace.cli import app as cli
from store.audit import NewAuditEntry, append
from tests.api.conftest import PURPOSE, World

runner = CliRunner()


def entry(n: int) -> NewAuditEntry:
    return NewAuditEntry(
        actor_id=n,
        actor_name=f"user{n}",
        role="investigator",
        agency_id=1,
        method="GET",
        route="/sightings/{sighting_id}",
        params={"sighting_id": str(n)},
        reason="case work",
        case_id=f"C-{n}",
        result_count=1,
        client_addr="10.0.0.1",
    )


@pytest.fixture
def committed_log(clean_engine: Engine) -> Iterator[list[int]]:
    """Five committed audit rows, as `platetrace audit verify` (another connection) sees them."""
    ids = []
    for n in range(5):
        with clean_engine.begin() as conn:
            ids.append(append(conn, entry(n)).id)
    yield ids


def test_cli_verify_names_the_row_edited_in_sql(
    clean_engine: Engine, committed_log: list[int]
) -> None:
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    with clean_engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET result_count = 0 WHERE id = :id"), {"id": committed_log[2]}
        )
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {committed_log[2]}" in result.output


def test_cli_verify_names_the_row_after_a_deleted_one(
    clean_engine: Engine, committed_log: list[int]
) -> None:
    with clean_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": committed_log[1]})
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {committed_log[2]}" in result.output


def test_the_api_database_role_cannot_change_or_delete_audit_rows(conn: Connection) -> None:
    append(conn, entry(1))
    for statement in (
        "UPDATE audit_log SET reason = 'nothing to see'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        savepoint = conn.begin_nested()
        conn.execute(text("SET LOCAL ROLE platetrace_api"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text(statement))
        savepoint.rollback()
    savepoint = conn.begin_nested()
    conn.execute(text("SET LOCAL ROLE platetrace_api"))
    append(conn, entry(2))  # appending is what it may do
    savepoint.rollback()


def test_no_route_can_write_the_audit_log() -> None:
    from api.main import create_app

    for context in iter_route_contexts(create_app().routes):
        if isinstance(context.route, APIRoute) and (context.path or "").startswith("/audit"):
            assert context.methods == {"GET"}, context.path


def test_auditor_reads_filters_and_pages_the_log(client: TestClient, world: World) -> None:
    headers = world.headers["auditor"]
    for _ in range(2):  # two personal-data reads, each one audited
        client.get(
            f"/sightings/{world.sighting_a}", params=PURPOSE, headers=world.headers["investigator"]
        )
    listed = client.get("/audit", params={"actor": "investigator"}, headers=headers)
    assert listed.status_code == 200
    rows = listed.json()
    assert len(rows) == 2
    assert all(
        r["case_id"] == PURPOSE["case_id"] and r["reason"] == PURPOSE["reason"] for r in rows
    )
    assert rows[0]["params"] == {"sighting_id": str(world.sighting_a)}
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    page = client.get(
        "/audit",
        params={"after_id": rows[0]["id"], "limit": 1, "actor": "investigator"},
        headers=headers,
    )
    assert [r["id"] for r in page.json()] == [rows[1]["id"]]
    by_case = client.get("/audit", params={"case": "no-such-case"}, headers=headers).json()
    assert by_case == []
    # Reading the log is itself on the log.
    own = client.get("/audit", params={"actor": "auditor"}, headers=headers).json()
    assert own and own[-1]["route"] == "/audit"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 100_000},
        {"after_id": -1},
        {"since": "yesterday"},
        {"since": "2026-11-01T00:00:00"},
    ],
)
def test_bad_audit_queries_are_refused(
    client: TestClient, world: World, params: dict[str, object]
) -> None:
    response = client.get("/audit", params=params, headers=world.headers["auditor"])
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_verify_route_reports_a_tampered_row(
    client: TestClient, world: World, conn: Connection
) -> None:
    client.get(
        f"/sightings/{world.sighting_a}", params=PURPOSE, headers=world.headers["investigator"]
    )
    headers = world.headers["auditor"]
    assert client.get("/audit/verify", headers=headers).json() == {
        "intact": True,
        "first_broken_id": None,
    }
    victim = conn.execute(text("SELECT min(id) FROM audit_log")).scalar_one()
    conn.execute(text("UPDATE audit_log SET case_id = 'other' WHERE id = :id"), {"id": victim})
    assert client.get("/audit/verify", headers=headers).json() == {
        "intact": False,
        "first_broken_id": victim,
    }


def test_a_failed_request_leaves_no_audit_row(
    client: TestClient, world: World, conn: Connection
) -> None:
    before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    client.get("/sightings/987654321", params=PURPOSE, headers=world.headers["admin"])
    client.get(f"/sightings/{world.sighting_a}", headers=world.headers["admin"])  # no purpose
    assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == before


def test_an_anchor_catches_rows_cut_off_the_end(
    clean_engine: Engine, committed_log: list[int]
) -> None:
    result = runner.invoke(cli, ["audit", "verify"])
    head = result.output.strip().rsplit(" ", 1)[-1]
    assert head.startswith(f"{committed_log[-1]}:")
    assert runner.invoke(cli, ["audit", "verify", "--anchor", head]).exit_code == 0
    with clean_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": committed_log[3]})
    # The shortened chain is still a valid chain; only the recorded head shows the cut.
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    result = runner.invoke(cli, ["audit", "verify", "--anchor", head])
    assert result.exit_code == 1
    assert "anchor" in result.output


def test_a_malformed_anchor_is_refused(clean_engine: Engine) -> None:
    result = runner.invoke(cli, ["audit", "verify", "--anchor", "7:not-a-hash"])
    assert result.exit_code == 2
    assert "ID:HASH" in result.output
