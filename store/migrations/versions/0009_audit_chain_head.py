"""``audit_chain_head()``: take the audit log's append lock and read the newest row's hash, in
one round trip.

Appending an audit row must read its predecessor's hash after taking the lock, or two writers
could link to the same row. One plain statement cannot do both: its snapshot is taken before
the lock is granted, so it could miss a row committed while it waited. A volatile function
takes a fresh snapshot for each statement in it, so the read follows the lock; every request
that touches personal data saves a round trip.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

API_ROLE = "platetrace_api"
# The lock store.audit took itself before, so processes on the old code still serialise.
APPEND_LOCK = 7_215_003


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION audit_chain_head() RETURNS varchar VOLATILE LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({APPEND_LOCK});
            RETURN (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1);
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION audit_chain_head() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION audit_chain_head() TO {API_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION audit_chain_head()")
