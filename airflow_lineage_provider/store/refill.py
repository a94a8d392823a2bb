"""Declared lineage, assertions and tags of the events a store held before revision 0004 added them.

Ingest fills ``lineage_declared_edges``, ``lineage_assertions`` and ``lineage_tags`` as events arrive
(:mod:`.reported`). Events stored before the upgrade to 0004 have these facets only in the raw log.
When :func:`.schema.upgrade` (``airflow-lineage db upgrade``, or the upgrade on first use) takes a store
from an older revision to head, it calls :func:`refill` in the same transaction, after the migrations:
every stored event is read again, in event-time order, and given to :class:`.reported.Reported` at the
places ingest gives it, with the nodes, runs and read versions ingest stored for it (an input's tags
also join the dataset's facets, as they now do at ingest). Nodes a declaration names that were never
stored are created, as ingest creates them. Nothing else of the graph changes.

An event that no longer validates or cannot be read this way is skipped and counted, never a reason
to fail the upgrade; :func:`log` reports the counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from airflow_lineage_provider.core.events import ParsedEvent, parse_event
from airflow_lineage_provider.exceptions import LineageError
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.graphstate import GraphState
from airflow_lineage_provider.store.reported import Reported
from airflow_lineage_provider.store.writes import GraphWriter, node_keys, version_named, written_version

log_ = logging.getLogger(__name__)
REVISION = "0004"  # stores upgraded from a revision before this one are refilled
_CHUNK = 500
_SHOWN = 5  # skipped events named in the report
# What reading an odd stored event can raise (facets of unexpected shapes); not database errors.
_UNREADABLE = (LineageError, LookupError, TypeError, ValueError, AttributeError)


@dataclass
class Refill:
    """What :func:`refill` read: events given to ingest's code, and those skipped (first few named)."""

    events: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, event_id: int, exc: Exception) -> None:
        self.skipped += 1
        if len(self.reasons) < _SHOWN:
            self.reasons.append(f"event {event_id}: {type(exc).__name__}: {exc}")


def refill(conn: Connection, now: datetime) -> Refill:
    """Fill the three tables from every stored event (see the module docstring)."""
    report = Refill()
    e = t.Event
    last: tuple[datetime, int] | None = None
    while True:
        query = select(e.id, e.event_time, e.payload).order_by(e.event_time, e.id).limit(_CHUNK)
        if last is not None:
            query = query.where(or_(e.event_time > last[0], and_(e.event_time == last[0], e.id > last[1])))
        rows = conn.execute(query).all()
        if not rows:
            return report
        last = (rows[-1].event_time, rows[-1].id)
        _chunk(conn, now, rows, report)


def _chunk(conn: Connection, now: datetime, rows: Sequence[Any], report: Refill) -> None:
    events: list[tuple[int, ParsedEvent]] = []
    wanted: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        try:
            event = parse_event(row.payload)
            wanted.update(node_keys([event]))
        except _UNREADABLE as exc:
            report.skip(row.id, exc)
            continue
        events.append((row.id, event))
    writer = GraphWriter(conn, now)
    writer.state.load_nodes(wanted)
    writer.state.load_runs({ev.run_id for _, ev in events if ev.run_id is not None})
    read = _read_versions(conn, writer.state)
    for event_id, event in events:
        try:
            _report(Reported(), writer.state, event, read)  # on its own first: a failure adds nothing
        except _UNREADABLE as exc:
            report.skip(event_id, exc)
            continue
        _report(writer.reported, writer.state, event, read, writer)
        report.events += 1
    writer.state.flush()  # the facets of datasets whose inputs carried tags; nothing else is changed
    writer.reported.flush(conn)


def _read_versions(conn: Connection, state: GraphState) -> dict[tuple[str, int], str]:
    """The version each run read of each input, as ingest recorded it."""
    io = t.RunIO
    runs = sorted(state.runs)
    found: dict[tuple[str, int], str] = {}
    for start in range(0, len(runs), 1000):
        query = select(io.run_id, io.dataset_id, io.version).where(
            io.run_id.in_(runs[start : start + 1000]), io.direction == "input", io.version.is_not(None)
        )
        found.update({(r.run_id, r.dataset_id): r.version for r in conn.execute(query)})
    return found


def _report(
    reported: Reported,
    state: GraphState,
    event: ParsedEvent,
    read: dict[tuple[str, int], str],
    writer: GraphWriter | None = None,
) -> None:
    """Give one stored event to ``reported`` where ingest does; ``writer``: merge inputs' tags too."""
    ids, payload, when = state.by_name, event.payload, event.event_time
    if event.kind == "dataset":
        ds = payload["dataset"]
        reported.dataset_event(ids, event, ids[("dataset", ds["namespace"], ds["name"])])
        return
    job = payload["job"]
    reported.job(ids, event, ids[("job", job["namespace"], job["name"])])
    run = state.runs.get(event.run_id) if event.run_id is not None else None
    for ds in payload.get("inputs") or []:
        dataset_id = ids[("dataset", ds["namespace"], ds["name"])]
        version = None if run is None else version_named(ds) or read.get((run["run_id"], dataset_id))
        reported.read(run, dataset_id, ds, version, when)
        if writer is not None:
            writer.input_tags(dataset_id, ds, when)
    if run is None:
        return
    completed = event.event_type in ("COMPLETE", "OTHER")
    for ds in payload.get("outputs") or []:
        version = written_version(ds, run["run_id"]) if completed else None
        reported.written(run, ids[("dataset", ds["namespace"], ds["name"])], ds, version, when)


def log(report: Refill) -> None:
    """Say what the refill did: skipped events as a warning, naming the first few."""
    if report.skipped:
        log_.warning(
            "lineage store upgrade: %d stored events skipped while filling declared lineage, assertions "
            "and tags from the raw log (%d read); first: %s",
            report.skipped,
            report.events,
            "; ".join(report.reasons),
        )
    elif report.events:
        log_.info(
            "lineage store upgrade: declared lineage, assertions and tags filled from %d stored events",
            report.events,
        )
