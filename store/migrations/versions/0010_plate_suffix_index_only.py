"""The reversed-plate index also carries the plate itself, so suffix counts are index-only.

PostgreSQL answers from an index alone only when every column a query names is in it; a query
on ``reverse(plate)`` names ``plate``, which 0008's index held only inside the expression. At
100 million rows, counting ``*1234`` then read ~10,000 heap pages (0.3-1.4 s) instead of the
index's leaf pages.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _reversed_plate_index(include: str) -> None:
    op.drop_index("ix_sightings_plate_reversed", table_name="sightings")
    op.execute(
        "CREATE INDEX ix_sightings_plate_reversed ON sightings "
        f"(reverse(plate), observed_at) INCLUDE ({include})"
    )


def upgrade() -> None:
    _reversed_plate_index("camera_id, plate")


def downgrade() -> None:
    _reversed_plate_index("camera_id")
