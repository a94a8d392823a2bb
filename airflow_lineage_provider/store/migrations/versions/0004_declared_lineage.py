"""Declared lineage (the spec's ``lineage`` facet), data quality assertions and searchable tags.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Ingest fills the tables from the events it applies. The events a store held before this revision are
read again once the upgrade reaches head (``store.refill``, run by ``store.schema.upgrade`` in the same
transaction, with today's ingest code and tables), so an upgraded store shows their declared lineage,
assertions and tags too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lineage_declared_edges",
        sa.Column("src", BIG, primary_key=True),
        sa.Column("dst", BIG, primary_key=True),
        sa.Column("declared_by", BIG, primary_key=True),
        sa.Column("run_id", sa.String(36)),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("columns", JSON, nullable=False),
    )
    op.create_index("ix_lineage_declared_edges_dst", "lineage_declared_edges", ["dst", "src"])
    op.create_table(
        "lineage_assertions",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("dataset_id", BIG, primary_key=True),
        sa.Column("version", sa.String(64)),
        sa.Column("assertions", JSON, nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_assertions_dataset", "lineage_assertions", ["dataset_id", "event_time"])
    op.create_table(
        "lineage_tags",
        sa.Column("node_id", BIG, primary_key=True),
        sa.Column("field", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("value", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.Column("run_id", sa.String(36)),
        sa.Column("event_time", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_tags_key", "lineage_tags", ["key"])


def downgrade() -> None:
    op.drop_index("ix_lineage_tags_key", table_name="lineage_tags")
    op.drop_table("lineage_tags")
    op.drop_index("ix_lineage_assertions_dataset", table_name="lineage_assertions")
    op.drop_table("lineage_assertions")
    op.drop_index("ix_lineage_declared_edges_dst", table_name="lineage_declared_edges")
    op.drop_table("lineage_declared_edges")
