from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from benchmarks.search_data import COLOURS, DAYS, load, without_keys_and_indexes


def _definitions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = 'sightings'::regclass UNION ALL "
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'sightings'::regclass"
                )
            ).scalars()
        )


def test_binary_copy_loads_what_was_generated_and_rebuilds_every_index(
    clean_engine: Engine,
) -> None:
    before = _definitions(clean_engine)
    with without_keys_and_indexes(clean_engine, "sightings"):
        assert not any("INDEX" in d for d in _definitions(clean_engine))
        plates, end = load(clean_engine, rows=5_000, cameras=40, seed=3)
    assert _definitions(clean_engine) == before
    with clean_engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM sightings ORDER BY id")).all()
        next_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('sightings', 'id'))"))
        assert next_id.scalar_one() == 5_001  # writers continue after the loaded ids
    assert [r.id for r in rows] == list(range(1, 5_001))
    times = [r.observed_at for r in rows]
    assert times == sorted(times)
    assert end - timedelta(days=DAYS) <= times[0] and times[-1] < end
    assert {r.plate for r in rows} <= set(plates)
    colours = {c.decode() for c in COLOURS}
    for r in rows:
        assert r.ingest_key == f"b{r.id:09d}"
        assert r.plate_raw == f"{r.plate[:3]}-{r.plate[3:6]}.{r.plate[6:]}"
        assert r.country == "VN" and r.colour in colours and 0.6 <= r.confidence <= 1
