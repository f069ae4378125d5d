from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text

from store.audit import (
    GENESIS,
    AuditRow,
    NewAuditEntry,
    append,
    chain_head,
    holds_anchor,
    list_entries,
    row_hash,
    verify_chain,
)
from store.errors import InvalidInput


def entry(n: int, **changes: object) -> NewAuditEntry:
    values: dict[str, object] = {
        "actor_id": n,
        "actor_name": f"user{n % 3}",
        "role": "investigator",
        "agency_id": None,
        "method": "POST",
        "route": "/search",
        "params": {"plate": "51F*", "cameras": [1, 2], "nested": {"ü": 1.5}},
        "reason": "robbery",
        "case_id": f"C-{n % 2}",
        "result_count": n,
        "client_addr": "10.1.2.3",
        **changes,
    }
    return NewAuditEntry(**values)  # type: ignore[arg-type]


def test_rows_link_to_their_predecessor_and_verify(conn: Connection) -> None:
    rows = [append(conn, entry(n)) for n in range(4)]
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert verify_chain(conn) is None
    assert verify_chain(conn, batch=1) is None  # paging across batches keeps the link


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "'nothing to see'"),
        ("params", "'{}'::jsonb"),
        ("at", "at + interval '1 second'"),
        ("result_count", "NULL"),
        ("client_addr", "'127.0.0.1'"),
    ],
)
def test_editing_any_field_is_detected_at_that_row(
    conn: Connection, column: str, value: str
) -> None:
    rows = [append(conn, entry(n)) for n in range(4)]
    conn.execute(
        text(f"UPDATE audit_log SET {column} = {value} WHERE id = :id"),  # noqa: S608
        {"id": rows[2].id},
    )
    assert verify_chain(conn) == rows[2].id


def test_deleting_a_row_is_detected_at_the_next(conn: Connection) -> None:
    rows = [append(conn, entry(n)) for n in range(4)]
    conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": rows[1].id})
    assert verify_chain(conn, batch=2) == rows[2].id


def test_rehashing_an_edited_row_still_breaks_the_next_link(conn: Connection) -> None:
    rows = [append(conn, entry(n)) for n in range(3)]
    edited = {
        "at": rows[1].at, "actor_id": rows[1].actor_id, "actor_name": "someone else",
        "role": rows[1].role, "agency_id": rows[1].agency_id, "method": rows[1].method,
        "route": rows[1].route, "params": rows[1].params, "reason": rows[1].reason,
        "case_id": rows[1].case_id, "result_count": rows[1].result_count,
        "client_addr": rows[1].client_addr,
    }  # fmt: skip
    conn.execute(
        text("UPDATE audit_log SET actor_name = 'someone else', hash = :h WHERE id = :id"),
        {"h": row_hash(edited, rows[1].prev_hash), "id": rows[1].id},
    )
    assert verify_chain(conn) == rows[2].id


def test_filters_and_paging(conn: Connection) -> None:
    start = datetime.now(UTC)
    rows = [append(conn, entry(n), at=start + timedelta(minutes=n)) for n in range(6)]
    assert [r.id for r in list_entries(conn, limit=2)] == [rows[0].id, rows[1].id]
    assert [r.id for r in list_entries(conn, limit=10, after_id=rows[4].id)] == [rows[5].id]
    assert {r.actor_name for r in list_entries(conn, limit=10, actor_name="user1")} == {"user1"}
    assert all(r.case_id == "C-0" for r in list_entries(conn, limit=10, case_id="C-0"))
    window = list_entries(
        conn, limit=10, since=start + timedelta(minutes=2), until=start + timedelta(minutes=4)
    )
    assert [r.id for r in window] == [rows[2].id, rows[3].id]


def test_incomplete_entries_are_refused(conn: Connection) -> None:
    with pytest.raises(InvalidInput):
        append(conn, entry(1, actor_name=""))
    with pytest.raises(InvalidInput):
        append(conn, entry(1, result_count=-1))


def test_concurrent_writers_keep_one_chain(clean_engine: Engine) -> None:
    def write(worker: int) -> None:
        for n in range(15):
            with clean_engine.begin() as conn:
                append(conn, entry(worker * 100 + n))

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(write, range(3)))
    with clean_engine.connect() as conn:
        assert len(list_entries(conn, limit=100)) == 45
        assert verify_chain(conn) is None


def test_a_writer_waiting_for_the_lock_links_to_the_row_committed_meanwhile(
    clean_engine: Engine,
) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        with clean_engine.begin() as first:
            held = append(first, entry(1))
            # Starts while the first transaction holds the lock, so it has to wait for it.
            second = pool.submit(lambda: _append_committed(clean_engine, entry(2)))
            with pytest.raises(TimeoutError):
                second.result(timeout=0.5)
        assert second.result(timeout=10).prev_hash == held.hash


def _append_committed(engine: Engine, new: NewAuditEntry) -> AuditRow:
    with engine.begin() as conn:
        return append(conn, new)


def test_head_and_anchor(conn: Connection) -> None:
    assert chain_head(conn) is None
    rows = [append(conn, entry(n)) for n in range(3)]
    assert chain_head(conn) == rows[-1]
    assert holds_anchor(conn, rows[1].id, rows[1].hash)
    assert not holds_anchor(conn, rows[1].id, rows[0].hash)
    assert not holds_anchor(conn, rows[-1].id + 1, rows[-1].hash)
