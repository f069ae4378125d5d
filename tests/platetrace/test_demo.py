from __future__ import annotations

from datetime import UTC, datetime, timedelta

import networkx as nx
from sqlalchemy import Connection

from platetrace.demo import ROLES, morning_start, seed_cameras, seed_traffic, seed_users
from store.sightings import sightings_by_plate
from store.users import find_user
from store.watchlist import list_entries


def test_the_morning_is_always_over() -> None:
    # 06:00 on the 22nd in HCM (23:00 UTC on the 21st): the morning of the 21st.
    early = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert morning_start(early) == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    # 12:00 in HCM: this morning, 07:00 local = 00:00 UTC.
    noon = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    assert morning_start(noon) == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    for now in (early, noon):
        assert morning_start(now) + timedelta(hours=3) <= now


def test_seeding_builds_a_city_and_a_second_run_reuses_it(
    conn: Connection, monaco: nx.MultiDiGraph
) -> None:
    now = datetime.now(UTC)
    cameras = seed_cameras(conn, monaco, count=40, seed=3)
    assert len(cameras) == 40
    assert all(c.code.startswith("HCM-") and c.graph_node is not None for c in cameras)
    broken = [c for c in cameras if c.status != "online"]
    assert 0 < len(broken) < len(cameras)

    seed_users(conn, cameras)
    seed_users(conn, cameras)
    for role in ROLES:
        user = find_user(conn, f"demo.{role}")
        assert user is not None and user.role.value == role

    world = seed_traffic(conn, monaco, cameras, vehicles=60, seed=3, now=now)
    seen = sightings_by_plate(conn, world.suspect, world.trace_from, world.trace_to)
    assert len(seen) >= 2, "the suspect must leave a route to trace"
    assert {s.camera_id for s in seen} <= {c.id for c in cameras if c.status != "offline"}
    entries = [e for e in list_entries(conn) if e.pattern.text == world.suspect]
    assert len(entries) == 1 and entries[0].priority == 1

    assert seed_cameras(conn, monaco, count=40, seed=3) == cameras
    again = seed_traffic(conn, monaco, cameras, vehicles=60, seed=3, now=now)
    assert again.suspect == world.suspect
    assert len([e for e in list_entries(conn) if e.pattern.text == world.suspect]) == 1
