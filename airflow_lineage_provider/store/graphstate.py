"""The part of the graph one batch of events touches, loaded once, changed in memory, written once.

:class:`GraphState` loads the nodes and runs a batch names with a few ``IN`` queries, lets
:mod:`.writes` apply the events one by one to plain Python rows (so each event sees what the
events before it did, exactly as if each were written on its own), and writes every changed row
back with one multi-row ``INSERT ... ON CONFLICT`` per table. Writers hold the hash-chain head for
the whole transaction (:func:`.chain.lock_head`), so no other writer changes these rows meanwhile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, select

from airflow_lineage_provider.store.tables import ColumnLineage, DatasetVersion, Edge, Node, Run, RunIO
from airflow_lineage_provider.store.upserts import bulk, insert, sqlite_time, statement

_CHUNK = 500
_NODE_STATE = (
    "type",
    "facets",
    "facets_time",
    "current_version",
    "current_version_time",
    "latest_run_id",
    "latest_run_time",
    "parent_job_id",
    "updated_at",
)
_RUN_STATE = (
    "job_id",
    "parent_run_id",
    "state",
    "state_time",
    "started_at",
    "ended_at",
    "nominal_start",
    "nominal_end",
    "facets",
    "facets_time",
    "updated_at",
)


def node_key(kind: str, namespace: str, name: str) -> str:
    return hashlib.sha1(f"{kind}\x00{namespace}\x00{name}".encode()).hexdigest()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass
class EdgeSpan:
    first_seen: datetime
    first_run_id: str | None
    last_seen: datetime
    last_run_id: str | None


@dataclass
class GraphState:
    """Rows of one batch; ``nodes`` and ``runs`` are dicts of column values."""

    conn: Connection
    now: datetime
    ids: dict[str, int] = field(default_factory=dict)
    by_name: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (kind, ns, name) -> id
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty_nodes: set[int] = field(default_factory=set)
    dirty_runs: set[str] = field(default_factory=set)
    edges: dict[tuple[int, int], EdgeSpan] = field(default_factory=dict)
    run_io: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict)
    versions: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    columns: dict[tuple[int, str, int, str], dict[str, Any]] = field(default_factory=dict)

    # -- loading ----------------------------------------------------------------------------------
    def load_nodes(
        self, wanted: dict[str, tuple[str, str, str]], kept: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """Load every wanted node (key -> (kind, namespace, name)), creating the ones not stored yet:
        most nodes of a batch exist already, so they are read first and only the rest inserted.
        ``kept``: rows a :class:`.nodecache.NodeCache` kept (valid at this chain head), used when
        their ``updated_at`` is still the stored one."""
        if kept:
            self._use_kept(kept)
        self._read_nodes([k for k in wanted if k not in self.ids])
        missing = [k for k in wanted if k not in self.ids]
        if not missing:
            return
        rows = [
            {
                "node_key": k,
                "kind": wanted[k][0],
                "namespace": wanted[k][1],
                "name": wanted[k][2],
                "facets": {},
                "created_at": self.now,
                "updated_at": self.now,
            }
            for k in missing
        ]
        bulk(self.conn, "nodes.new", _new_nodes, rows)  # another writer may have added some: no conflict
        self._read_nodes(missing)

    def _use_kept(self, kept: dict[str, dict[str, Any]]) -> None:
        """Take the kept rows whose stored ``updated_at`` is still theirs: one narrow query through
        the DB-API cursor (ids are integers, written into the SQL; a commit of one event runs it)."""
        by_id = {int(row["id"]): row for row in kept.values()}
        sqlite = self.conn.dialect.name == "sqlite"  # SQLite returns the stored text of the time
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for chunk in _chunks(list(by_id)):
                cursor.execute(_UPDATED.format(ids=", ".join(map(str, chunk))))
                for node_id, updated_at in cursor.fetchall():
                    row = by_id[node_id]
                    if (sqlite_time(row["updated_at"]) if sqlite else row["updated_at"]) == updated_at:
                        self._add_node(row)
        finally:
            cursor.close()

    def _add_node(self, row: dict[str, Any]) -> None:
        self.ids[row["node_key"]] = row["id"]
        self.by_name[(row["kind"], row["namespace"], row["name"])] = row["id"]
        self.nodes[row["id"]] = row

    def _read_nodes(self, keys: list[str]) -> None:
        query = statement(self.conn, "nodes.load", _load_nodes)
        for chunk in _chunks(keys):
            for row in self.conn.execute(query, {"keys": list(chunk)}).mappings():
                self._add_node(dict(row))

    def load_runs(self, run_ids: Iterable[str]) -> None:
        wanted = sorted(set(run_ids) - set(self.runs))
        for chunk in _chunks(wanted):
            query = statement(self.conn, "runs.load", _load_runs)
            for row in self.conn.execute(query, {"ids": list(chunk)}).mappings():
                self.runs[row["run_id"]] = dict(row)

    # -- changing ---------------------------------------------------------------------------------
    def node(self, kind: str, namespace: str, name: str, type_: str | None = None) -> int:
        node_id = self.by_name[(kind, namespace, name)]
        if type_ and self.nodes[node_id]["type"] != type_:
            self.set_node(node_id, type=type_)
        return node_id

    def set_node(self, node_id: int, **values: Any) -> None:
        self.nodes[node_id].update(values)
        self.dirty_nodes.add(node_id)

    def run(self, run_id: str, job_id: int) -> dict[str, Any]:
        """The row of a run, created as NEW when it is not stored yet."""
        if run_id not in self.runs:
            self.runs[run_id] = {
                "run_id": run_id,
                "job_id": job_id,
                "parent_run_id": None,
                "state": "NEW",
                "state_time": None,
                "started_at": None,
                "ended_at": None,
                "nominal_start": None,
                "nominal_end": None,
                "facets": {},
                "facets_time": None,
                "created_at": self.now,
                "updated_at": self.now,
            }
            self.dirty_runs.add(run_id)
        return self.runs[run_id]

    def set_run(self, run_id: str, **values: Any) -> None:
        self.runs[run_id].update(values)
        self.dirty_runs.add(run_id)

    def edge(self, src: int, dst: int, t: datetime, run_id: str | None) -> None:
        span = self.edges.get((src, dst))
        if span is None:
            self.edges[(src, dst)] = EdgeSpan(t, run_id, t, run_id)
            return
        if t < span.first_seen:
            span.first_seen, span.first_run_id = t, run_id
        if t >= span.last_seen:
            span.last_seen, span.last_run_id = t, run_id

    def add_run_io(
        self, run_id: str, dataset_id: int, direction: str, version: str | None, t: datetime
    ) -> None:
        row = self.run_io.setdefault(
            (run_id, dataset_id, direction),
            {
                "run_id": run_id,
                "dataset_id": dataset_id,
                "direction": direction,
                "version": None,
                "event_time": t,
            },
        )
        if version is not None:
            row["version"] = version

    def add_version(
        self, dataset_id: int, version: str, run_id: str, t: datetime, facets: dict[str, Any]
    ) -> None:
        self.versions.setdefault(
            (dataset_id, version),
            {
                "dataset_id": dataset_id,
                "version": version,
                "run_id": run_id,
                "created_at": t,
                "facets": facets,
            },
        )

    def add_column(self, row: dict[str, Any]) -> None:
        key = (row["output_dataset_id"], row["output_field"], row["input_dataset_id"], row["input_field"])
        self.columns[key] = row

    # -- writing ----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every changed row: one multi-row upsert per table."""
        self._upsert(Node, ["node_key"], [self.nodes[i] for i in sorted(self.dirty_nodes)], _NODE_STATE)
        self._upsert(Run, ["run_id"], [self.runs[r] for r in sorted(self.dirty_runs)], _RUN_STATE)
        self._flush_edges()
        self._flush_run_io()
        bulk(
            self.conn,
            "versions.new",
            _new_versions,
            list(self.versions.values()),
        )
        self._upsert(
            ColumnLineage,
            ["output_dataset_id", "output_field", "input_dataset_id", "input_field"],
            list(self.columns.values()),
            ("transformations", "run_id", "updated_at"),
        )

    def _upsert(
        self, table: Any, keys: list[str], rows: list[dict[str, Any]], columns: Sequence[str]
    ) -> None:
        if not rows:
            return
        names = [c.name for c in table.__table__.columns if c.name in rows[0] and c.name != "id"]

        def build(conn: Connection) -> Any:
            stmt = insert(conn, table)
            return stmt.on_conflict_do_update(
                index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
            )

        bulk(self.conn, f"{table.__tablename__}.upsert", build, rows, names)

    def _flush_edges(self) -> None:
        rows = [{"src": s, "dst": d, **vars(span)} for (s, d), span in sorted(self.edges.items())]
        bulk(self.conn, "edges.upsert", _edge_upsert, rows)

    def _flush_run_io(self) -> None:
        bulk(self.conn, "run_io.upsert", _run_io_upsert, list(self.run_io.values()))


def _new_nodes(conn: Connection) -> Any:
    return insert(conn, Node).on_conflict_do_nothing(index_elements=["node_key"])


def _new_versions(conn: Connection) -> Any:
    return insert(conn, DatasetVersion).on_conflict_do_nothing(index_elements=["dataset_id", "version"])


def _load_nodes(_conn: Connection) -> Any:
    columns = ("id", "node_key", "kind", "namespace", "name", "created_at", *_NODE_STATE)
    keys: Any = bindparam("keys", expanding=True)
    return select(*(Node.__table__.c[n] for n in columns)).where(Node.node_key.in_(keys))


_UPDATED = f"SELECT id, updated_at FROM {Node.__tablename__} WHERE id IN ({{ids}})"


def _load_runs(_conn: Connection) -> Any:
    return select(Run.__table__).where(Run.run_id.in_(bindparam("ids", expanding=True)))


def _edge_upsert(conn: Connection) -> Any:
    stmt = insert(conn, Edge)
    ex = stmt.excluded
    earlier, later = ex.first_seen < Edge.first_seen, ex.last_seen >= Edge.last_seen
    return stmt.on_conflict_do_update(
        index_elements=["src", "dst"],
        set_={
            "first_seen": case((earlier, ex.first_seen), else_=Edge.first_seen),
            "first_run_id": case((earlier, ex.first_run_id), else_=Edge.first_run_id),
            "last_seen": case((later, ex.last_seen), else_=Edge.last_seen),
            "last_run_id": case((later, ex.last_run_id), else_=Edge.last_run_id),
        },
    )


def _run_io_upsert(conn: Connection) -> Any:
    stmt = insert(conn, RunIO)
    new = stmt.excluded.version
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "dataset_id", "direction"],
        set_={"version": case((new.is_(None), RunIO.version), else_=new)},
    )
