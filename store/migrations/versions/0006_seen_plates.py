"""``seen_plates``: every plate ever written to ``sightings``, with its first and last UTC day.

Fuzzy search enumerates the ~700 plates within OCR distance 1 of what was read and must learn
which of them were seen. Asking ``sightings`` costs one B-tree probe per plate per day
partition (~20,000 probes, 0.5-1 s at 100 million rows); this table answers with ~700 probes
of one small index. Its day range only narrows the candidates: the page query still checks
every row against the window, so a plate kept here after its sightings expired costs nothing
but a probe.

Statement triggers keep it current for every writer, one upsert per statement, and only when a
plate is seen on a new day. Rows written straight into a partition (bulk loads) bypass them:
such a loader fills the table itself, as the backfill below does.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

API_ROLE = "platetrace_api"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE seen_plates (
            plate varchar(16) PRIMARY KEY,
            first_day date NOT NULL,
            last_day date NOT NULL
        )
        """
    )
    # ORDER BY plate: concurrent writers lock the rows they upsert in the same order, so they
    # wait for each other instead of deadlocking.
    op.execute(
        """
        CREATE FUNCTION note_seen_plates() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO seen_plates AS s (plate, first_day, last_day)
            SELECT plate, min((observed_at AT TIME ZONE 'UTC')::date),
                   max((observed_at AT TIME ZONE 'UTC')::date)
            FROM written GROUP BY plate ORDER BY plate
            ON CONFLICT (plate) DO UPDATE
            SET first_day = least(s.first_day, excluded.first_day),
                last_day = greatest(s.last_day, excluded.last_day)
            WHERE excluded.first_day < s.first_day OR excluded.last_day > s.last_day;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER sightings_seen_plates_{event.lower()} AFTER {event} ON sightings "
            "REFERENCING NEW TABLE AS written FOR EACH STATEMENT "
            "EXECUTE FUNCTION note_seen_plates()"
        )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON seen_plates TO {API_ROLE}")
    op.execute(
        "INSERT INTO seen_plates (plate, first_day, last_day) "
        "SELECT plate, min((observed_at AT TIME ZONE 'UTC')::date), "
        "max((observed_at AT TIME ZONE 'UTC')::date) FROM sightings GROUP BY plate"
    )


def downgrade() -> None:
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER sightings_seen_plates_{event} ON sightings")
    op.execute("DROP FUNCTION note_seen_plates()")
    op.execute("DROP TABLE seen_plates")
