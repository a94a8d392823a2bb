"""Raw events record what ingest read leniently (no schemaURL, a time without a zone, ...).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Events stored before this revision were all read strictly: their ``normalised`` stays NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("lineage_events") as batch:
        batch.add_column(sa.Column("normalised", JSON))
    op.create_index(
        "ix_lineage_events_normalised_job",
        "lineage_events",
        ["job_namespace", "job_name"],
        sqlite_where=sa.text("normalised IS NOT NULL"),
        postgresql_where=sa.text("normalised IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_lineage_events_normalised_job", table_name="lineage_events")
    with op.batch_alter_table("lineage_events") as batch:
        batch.drop_column("normalised")
