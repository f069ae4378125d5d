"""Foundation: cameras, sightings partitioned by day, case holds.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CODE_PATTERN = r"^[A-Z]{2,4}-[A-Z0-9]{1,4}-[A-Z0-9]{1,4}-[0-9]{4}$"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("heading", sa.Float),
        sa.Column("graph_node", sa.BigInteger),
        sa.Column("stream_url", sa.Text),
        sa.Column("status", sa.String(16), nullable=False, server_default="offline"),
        sa.Column("last_frame_at", TZ),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="ck_cameras_code"),
        sa.CheckConstraint("heading >= 0 AND heading < 360", name="ck_cameras_heading"),
        sa.CheckConstraint(
            "status IN ('online', 'stale', 'offline', 'disabled')", name="ck_cameras_status"
        ),
    )
    op.create_index("ix_cameras_location", "cameras", ["location"], postgresql_using="gist")

    op.create_table(
        "sightings",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("observed_at", TZ, nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("plate_raw", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("colour", sa.String(16)),
        sa.Column("colour_confidence", sa.Float, nullable=False, server_default="0"),
        sa.Column(
            "camera_id",
            sa.Integer,
            sa.ForeignKey("cameras.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("box", sa.ARRAY(sa.Integer)),
        sa.Column("evidence_key", sa.Text),
        sa.Column("track_id", sa.Text),
        sa.Column("ingest_key", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", "observed_at"),
        sa.CheckConstraint("plate <> ''", name="ck_sightings_plate"),
        sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_sightings_confidence"),
        postgresql_partition_by="RANGE (observed_at)",
    )
    op.create_index(
        "uq_sightings_ingest_key", "sightings", ["ingest_key", "observed_at"], unique=True
    )
    op.create_index("ix_sightings_plate_time", "sightings", ["plate", "observed_at"])
    op.create_index("ix_sightings_camera_time", "sightings", ["camera_id", "observed_at"])
    op.create_index("ix_sightings_time_brin", "sightings", ["observed_at"], postgresql_using="brin")

    op.create_table(
        "case_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(16)),
        sa.Column("sighting_id", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("until", TZ, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "(plate IS NOT NULL) <> (sighting_id IS NOT NULL)", name="ck_case_holds_target"
        ),
        sa.CheckConstraint("case_id <> '' AND reason <> ''", name="ck_case_holds_text"),
    )
    op.create_index("ix_case_holds_plate", "case_holds", ["plate"])
    op.create_index("ix_case_holds_sighting_id", "case_holds", ["sighting_id"])

    # The first week of partitions; writers and `platetrace maintain` create the rest. Written
    # out here: from 0005 on, the application creates partitions through a database function.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(-1, 8):
        lower, upper = today + timedelta(days=offset), today + timedelta(days=offset + 1)
        op.execute(
            f"CREATE TABLE sightings_p{lower:%Y%m%d} PARTITION OF sightings "
            f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
        )


def downgrade() -> None:
    op.drop_table("case_holds")
    op.drop_table("sightings")  # drops every partition with it
    op.drop_table("cameras")
