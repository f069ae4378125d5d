"""The plate B-tree also carries ``camera_id``, so counting a plate pattern's matches within
the cameras a caller may use reads the index alone.

Search counts a page's matches up to 10,000. For ``51F*`` over 100 million rows that was
10,000 heap reads, one per match, only to check each row's camera against the agency's; with
``camera_id`` in the index it is an index-only scan of ~50 leaf pages (where the visibility
map says the pages are all-visible: every closed day once autovacuum has passed).

On a large database this rebuilds every day partition's plate index under a lock that blocks
writes: run it in a quiet hour.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sightings_plate_time", table_name="sightings")
    op.create_index(
        "ix_sightings_plate_time",
        "sightings",
        ["plate", "observed_at"],
        postgresql_include=["camera_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_sightings_plate_time", table_name="sightings")
    op.create_index("ix_sightings_plate_time", "sightings", ["plate", "observed_at"])
