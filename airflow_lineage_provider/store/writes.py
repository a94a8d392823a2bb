"""Applying validated events to the graph tables: idempotent and order-tolerant.

Raw events are inserted first (``ON CONFLICT DO NOTHING`` on their key); only the events that were
new are applied to nodes, edges, runs, versions and column lineage, so replaying an event changes
nothing. State, facets and versions compare event times, so COMPLETE before START still yields one
correct run. A batch is applied in memory to the rows it touches (:mod:`.graphstate`), in event-time
order, and written back with one multi-row statement per table: the cost of a batch is a handful of
statements, not a few dozen per event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from airflow_lineage_provider.core.events import ParsedEvent, parse_time
from airflow_lineage_provider.core.facetviews import merge_facets
from airflow_lineage_provider.store import approvals, chain, declared, upserts
from airflow_lineage_provider.store.graphstate import GraphState, node_key
from airflow_lineage_provider.store.reported import Reported
from airflow_lineage_provider.store.tables import Event
from airflow_lineage_provider.store.upserts import bulk, copy_rows, fetch, insert, statement

__all__ = [
    "Appended",
    "GraphWriter",
    "insert_raw",
    "node_key",
    "node_keys",
    "version_named",
    "written_version",
]

TERMINAL = {"COMPLETE": "COMPLETED", "FAIL": "FAILED", "ABORT": "ABORTED"}
ACTIVE = {"START": "RUNNING", "RUNNING": "RUNNING"}
TERMINAL_STATES = set(TERMINAL.values())
_CHUNK = 200
_RAW_COLUMNS = frozenset({"payload", "normalised"})


def _payload_text(event: ParsedEvent) -> str:
    """The JSON text stored for an event: the canonical text validation made, else made here."""
    if event.encoded is not None:
        return event.encoded
    return json.dumps(event.payload, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Appended:
    """What :func:`insert_raw` appended: the new events' keys, and the chain head before and after."""

    fresh: set[str]
    before: chain.Head
    after: chain.Head


def insert_raw(conn: Connection, events: Sequence[ParsedEvent], now: datetime) -> Appended:
    """Append the raw events, each chained to the one before (:mod:`.chain`).

    The payload is written as its canonical JSON text (sorted keys; PostgreSQL's JSONB keeps no key
    order either), the same text the chain hash covers, so an event is encoded once."""
    unique = {e.key: e for e in events}
    before = chain.lock(conn)  # from here on no other writer appends until we commit
    previous = before[1]
    stored: set[str] = set()
    keys = list(unique)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        stored.update(conn.execute(statement(conn, "events.known", _known), {"keys": chunk}).scalars())
    rows = []
    for e in unique.values():
        if e.key in stored:
            continue
        text = _payload_text(e)
        previous = chain.link(previous, e.key, e.payload, text)
        rows.append(
            {
                "event_key": e.key,
                "kind": e.kind,
                "event_type": e.event_type,
                "event_time": e.event_time,
                "run_id": e.run_id,
                "job_namespace": e.job_namespace,
                "job_name": e.job_name,
                "payload": text,
                "received_at": now,
                "chain_hash": previous,
                "normalised": json.dumps(list(e.normalised)) if e.normalised else None,
            }
        )
    # ids follow the order the chain was built in; payload and normalised are JSON text already.
    # No row can conflict (the keys stored were read under the chain head's lock), so PostgreSQL
    # takes them with COPY.
    if conn.dialect.name == "postgresql" and len(rows) >= upserts.COPY_FROM:
        copy_rows(conn, Event, [tuple(row.values()) for row in rows], list(rows[0]))
    else:
        bulk(conn, "events.new", lambda c: insert(c, Event), rows, raw=_RAW_COLUMNS)
    after = before
    if rows:
        last_key = rows[-1]["event_key"]
        last_id = fetch(conn, "events.id", _event_id, key=last_key)[0][0]
        chain.move_head(conn, last_id, previous)
        after = (int(last_id), previous)
    return Appended({str(row["event_key"]) for row in rows}, before, after)


def _known(_conn: Connection) -> Any:
    return select(Event.event_key).where(Event.event_key.in_(bindparam("keys", expanding=True)))


def _event_id(_conn: Connection) -> Any:
    return select(Event.id).where(Event.event_key == bindparam("key"))


def _datasets(event: ParsedEvent) -> list[dict[str, Any]]:
    payload = event.payload
    if event.kind == "dataset":
        return [payload["dataset"]]
    return [*(payload.get("inputs") or []), *(payload.get("outputs") or [])]


def version_named(ds: dict[str, Any]) -> str | None:
    """The version an input or output's version facet names, if any."""
    explicit = ((ds.get("facets") or {}).get("version") or {}).get("datasetVersion")
    return str(explicit)[:64] if explicit else None


def written_version(ds: dict[str, Any], run_id: str) -> str:
    """The version a run writes of an output: the one its version facet names, else one made from both."""
    return version_named(ds) or uuid5_text(run_id, f"{ds['namespace']}:{ds['name']}")


def uuid5_text(namespace: str, name: str) -> str:
    """``str(uuid.uuid5(uuid.UUID(namespace), name))`` for a namespace in canonical form, computed
    without the ``uuid`` module's Python-level objects (an output of every completed run needs one)."""
    if len(namespace) != 36 or namespace != namespace.lower():
        return str(uuid.uuid5(uuid.UUID(namespace), name))
    digest = bytearray(hashlib.sha1(bytes.fromhex(namespace.replace("-", "")) + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def node_keys(events: Sequence[ParsedEvent]) -> dict[str, tuple[str, str, str]]:
    """Every node the events name: jobs, parent jobs, datasets and column-lineage sources."""
    wanted: dict[tuple[str, str, str], None] = {}  # in the order named: new nodes get ids in it
    add = wanted.setdefault
    for event in events:
        payload = event.payload
        if event.kind != "dataset":
            add(("job", payload["job"]["namespace"], payload["job"]["name"]))
            parent = ((payload.get("run") or {}).get("facets") or {}).get("parent") or {}
            if parent.get("run") and parent.get("job"):
                add(("job", parent["job"]["namespace"], parent["job"]["name"]))
        for ds in _datasets(event):
            add(("dataset", ds["namespace"], ds["name"]))
            facet = (ds.get("facets") or {}).get("columnLineage") or {}
            for spec in (facet.get("fields") or {}).values():
                for source in spec.get("inputFields") or []:
                    add(("dataset", source["namespace"], source["name"]))
        for named in declared.named(event):
            add(named)
    return {node_key(*named): named for named in wanted}


def _run_ids(events: Sequence[ParsedEvent]) -> set[str]:
    found = {e.run_id for e in events if e.run_id is not None}
    for event in events:
        parent = ((event.payload.get("run") or {}).get("facets") or {}).get("parent") or {}
        try:
            found.add(str(uuid.UUID(str(parent["run"]["runId"]))))
        except (KeyError, TypeError, ValueError):
            pass
    return found


class GraphWriter:
    """Applies events to the derived tables within one connection (one transaction).

    ``apply_all`` loads what the events touch, applies them in memory and writes the result."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.state = GraphState(conn, now)
        self.reported = Reported()

    def apply_all(
        self,
        events: Sequence[ParsedEvent],
        progress: Callable[[int], None] | None = None,
        kept: Callable[[Iterable[str]], dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        """Apply events (already in the order to apply them) and write the changed rows; ``kept``
        gives node rows kept from earlier batches (:class:`.nodecache.NodeCache`) by key."""
        wanted = node_keys(events)
        self.state.load_nodes(wanted, None if kept is None else kept(wanted))
        self.state.load_runs(_run_ids(events))
        for event in events:
            self.apply(event)
            if progress is not None:
                progress(1)
        self.state.flush()
        self.reported.flush(self.conn)

    def apply(self, event: ParsedEvent) -> None:
        payload, t = event.payload, event.event_time
        if event.kind == "dataset":
            ds = payload["dataset"]
            dataset_id = self.dataset(ds)
            self.merge_node_facets(dataset_id, ds.get("facets"), t)
            approvals.apply(self.conn, dataset_id, event)
            self.reported.dataset_event(self.state.by_name, event, dataset_id)
            return
        job = payload["job"]
        job_facets = job.get("facets") or {}
        job_type = (job_facets.get("jobType") or {}).get("jobType")
        job_id = self.state.node("job", job["namespace"], job["name"], job_type)
        self.merge_node_facets(job_id, job_facets, t)
        self.reported.job(self.state.by_name, event, job_id)
        run_id = event.run_id
        run = None if run_id is None else self.run(event, job_id)
        for ds in payload.get("inputs") or []:
            dataset_id = self.dataset(ds)
            self.state.edge(dataset_id, job_id, t, run_id)
            self.input_tags(dataset_id, ds, t)
            version = None
            if run_id is not None:
                version = self._version_read(dataset_id, ds)
                self.state.add_run_io(run_id, dataset_id, "input", version, t)
            self.reported.read(run, dataset_id, ds, version, t)
        for ds in payload.get("outputs") or []:
            dataset_id = self.dataset(ds)
            self.state.edge(job_id, dataset_id, t, run_id)
            if run is not None:
                version = None
                if event.event_type in ("COMPLETE", "OTHER"):
                    version = self.dataset_version(dataset_id, ds, run["run_id"], t)
                self.state.add_run_io(run["run_id"], dataset_id, "output", version, t)
                self.reported.written(run, dataset_id, ds, version, t)
            self.column_lineage(dataset_id, ds, run_id)

    def merge_node_facets(self, node_id: int, facets: dict[str, Any] | None, t: datetime) -> None:
        if not facets:
            return
        row = self.state.nodes[node_id]
        old_time = row["facets_time"]
        self.state.set_node(
            node_id,
            facets=merge_facets(row["facets"] or {}, old_time, facets, t),
            facets_time=t if old_time is None or t > old_time else old_time,
            updated_at=self.now,
        )

    def input_tags(self, dataset_id: int, ds: dict[str, Any], t: datetime) -> None:
        """An input's tags facet joins the dataset's facets (tags name it whichever way it goes)."""
        found = (ds.get("facets") or {}).get("tags")
        if isinstance(found, dict):
            self.merge_node_facets(dataset_id, {"tags": found}, t)

    def dataset(self, ds: dict[str, Any]) -> int:
        facets = ds.get("facets") or {}
        kind = (facets.get("datasetType") or {}).get("datasetType")
        return self.state.node("dataset", ds["namespace"], ds["name"], kind.upper() if kind else None)

    def _version_read(self, dataset_id: int, ds: dict[str, Any]) -> str | None:
        current: str | None = self.state.nodes[dataset_id]["current_version"]
        return version_named(ds) or current

    def dataset_version(self, dataset_id: int, ds: dict[str, Any], run_id: str, t: datetime) -> str:
        facets = ds.get("facets") or {}
        version = written_version(ds, run_id)
        self.state.add_version(dataset_id, version, run_id, t, facets)
        self.merge_node_facets(dataset_id, facets, t)
        current_time = self.state.nodes[dataset_id]["current_version_time"]
        if current_time is None or current_time <= t:
            self.state.set_node(dataset_id, current_version=version, current_version_time=t)
        return version

    def column_lineage(self, output_id: int, ds: dict[str, Any], run_id: str | None) -> None:
        facet = (ds.get("facets") or {}).get("columnLineage") or {}
        for field_name, spec in (facet.get("fields") or {}).items():
            for source in spec.get("inputFields") or []:
                input_id = self.state.node("dataset", source["namespace"], source["name"])
                self.state.add_column(
                    {
                        "output_dataset_id": output_id,
                        "output_field": str(field_name)[:512],
                        "input_dataset_id": input_id,
                        "input_field": str(source["field"])[:512],
                        "transformations": source.get("transformations") or [],
                        "run_id": run_id,
                        "updated_at": self.now,
                    }
                )

    def run(self, event: ParsedEvent, job_id: int) -> dict[str, Any]:
        run_payload, t = event.payload["run"], event.event_time
        run_id = str(event.run_id)
        facets = run_payload.get("facets") or {}
        parent_run_id = self._parent(facets.get("parent"), job_id)
        row = self.state.run(run_id, job_id)
        values: dict[str, Any] = {"job_id": job_id, "updated_at": self.now}
        if parent_run_id:
            values["parent_run_id"] = parent_run_id
        values.update(self._state_change(row, str(event.event_type), t))
        if facets:
            values["facets"] = merge_facets(row["facets"] or {}, row["facets_time"], facets, t)
            values["facets_time"] = (
                t if row["facets_time"] is None or t > row["facets_time"] else row["facets_time"]
            )
        nominal = facets.get("nominalTime") or {}
        if nominal.get("nominalStartTime"):
            values["nominal_start"] = parse_time(nominal["nominalStartTime"])
        if nominal.get("nominalEndTime"):
            values["nominal_end"] = parse_time(nominal["nominalEndTime"])
        self.state.set_run(run_id, **values)
        latest = self.state.nodes[job_id]["latest_run_time"]
        if latest is None or latest <= t:
            self.state.set_node(job_id, latest_run_id=run_id, latest_run_time=t)
        return self.state.runs[run_id]

    @staticmethod
    def _state_change(row: dict[str, Any], event_type: str, t: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {}
        state, state_time = row["state"], row["state_time"]
        if event_type in ACTIVE:
            if row["started_at"] is None or t < row["started_at"]:
                values["started_at"] = t
            if state not in TERMINAL_STATES and (state_time is None or t >= state_time):
                values.update(state="RUNNING", state_time=t)
        elif event_type in TERMINAL:
            if state not in TERMINAL_STATES or state_time is None or t >= state_time:
                values.update(state=TERMINAL[event_type], state_time=t, ended_at=t)
        return values

    def _parent(self, parent: dict[str, Any] | None, job_id: int) -> str | None:
        if not parent or not parent.get("run") or not parent.get("job"):
            return None
        parent_job = parent["job"]
        parent_job_id = self.state.node("job", parent_job["namespace"], parent_job["name"])
        if self.state.nodes[job_id]["parent_job_id"] != parent_job_id:
            self.state.set_node(job_id, parent_job_id=parent_job_id)
        try:
            parent_run_id = str(uuid.UUID(str(parent["run"]["runId"])))
        except (KeyError, ValueError):
            return None
        self.state.run(parent_run_id, parent_job_id)
        return parent_run_id
