"""Tables of the lineage store (own DeclarativeBase, own metadata: never Airflow's).

The raw event log is append-only; everything else is derived from it:
nodes (datasets and jobs) -> edges (job-level, with first/last seen for history) ->
runs -> run_io (which dataset version each run read and wrote) -> dataset_versions ->
column_lineage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER keys


class Base(DeclarativeBase):
    pass


class Event(Base):
    """One raw OpenLineage event, as received (append-only)."""

    __tablename__ = "lineage_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    event_type: Mapped[str | None] = mapped_column(String(16))
    event_time: Mapped[datetime] = mapped_column(DateTime())
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    job_namespace: Mapped[str | None] = mapped_column(Text)
    job_name: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    received_at: Mapped[datetime] = mapped_column(DateTime())
    # sha256 of the previous event's chain_hash and this event (see store.chain): tamper evidence.
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    # What ingest read leniently (core.normalisation): [{"field", "note"}], or NULL when nothing.
    normalised: Mapped[list[Any] | None] = mapped_column(JsonType)

    __table_args__ = (
        # only the few events read leniently: `show job:...` lists them without scanning the log
        Index(
            "ix_lineage_events_normalised_job",
            "job_namespace",
            "job_name",
            sqlite_where=text("normalised IS NOT NULL"),
            postgresql_where=text("normalised IS NOT NULL"),
        ),
    )


class Node(Base):
    """A dataset or a job. ``node_key`` is a hash of (kind, namespace, name)."""

    __tablename__ = "lineage_nodes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node_key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    namespace: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(32))
    facets: Mapped[dict[str, Any]] = mapped_column(JsonType)
    facets_time: Mapped[datetime | None] = mapped_column(DateTime())
    current_version: Mapped[str | None] = mapped_column(String(64))
    current_version_time: Mapped[datetime | None] = mapped_column(DateTime())
    latest_run_id: Mapped[str | None] = mapped_column(String(36))
    latest_run_time: Mapped[datetime | None] = mapped_column(DateTime())
    parent_job_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (Index("ix_lineage_nodes_kind_namespace", "kind", "namespace"),)


class Edge(Base):
    """Directed, in data-flow direction: dataset -> job (read) or job -> dataset (write)."""

    __tablename__ = "lineage_edges"
    src: Mapped[int] = mapped_column(BigId, primary_key=True)
    dst: Mapped[int] = mapped_column(BigId, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime())
    last_seen: Mapped[datetime] = mapped_column(DateTime())
    first_run_id: Mapped[str | None] = mapped_column(String(36))
    last_run_id: Mapped[str | None] = mapped_column(String(36))
    # Set by the database on insert and when first_seen or last_seen changes (migration 0005): what an
    # in-memory adjacency index (store.adjacency) reads to catch up. Ingest never writes it.
    seq: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (
        Index("ix_lineage_edges_dst_src", "dst", "src"),
        Index("ix_lineage_edges_seq", "seq"),
    )


class Run(Base):
    __tablename__ = "lineage_runs"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[int] = mapped_column(BigId, index=True)
    parent_run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    state: Mapped[str] = mapped_column(String(16))
    state_time: Mapped[datetime | None] = mapped_column(DateTime())
    started_at: Mapped[datetime | None] = mapped_column(DateTime())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime())
    nominal_start: Mapped[datetime | None] = mapped_column(DateTime())
    nominal_end: Mapped[datetime | None] = mapped_column(DateTime())
    facets: Mapped[dict[str, Any]] = mapped_column(JsonType)
    facets_time: Mapped[datetime | None] = mapped_column(DateTime())
    created_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class DatasetVersion(Base):
    __tablename__ = "lineage_dataset_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    facets: Mapped[dict[str, Any]] = mapped_column(JsonType)

    __table_args__ = (Index("ux_lineage_dataset_versions", "dataset_id", "version", unique=True),)


class RunIO(Base):
    """Which dataset (and which version of it) a run read (``input``) or wrote (``output``)."""

    __tablename__ = "lineage_run_io"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[str | None] = mapped_column(String(64))
    event_time: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (Index("ix_lineage_run_io_dataset", "dataset_id", "direction"),)


class ColumnLineage(Base):
    """Output field <- input field, from the columnLineage facet (latest writer wins)."""

    __tablename__ = "lineage_column_lineage"
    output_dataset_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    output_field: Mapped[str] = mapped_column(String(512), primary_key=True)
    input_dataset_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    input_field: Mapped[str] = mapped_column(String(512), primary_key=True)
    transformations: Mapped[list[Any]] = mapped_column(JsonType)
    run_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (Index("ix_lineage_column_lineage_input", "input_dataset_id", "input_field"),)


class ChainHead(Base):
    """The one row holding the newest event of the hash chain; writers lock it to append in order."""

    __tablename__ = "lineage_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))


class Environment(Base):
    """Installed Python distributions of a reproducibility record, stored once per distinct hash."""

    __tablename__ = "lineage_environments"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    distributions: Mapped[list[Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Approval(Base):
    """An approval of one model version (append-only; derived from its raw approval event)."""

    __tablename__ = "lineage_approvals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    dataset_id: Mapped[int] = mapped_column(BigId, index=True)
    version: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    framework: Mapped[str | None] = mapped_column(String(32))
    approved_at: Mapped[datetime] = mapped_column(DateTime())


class DeclaredEdge(Base):
    """Lineage a producer declared (the spec's ``lineage`` facet), kept apart from observed edges.

    Any kind to any kind (dataset -> dataset, job -> job, ...), in data-flow direction;
    ``declared_by`` is the job of the declaring event (0 for a dataset event: no job), which decides
    who may see it; ``columns`` holds the declared field entries of the pair."""

    __tablename__ = "lineage_declared_edges"
    src: Mapped[int] = mapped_column(BigId, primary_key=True)
    dst: Mapped[int] = mapped_column(BigId, primary_key=True)
    declared_by: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(36))
    first_seen: Mapped[datetime] = mapped_column(DateTime())
    last_seen: Mapped[datetime] = mapped_column(DateTime())
    columns: Mapped[list[Any]] = mapped_column(JsonType)
    seq: Mapped[int | None] = mapped_column(BigId)  # as Edge.seq

    __table_args__ = (
        Index("ix_lineage_declared_edges_dst", "dst", "src"),
        Index("ix_lineage_declared_edges_seq", "seq"),
    )


class GraphChanges(Base):
    """One row: how many times edge rows were deleted (a trigger counts; migration 0005). An
    in-memory adjacency index rebuilds itself when the count moves."""

    __tablename__ = "lineage_graph_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deletions: Mapped[int] = mapped_column(BigId)


class Assertion(Base):
    """Data quality assertions one run reported on one dataset (``dataQualityAssertions``)."""

    __tablename__ = "lineage_assertions"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str | None] = mapped_column(String(64))
    assertions: Mapped[list[Any]] = mapped_column(JsonType)
    failing: Mapped[int] = mapped_column(Integer)
    event_time: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (Index("ix_lineage_assertions_dataset", "dataset_id", "event_time"),)


class Tag(Base):
    """A tag of a dataset or job (``tags`` facet), or of one of a dataset's fields: searchable."""

    __tablename__ = "lineage_tags"
    node_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    field: Mapped[str] = mapped_column(String(512), primary_key=True)  # "" for the whole node
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36))
    event_time: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (Index("ix_lineage_tags_key", "key"),)
