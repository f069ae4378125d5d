"""Trigram index on plates, for investigators' wildcard search (``51F*``, ``*123?5``).

Revision ID: 0004
Revises: 0003

0001 already indexes ``(plate, observed_at)`` (exact and fuzzy search) and
``(camera_id, observed_at)`` (areas and camera sets). A B-tree on ``observed_at`` alone is left
out on purpose: with it the planner walks time backwards for a wildcard it misjudges as common
(``LIKE '%8685'`` is estimated at ~1% of rows, actually 0.01%) and reads millions of rows for
one page; without it, each day partition's trigram bitmap is sorted, newest day first, and the
scan stops as soon as a page is full.
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


def downgrade() -> None:
    op.drop_index("ix_sightings_plate_trgm", table_name="sightings")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
