"""ML lineage and audit: event hash chain, chain head, environments, approvals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Events already stored get their chain hashes here, in id order, so an upgraded store verifies.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from airflow_lineage_provider.store import chain

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _backfill_chain() -> None:
    conn = op.get_bind()
    events = sa.table(
        "lineage_events",
        sa.column("id", BIG),
        sa.column("event_key", sa.String(64)),
        sa.column("payload", JSON),
        sa.column("chain_hash", sa.String(64)),
    )
    previous, last_id, after = chain.GENESIS, None, 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.event_key, events.c.payload)
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(500)
        ).all()
        if not rows:
            break
        for row in rows:
            previous = chain.link(previous, row.event_key, row.payload)
            conn.execute(sa.update(events).where(events.c.id == row.id).values(chain_hash=previous))
            last_id = row.id
        after = rows[-1].id
    head = sa.table(
        "lineage_chain_head",
        sa.column("id", sa.Integer),
        sa.column("last_event_id", BIG),
        sa.column("last_hash", sa.String(64)),
    )
    conn.execute(sa.insert(head).values(id=1, last_event_id=last_id, last_hash=previous))


def upgrade() -> None:
    with op.batch_alter_table("lineage_events") as batch:
        batch.add_column(sa.Column("chain_hash", sa.String(64)))
    op.create_table(
        "lineage_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_event_id", BIG),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "lineage_environments",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("distributions", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "lineage_approvals",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(64), nullable=False, unique=True),
        sa.Column("dataset_id", BIG, nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("framework", sa.String(32)),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lineage_approvals_dataset_id", "lineage_approvals", ["dataset_id"])
    _backfill_chain()


def downgrade() -> None:
    op.drop_table("lineage_approvals")
    op.drop_table("lineage_environments")
    op.drop_table("lineage_chain_head")
    with op.batch_alter_table("lineage_events") as batch:
        batch.drop_column("chain_hash")
