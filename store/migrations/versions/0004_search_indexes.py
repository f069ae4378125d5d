"""Indexes for investigators' search: trigrams of plates (wildcards) and time (newest first).

Revision ID: 0004
Revises: 0003

0001 already indexes ``(plate, observed_at)`` (exact and fuzzy search) and
``(camera_id, observed_at)``. Its BRIN index on time prunes blocks but cannot return rows in
time order, which a search for a common wildcard (``51F*``) or a busy area needs to stop after
one page instead of sorting every match.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_sightings_plate_trgm ON sightings USING gin (plate gin_trgm_ops)")
    op.create_index("ix_sightings_time", "sightings", ["observed_at"])


def downgrade() -> None:
    op.drop_index("ix_sightings_time", table_name="sightings")
    op.drop_index("ix_sightings_plate_trgm", table_name="sightings")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
