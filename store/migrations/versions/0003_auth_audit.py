"""Agencies, users, API keys, camera access per agency, the audit log, and the API's role.

The API runs as the database role ``platetrace_api`` (``SET ROLE``): it may read and write the
operational tables but only INSERT and SELECT on ``audit_log``, so not even a compromised API
can rewrite the trail.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

API_ROLE = "platetrace_api"
TZ = sa.DateTime(timezone=True)
DML = "SELECT, INSERT, UPDATE, DELETE"


def _create_role() -> None:
    # Roles are cluster-wide: another database (or a concurrent migration) may have made it.
    op.execute(
        f"""
        DO $$
        BEGIN
            CREATE ROLE {API_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'", name="ck_agencies_code"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id", ondelete="RESTRICT")),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "role IN ('admin', 'investigator', 'dispatcher', 'operator', 'auditor')",
            name="ck_users_role",
        ),
        sa.CheckConstraint(
            "agency_id IS NOT NULL OR role IN ('admin', 'auditor')", name="ck_users_agency"
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id", ondelete="RESTRICT")),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TZ),
    )
    op.create_table(
        "camera_agencies",
        sa.Column(
            "agency_id",
            sa.Integer,
            sa.ForeignKey("agencies.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "camera_id",
            sa.Integer,
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_id", sa.Integer),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("params", postgresql.JSONB, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("case_id", sa.Text),
        sa.Column("result_count", sa.Integer),
        sa.Column("client_addr", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_case_id", "audit_log", ["case_id"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor_name", "at"])

    _create_role()
    op.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {API_ROLE}")
    op.execute(f"GRANT {DML} ON ALL TABLES IN SCHEMA public TO {API_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {API_ROLE}")
    # Tables of later migrations get the same rights; audit_log already exists, so this
    # cannot widen it.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DML} ON TABLES TO {API_ROLE}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {API_ROLE}"
    )
    # Ingest creates day partitions on the fly, which only the parent's owner may do.
    op.execute(f"ALTER TABLE sightings OWNER TO {API_ROLE}")
    op.execute(f"REVOKE ALL ON audit_log FROM {API_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON audit_log TO {API_ROLE}")


def downgrade() -> None:
    op.execute("ALTER TABLE sightings OWNER TO CURRENT_USER")
    # Partitions the API created belong to it; keep them (they hold sightings) before dropping.
    op.execute(f"REASSIGN OWNED BY {API_ROLE} TO CURRENT_USER")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE {DML} ON TABLES FROM {API_ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE USAGE, SELECT ON SEQUENCES FROM {API_ROLE}"
    )
    op.execute(f"DROP OWNED BY {API_ROLE}")
    op.drop_table("audit_log")
    op.drop_table("camera_agencies")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("agencies")
    # The role itself stays: roles are cluster-wide and may serve other databases.
