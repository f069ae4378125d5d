"""Watchlist entries and dispatcher alerts.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TSTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("max_distance", sa.Float, nullable=False, server_default="0"),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("colour", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("expires_at", TSTZ, nullable=False),
        sa.Column("created_at", TSTZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('exact', 'wildcard', 'fuzzy')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'fuzzy') = (max_distance > 0) AND max_distance <= 2", name="distance_fits_kind"
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        sa.CheckConstraint("length(btrim(legal_basis)) > 0", name="legal_basis_given"),
        sa.CheckConstraint("length(btrim(reason)) > 0", name="reason_given"),
        sa.CheckConstraint("length(btrim(created_by)) > 0", name="created_by_given"),
    )
    # The matcher polls for changes by updated_at; listing filters by expiry.
    op.create_index("ix_watchlist_entries_updated_at", "watchlist_entries", ["updated_at"])
    op.create_index("ix_watchlist_entries_expires_at", "watchlist_entries", ["expires_at"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "entry_id",
            sa.BigInteger,
            sa.ForeignKey("watchlist_entries.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        # Sightings are partitioned by day and dropped at retention; the alert keeps its own copy
        # of what the dispatcher needs, keyed by the sighting's ingest key (no FK on purpose).
        sa.Column("ingest_key", sa.Text, nullable=False, unique=True),
        sa.Column("plate", sa.Text, nullable=False),
        sa.Column("plate_raw", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("colour", sa.Text),
        sa.Column("observed_at", TSTZ, nullable=False),
        sa.Column("box", postgresql.ARRAY(sa.Integer)),
        sa.Column("evidence_key", sa.Text),
        sa.Column(
            "camera_id",
            sa.Integer,
            sa.ForeignKey("cameras.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("camera_code", sa.Text, nullable=False),
        sa.Column("camera_name", sa.Text, nullable=False),
        sa.Column("camera_location", Geometry("POINT", srid=4326), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("fuzzy", sa.Boolean, nullable=False),
        sa.Column("distance", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="new"),
        sa.Column("assignee", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("stream_id", sa.Text),
        sa.Column("created_at", TSTZ, nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", TSTZ),
        sa.Column("acknowledged_at", TSTZ),
        sa.Column("acknowledged_by", sa.Text),
        sa.Column("assigned_at", TSTZ),
        sa.Column("closed_at", TSTZ),
        sa.Column("closed_by", sa.Text),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('new', 'acknowledged', 'assigned', 'closed')", name="status_known"
        ),
        sa.CheckConstraint(
            "(status = 'closed') = (outcome IS NOT NULL)", name="closed_has_outcome"
        ),
        sa.CheckConstraint(
            "status <> 'assigned' OR assignee IS NOT NULL", name="assigned_has_assignee"
        ),
    )
    # Noise control looks for a recent alert of the same plate at the same camera.
    op.create_index(
        "ix_alerts_plate_camera_observed", "alerts", ["plate", "camera_id", "observed_at"]
    )
    op.create_index("ix_alerts_status_created", "alerts", ["status", "created_at"])
    # Recovery republishes alerts that were stored but never reached the stream.
    op.create_index(
        "ix_alerts_unpublished", "alerts", ["id"], postgresql_where=sa.text("stream_id IS NULL")
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("watchlist_entries")
