"""Applying validated events to the graph tables: idempotent and order-tolerant.

Raw events are inserted first (``ON CONFLICT DO NOTHING`` on their key); only the events that were
new are applied to nodes, edges, runs, versions and column lineage, so replaying an event changes
nothing. State, facets and versions compare event times, so COMPLETE before START still yields one
correct run.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, select, update

from airflow_lineage_provider.core.events import ParsedEvent, parse_time
from airflow_lineage_provider.store import approvals, chain
from airflow_lineage_provider.store.tables import ColumnLineage, DatasetVersion, Edge, Event, Node, Run, RunIO
from airflow_lineage_provider.store.upserts import insert

TERMINAL = {"COMPLETE": "COMPLETED", "FAIL": "FAILED", "ABORT": "ABORTED"}
ACTIVE = {"START": "RUNNING", "RUNNING": "RUNNING"}
TERMINAL_STATES = set(TERMINAL.values())
_CHUNK = 200


def node_key(kind: str, namespace: str, name: str) -> str:
    return hashlib.sha1(f"{kind}\x00{namespace}\x00{name}".encode()).hexdigest()


def _merge(
    old: dict[str, Any], old_time: datetime | None, new: dict[str, Any], t: datetime
) -> dict[str, Any]:
    """Facets with the same key: the one from the later event wins."""
    return {**old, **new} if old_time is None or t >= old_time else {**new, **old}


def insert_raw(conn: Connection, events: Sequence[ParsedEvent], now: datetime) -> set[str]:
    """Append the raw events, each chained to the one before (:mod:`.chain`); return the new keys."""
    unique = {e.key: e for e in events}
    previous = chain.lock_head(conn)  # from here on no other writer appends until we commit
    stored: set[str] = set()
    keys = list(unique)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        stored.update(conn.execute(select(Event.event_key).where(Event.event_key.in_(chunk))).scalars())
    rows = []
    for e in unique.values():
        if e.key in stored:
            continue
        previous = chain.link(previous, e.key, e.payload)
        rows.append(
            {
                "event_key": e.key,
                "kind": e.kind,
                "event_type": e.event_type,
                "event_time": e.event_time,
                "run_id": e.run_id,
                "job_namespace": e.job_namespace,
                "job_name": e.job_name,
                "payload": e.payload,
                "received_at": now,
                "chain_hash": previous,
            }
        )
    last_id = None
    for start in range(0, len(rows), _CHUNK):  # ids follow list order, the order the chain was built in
        stmt = insert(conn, Event).values(rows[start : start + _CHUNK]).returning(Event.id)
        last_id = max([*conn.execute(stmt).scalars(), last_id or 0])
    if last_id:
        chain.move_head(conn, last_id, previous)
    return {str(row["event_key"]) for row in rows}


class GraphWriter:
    """Applies events to the derived tables within one connection (one transaction)."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self._ids: dict[str, int] = {}

    def node(self, kind: str, namespace: str, name: str, type_: str | None = None) -> int:
        key = node_key(kind, namespace, name)
        if key in self._ids:
            return self._ids[key]
        stmt = insert(self.conn, Node).values(
            node_key=key,
            kind=kind,
            namespace=namespace,
            name=name,
            type=type_,
            facets={},
            created_at=self.now,
            updated_at=self.now,
        )
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["node_key"]))
        node_id, current_type = self.conn.execute(
            select(Node.id, Node.type).where(Node.node_key == key)
        ).one()
        if type_ and current_type != type_:
            self.conn.execute(update(Node).where(Node.id == node_id).values(type=type_))
        self._ids[key] = node_id
        return int(node_id)

    def merge_node_facets(self, node_id: int, facets: dict[str, Any] | None, t: datetime) -> None:
        if not facets:
            return
        old, old_time = self.conn.execute(
            select(Node.facets, Node.facets_time).where(Node.id == node_id).with_for_update()
        ).one()
        merged = _merge(old or {}, old_time, facets, t)
        newest = t if old_time is None or t > old_time else old_time
        self.conn.execute(
            update(Node)
            .where(Node.id == node_id)
            .values(facets=merged, facets_time=newest, updated_at=self.now)
        )

    def edge(self, src: int, dst: int, t: datetime, run_id: str | None) -> None:
        stmt = insert(self.conn, Edge).values(
            src=src, dst=dst, first_seen=t, last_seen=t, first_run_id=run_id, last_run_id=run_id
        )
        ex = stmt.excluded
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["src", "dst"],
                set_={
                    "first_seen": case(
                        (ex.first_seen < Edge.first_seen, ex.first_seen), else_=Edge.first_seen
                    ),
                    "first_run_id": case(
                        (ex.first_seen < Edge.first_seen, ex.first_run_id), else_=Edge.first_run_id
                    ),
                    "last_seen": case((ex.last_seen >= Edge.last_seen, ex.last_seen), else_=Edge.last_seen),
                    "last_run_id": case(
                        (ex.last_seen >= Edge.last_seen, ex.last_run_id), else_=Edge.last_run_id
                    ),
                },
            )
        )

    def apply(self, event: ParsedEvent) -> None:
        payload, t = event.payload, event.event_time
        if event.kind == "dataset":
            ds = payload["dataset"]
            dataset_id = self.dataset(ds)
            self.merge_node_facets(dataset_id, ds.get("facets"), t)
            approvals.apply(self.conn, dataset_id, event)
            return
        job = payload["job"]
        job_facets = job.get("facets") or {}
        job_type = (job_facets.get("jobType") or {}).get("jobType")
        job_id = self.node("job", job["namespace"], job["name"], job_type)
        self.merge_node_facets(job_id, job_facets, t)
        run_id = event.run_id
        if run_id is not None:
            self.run(event, job_id)
        for ds in payload.get("inputs") or []:
            dataset_id = self.dataset(ds)
            self.edge(dataset_id, job_id, t, run_id)
            if run_id is not None:
                self.run_io(run_id, dataset_id, "input", self._version_read(dataset_id, ds), t)
        for ds in payload.get("outputs") or []:
            dataset_id = self.dataset(ds)
            self.edge(job_id, dataset_id, t, run_id)
            version = None
            if run_id is not None:
                if event.event_type in ("COMPLETE", "OTHER"):
                    version = self.dataset_version(dataset_id, ds, run_id, t)
                self.run_io(run_id, dataset_id, "output", version, t)
            self.column_lineage(dataset_id, ds, run_id)

    def dataset(self, ds: dict[str, Any]) -> int:
        facets = ds.get("facets") or {}
        kind = (facets.get("datasetType") or {}).get("datasetType")
        return self.node("dataset", ds["namespace"], ds["name"], kind.upper() if kind else None)

    def _version_read(self, dataset_id: int, ds: dict[str, Any]) -> str | None:
        explicit = ((ds.get("facets") or {}).get("version") or {}).get("datasetVersion")
        if explicit:
            return str(explicit)[:64]
        current: str | None = self.conn.execute(
            select(Node.current_version).where(Node.id == dataset_id)
        ).scalar()
        return current

    def dataset_version(self, dataset_id: int, ds: dict[str, Any], run_id: str, t: datetime) -> str:
        facets = ds.get("facets") or {}
        explicit = (facets.get("version") or {}).get("datasetVersion")
        version = (
            str(explicit)[:64]
            if explicit
            else str(uuid.uuid5(uuid.UUID(run_id), f"{ds['namespace']}:{ds['name']}"))
        )
        stmt = insert(self.conn, DatasetVersion).values(
            dataset_id=dataset_id, version=version, run_id=run_id, created_at=t, facets=facets
        )
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["dataset_id", "version"]))
        self.merge_node_facets(dataset_id, facets, t)
        self.conn.execute(
            update(Node)
            .where(Node.id == dataset_id)
            .where((Node.current_version_time.is_(None)) | (Node.current_version_time <= t))
            .values(current_version=version, current_version_time=t)
        )
        return version

    def run_io(self, run_id: str, dataset_id: int, direction: str, version: str | None, t: datetime) -> None:
        stmt = insert(self.conn, RunIO).values(
            run_id=run_id, dataset_id=dataset_id, direction=direction, version=version, event_time=t
        )
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "dataset_id", "direction"],
                set_={
                    "version": case(
                        (stmt.excluded.version.is_(None), RunIO.version), else_=stmt.excluded.version
                    )
                },
            )
        )

    def column_lineage(self, output_id: int, ds: dict[str, Any], run_id: str | None) -> None:
        facet = (ds.get("facets") or {}).get("columnLineage") or {}
        for field_name, spec in (facet.get("fields") or {}).items():
            for source in spec.get("inputFields") or []:
                input_id = self.node("dataset", source["namespace"], source["name"])
                stmt = insert(self.conn, ColumnLineage).values(
                    output_dataset_id=output_id,
                    output_field=str(field_name)[:512],
                    input_dataset_id=input_id,
                    input_field=str(source["field"])[:512],
                    transformations=source.get("transformations") or [],
                    run_id=run_id,
                    updated_at=self.now,
                )
                self.conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[
                            "output_dataset_id",
                            "output_field",
                            "input_dataset_id",
                            "input_field",
                        ],
                        set_={
                            "transformations": stmt.excluded.transformations,
                            "run_id": run_id,
                            "updated_at": self.now,
                        },
                    )
                )

    def run(self, event: ParsedEvent, job_id: int) -> None:
        run_payload, t = event.payload["run"], event.event_time
        run_id = str(event.run_id)
        facets = run_payload.get("facets") or {}
        parent_run_id = self._parent(facets.get("parent"), job_id, t)
        stmt = insert(self.conn, Run).values(
            run_id=run_id, job_id=job_id, state="NEW", facets={}, created_at=self.now, updated_at=self.now
        )
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["run_id"]))
        row = self.conn.execute(select(Run).where(Run.run_id == run_id).with_for_update()).one()
        values: dict[str, Any] = {"job_id": job_id, "updated_at": self.now}
        if parent_run_id:
            values["parent_run_id"] = parent_run_id
        values.update(self._state_change(row, str(event.event_type), t))
        if facets:
            values["facets"] = _merge(row.facets or {}, row.facets_time, facets, t)
            values["facets_time"] = t if row.facets_time is None or t > row.facets_time else row.facets_time
        nominal = facets.get("nominalTime") or {}
        if nominal.get("nominalStartTime"):
            values["nominal_start"] = parse_time(nominal["nominalStartTime"])
        if nominal.get("nominalEndTime"):
            values["nominal_end"] = parse_time(nominal["nominalEndTime"])
        self.conn.execute(update(Run).where(Run.run_id == run_id).values(**values))
        self.conn.execute(
            update(Node)
            .where(Node.id == job_id)
            .where((Node.latest_run_time.is_(None)) | (Node.latest_run_time <= t))
            .values(latest_run_id=run_id, latest_run_time=t)
        )

    @staticmethod
    def _state_change(row: Any, event_type: str, t: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if event_type in ACTIVE:
            if row.started_at is None or t < row.started_at:
                values["started_at"] = t
            if row.state not in TERMINAL_STATES and (row.state_time is None or t >= row.state_time):
                values.update(state="RUNNING", state_time=t)
        elif event_type in TERMINAL:
            if row.state not in TERMINAL_STATES or row.state_time is None or t >= row.state_time:
                values.update(state=TERMINAL[event_type], state_time=t, ended_at=t)
        return values

    def _parent(self, parent: dict[str, Any] | None, job_id: int, t: datetime) -> str | None:
        if not parent or not parent.get("run") or not parent.get("job"):
            return None
        parent_job = parent["job"]
        parent_job_id = self.node("job", parent_job["namespace"], parent_job["name"])
        self.conn.execute(update(Node).where(Node.id == job_id).values(parent_job_id=parent_job_id))
        try:
            parent_run_id = str(uuid.UUID(str(parent["run"]["runId"])))
        except (KeyError, ValueError):
            return None
        stmt = insert(self.conn, Run).values(
            run_id=parent_run_id,
            job_id=parent_job_id,
            state="NEW",
            facets={},
            created_at=self.now,
            updated_at=self.now,
        )
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["run_id"]))
        return parent_run_id
