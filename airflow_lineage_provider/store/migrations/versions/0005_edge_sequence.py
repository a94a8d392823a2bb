"""Edges carry a change sequence, so a long-lived reader's in-memory adjacency index
(``store.adjacency``) can refresh itself with only what changed since it last looked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

``seq`` of ``lineage_edges`` and ``lineage_declared_edges`` is set by the database, never by ingest
code: on insert, and again whenever an edge's ``first_seen`` or ``last_seen`` changes (a trigger), from
one counter (a sequence on PostgreSQL, the largest ``seq`` plus one on SQLite). Writers hold the hash
chain head for their whole transaction (``store.chain``), so edges commit in ``seq`` order and a reader
that has seen ``seq`` up to N has seen every change numbered below N. A deletion of an edge row (the
store's own code never deletes one) counts in ``lineage_graph_changes.deletions``: a reader rebuilds
its index when that count moves. Rows stored before this revision are numbered here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
EDGE_TABLES = ("lineage_edges", "lineage_declared_edges")
SEQUENCE = "lineage_edge_seq"


def _sqlite(table: str) -> list[str]:
    bump = f"UPDATE {table} SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM {table}) WHERE rowid = NEW.rowid"
    return [
        f"UPDATE {table} SET seq = rowid",
        f"CREATE TRIGGER {table}_seq_insert AFTER INSERT ON {table} BEGIN {bump}; END",
        f"CREATE TRIGGER {table}_seq_update AFTER UPDATE OF first_seen, last_seen ON {table} "
        "WHEN NEW.first_seen IS NOT OLD.first_seen OR NEW.last_seen IS NOT OLD.last_seen "
        f"BEGIN {bump}; END",
        f"CREATE TRIGGER {table}_deleted AFTER DELETE ON {table} "
        "BEGIN UPDATE lineage_graph_changes SET deletions = deletions + 1; END",
    ]


def _postgresql(table: str) -> list[str]:
    return [
        f"UPDATE {table} SET seq = nextval('{SEQUENCE}')",
        f"ALTER TABLE {table} ALTER COLUMN seq SET DEFAULT nextval('{SEQUENCE}')",
        f"CREATE TRIGGER {table}_seq_update BEFORE UPDATE ON {table} FOR EACH ROW "
        "WHEN (OLD.first_seen IS DISTINCT FROM NEW.first_seen "
        "OR OLD.last_seen IS DISTINCT FROM NEW.last_seen) "
        "EXECUTE PROCEDURE lineage_edge_touched()",
        f"CREATE TRIGGER {table}_deleted AFTER DELETE ON {table} FOR EACH STATEMENT "
        "EXECUTE PROCEDURE lineage_edge_deleted()",
    ]


_PG_FUNCTIONS = [
    f"CREATE SEQUENCE {SEQUENCE}",
    "CREATE FUNCTION lineage_edge_touched() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN NEW.seq := nextval('{SEQUENCE}'); RETURN NEW; END $$",
    "CREATE FUNCTION lineage_edge_deleted() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN UPDATE lineage_graph_changes SET deletions = deletions + 1; RETURN NULL; END $$",
]


def upgrade() -> None:
    op.create_table(
        "lineage_graph_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("deletions", BIG, nullable=False),
    )
    op.execute("INSERT INTO lineage_graph_changes (id, deletions) VALUES (1, 0)")
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for sql in _PG_FUNCTIONS:
            op.execute(sql)
    for table in EDGE_TABLES:
        op.add_column(table, sa.Column("seq", BIG))
        for sql in _postgresql(table) if postgresql else _sqlite(table):
            op.execute(sql)
        op.create_index(f"ix_{table}_seq", table, ["seq"])


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in EDGE_TABLES:
        op.drop_index(f"ix_{table}_seq", table_name=table)
        triggers = ("seq_update", "deleted") if postgresql else ("seq_insert", "seq_update", "deleted")
        for trigger in triggers:
            op.execute(f"DROP TRIGGER {table}_{trigger}" + (f" ON {table}" if postgresql else ""))
        with op.batch_alter_table(table) as batch:
            batch.drop_column("seq")
    if postgresql:
        op.execute("DROP FUNCTION lineage_edge_touched()")
        op.execute("DROP FUNCTION lineage_edge_deleted()")
        op.execute(f"DROP SEQUENCE {SEQUENCE}")
    op.drop_table("lineage_graph_changes")
