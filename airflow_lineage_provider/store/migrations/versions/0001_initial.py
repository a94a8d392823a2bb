"""Initial lineage store: raw events, nodes, edges, runs, dataset versions, run io, column lineage.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lineage_events",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("event_type", sa.String(16)),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("job_namespace", sa.Text()),
        sa.Column("job_name", sa.Text()),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_events_run_id", "lineage_events", ["run_id"])
    op.create_table(
        "lineage_nodes",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("node_key", sa.String(40), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(32)),
        sa.Column("facets", JSON, nullable=False),
        sa.Column("facets_time", sa.DateTime()),
        sa.Column("current_version", sa.String(64)),
        sa.Column("current_version_time", sa.DateTime()),
        sa.Column("latest_run_id", sa.String(36)),
        sa.Column("latest_run_time", sa.DateTime()),
        sa.Column("parent_job_id", BIG),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_nodes_kind_namespace", "lineage_nodes", ["kind", "namespace"])
    op.create_table(
        "lineage_edges",
        sa.Column("src", BIG, primary_key=True),
        sa.Column("dst", BIG, primary_key=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("first_run_id", sa.String(36)),
        sa.Column("last_run_id", sa.String(36)),
    )
    op.create_index("ix_lineage_edges_dst_src", "lineage_edges", ["dst", "src"])
    op.create_table(
        "lineage_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("job_id", BIG, nullable=False),
        sa.Column("parent_run_id", sa.String(36)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_time", sa.DateTime()),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("ended_at", sa.DateTime()),
        sa.Column("nominal_start", sa.DateTime()),
        sa.Column("nominal_end", sa.DateTime()),
        sa.Column("facets", JSON, nullable=False),
        sa.Column("facets_time", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_runs_job_id", "lineage_runs", ["job_id"])
    op.create_index("ix_lineage_runs_parent_run_id", "lineage_runs", ["parent_run_id"])
    op.create_table(
        "lineage_dataset_versions",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", BIG, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("facets", JSON, nullable=False),
    )
    op.create_index(
        "ux_lineage_dataset_versions", "lineage_dataset_versions", ["dataset_id", "version"], unique=True
    )
    op.create_index("ix_lineage_dataset_versions_run_id", "lineage_dataset_versions", ["run_id"])
    op.create_table(
        "lineage_run_io",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("dataset_id", BIG, primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("version", sa.String(64)),
        sa.Column("event_time", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_run_io_dataset", "lineage_run_io", ["dataset_id", "direction"])
    op.create_table(
        "lineage_column_lineage",
        sa.Column("output_dataset_id", BIG, primary_key=True),
        sa.Column("output_field", sa.String(512), primary_key=True),
        sa.Column("input_dataset_id", BIG, primary_key=True),
        sa.Column("input_field", sa.String(512), primary_key=True),
        sa.Column("transformations", JSON, nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_lineage_column_lineage_input", "lineage_column_lineage", ["input_dataset_id", "input_field"]
    )


def downgrade() -> None:
    for table in (
        "lineage_column_lineage",
        "lineage_run_io",
        "lineage_dataset_versions",
        "lineage_runs",
        "lineage_edges",
        "lineage_nodes",
        "lineage_events",
    ):
        op.drop_table(table)
