"""The API role owns nothing: a day partition of ``sightings`` is created by a function.

Until now ``platetrace_api`` owned ``sightings`` (only a partitioned table's owner may attach a
partition) and could create tables in ``public``, so a compromised API could drop or alter the
sightings table. ``create_sightings_partition(day)`` runs with the rights of the role that
migrates (``SECURITY DEFINER``) and can do nothing but create one UTC day's partition; the API
may execute it and keeps plain SELECT/INSERT/UPDATE/DELETE on the tables.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

API_ROLE = "platetrace_api"
# The same lock as before, so processes on the old code and the function never race.
PARTITION_LOCK = 7_215_001
FUNCTION = "create_sightings_partition(date)"


def upgrade() -> None:
    # A fixed search_path (pg_temp last) so the caller cannot slip in its own objects.
    op.execute(
        f"""
        CREATE FUNCTION create_sightings_partition(day date) RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            name text := 'sightings_p' || to_char(day, 'YYYYMMDD');
            lower timestamptz := day::timestamp AT TIME ZONE 'UTC';
        BEGIN
            IF day IS NULL THEN
                RAISE EXCEPTION 'a partition needs a day';
            END IF;
            -- Two writers racing to create the same day would fail on "already exists".
            PERFORM pg_advisory_xact_lock({PARTITION_LOCK});
            IF to_regclass('public.' || quote_ident(name)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE public.%I PARTITION OF public.sightings '
                    'FOR VALUES FROM (%L) TO (%L)',
                    name, lower, lower + interval '1 day'
                );
            END IF;
            RETURN name;
        END $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {API_ROLE}")
    op.execute("ALTER TABLE sightings OWNER TO CURRENT_USER")
    # The API's rights on the table went with its ownership; it gets back what others have.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON sightings TO {API_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {API_ROLE}")
    # Partitions the API created belong to it; the migrating role takes them over.
    op.execute(
        f"""
        DO $$
        DECLARE part regclass;
        BEGIN
            FOR part IN
                SELECT i.inhrelid::regclass FROM pg_inherits i JOIN pg_class c
                ON c.oid = i.inhrelid WHERE i.inhparent = 'sightings'::regclass
                AND pg_get_userbyid(c.relowner) = '{API_ROLE}'
            LOOP
                EXECUTE format('ALTER TABLE %s OWNER TO CURRENT_USER', part);
            END LOOP;
        END $$
        """
    )
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {API_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT CREATE ON SCHEMA public TO {API_ROLE}")
    op.execute(f"ALTER TABLE sightings OWNER TO {API_ROLE}")
    op.execute(f"DROP FUNCTION {FUNCTION}")
