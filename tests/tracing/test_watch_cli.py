from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from platetrace.cli import app
from store.models_alerts import WatchlistEntryModel

ADD = [
    "watchlist",
    "add",
    "--reason",
    "stolen",
    "--legal-basis",
    "HCM-2026-7",
    "--created-by",
    "lead",
]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_add_list_change_expire(clean_engine: Engine) -> None:
    code, out = _run(*ADD, "51A-123.45", "--colour", "white", "--country", "VN")
    assert code == 0, out
    entry_id = out.split("\t")[0]
    assert "51A12345\texact\tP3" in out
    code, out = _run(*ADD, "51A12345", "--max-distance", "1.5", "--priority", "1")
    assert code == 0, out
    assert "51A12345 ±1.5\tfuzzy\tP1" in out

    code, out = _run("watchlist", "change", entry_id, "--pattern", "51A*")
    assert (code, "51A*\twildcard" in out) == (0, True)
    code, out = _run("watchlist", "expire", entry_id)
    assert code == 0, out
    _, active = _run("watchlist", "list")
    _, expired = _run("watchlist", "list", "--state", "expired")
    assert (len(active.splitlines()), len(expired.splitlines())) == (1, 1)
    assert expired.startswith(f"{entry_id}\t51A*")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*ADD, "***"], "not a plate"),
        ([*ADD, "51A12345", "--expires-at", "2020-01-01T00:00+0000"], "in the past"),
        (
            [
                "watchlist",
                "add",
                "51A12345",
                "--reason",
                "x",
                "--legal-basis",
                " ",
                "--created-by",
                "y",
            ],
            "legal_basis is required",
        ),
        (["watchlist", "change", "999", "--priority", "2"], "does not exist"),
        (["watchlist", "expire", "999"], "does not exist"),
        (["watchlist", "list", "--state", "gone"], "state must be one of"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(
    clean_engine: Engine, args: list[str], message: str
) -> None:
    code, out = _run(*args)
    assert code == 2
    assert out.startswith("error: ")
    assert len(out.strip().splitlines()) == 1
    assert message in out
    with clean_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WatchlistEntryModel)).scalar_one() == 0
