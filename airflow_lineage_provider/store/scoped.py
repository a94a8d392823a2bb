"""A node as one reader sees it: facets, fields, current version and times from the runs they may read.

A node's stored facets, current version and times merge what every writer wrote. For a reader of
every DAG that is the answer. For anyone else:

* **times** (:func:`node_times`): a dataset's ``created`` is the earliest creation of a visible run
  that read or wrote it and its ``updated`` the latest update of a visible run that wrote it (with no
  such run, the event times of its edges to visible jobs, which only job events made); a job's
  are those of its visible runs (:func:`.visibility.run_rule`). Namespaces aggregate these, and
  ``search`` and the model list order by them, so no time reflects a write the reader may not see.
* **content** (:func:`dataset_views`): when nothing stored about the dataset came from what the reader
  may not read (a version or column lineage of a hidden run, an approval or other dataset event),
  the stored row is the answer. Otherwise it is rebuilt from the visible runs' writes, merged in time
  order as ingest merges them (for each facet, the latest visible writer's), and ``restricted`` says
  that something was hidden. ``restricted`` is true only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from airflow_lineage_provider.core.facetviews import merge_facets
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.visibility import Scope, job_condition, run_condition, run_rule

_CHUNK = 1000


@dataclass(frozen=True)
class DatasetView:
    facets: dict[str, Any] = field(default_factory=dict)
    version: str | None = None
    version_time: datetime | None = None
    restricted: bool = False

    @property
    def schema_fields(self) -> list[Any]:
        found = (self.facets.get("schema") or {}).get("fields") if isinstance(self.facets, dict) else None
        return [f for f in found or [] if isinstance(f, dict)]


def node_times(node: Any, scope: Scope) -> tuple[Any, Any]:
    """SQL ``(created, updated)`` of a node alias as the reader sees them (see the module docstring).

    A dataset no visible run touched (known from a visible job's events only) takes the times of its
    edges to visible jobs; a job no visible run of its own touched keeps its own times."""
    if scope.unrestricted:
        return node.created_at, node.updated_at
    run, io = aliased(t.Run), aliased(t.RunIO)

    def over_runs(value: Any, outputs_only: bool) -> Any:
        touched = select(value).join(io, io.run_id == run.run_id).where(io.dataset_id == node.id)
        if outputs_only:
            touched = touched.where(io.direction == "output")
        own = select(value).where(run.job_id == node.id)
        return case(
            (node.kind == "dataset", touched.where(run_rule(run, scope)).scalar_subquery()),
            else_=own.where(run_rule(run, scope)).scalar_subquery(),
        )

    edge, job = aliased(t.Edge), aliased(t.Node)

    def over_edges(value: Any, outputs_only: bool) -> Any:
        """The dataset's edges to visible jobs (job events make edges too; only a visible job's events
        change an edge it is an end of), for a dataset no visible run touched."""
        writes = and_(edge.src == job.id, edge.dst == node.id)
        joined = writes if outputs_only else or_(writes, and_(edge.dst == job.id, edge.src == node.id))
        found = select(value).join(job, joined).where(job_condition(job, scope)).scalar_subquery()
        return case((node.kind == "dataset", found), else_=None)

    created = func.coalesce(
        over_runs(func.min(run.created_at), False),
        over_edges(func.min(edge.first_seen), False),
        node.created_at,
    )
    return created, func.coalesce(
        over_runs(func.max(run.updated_at), True), over_edges(func.max(edge.last_seen), True), created
    )


def read_version(io: Any, scope: Scope | None) -> Any:
    """SQL: a ``lineage_run_io`` alias's version as the reader may see it. An input's version is the
    one current when the run read it (unless the event named one), so a visible run may have read a
    version a hidden run wrote: that version's name is hidden (NULL), as the version itself is."""
    if scope is None or scope.unrestricted:
        return io.version
    dv = aliased(t.DatasetVersion)
    hidden = select(dv.id).where(
        dv.dataset_id == io.dataset_id, dv.version == io.version, not_(run_condition(dv.run_id, scope))
    )
    return case((exists(hidden), None), else_=io.version)


Times = tuple[datetime, datetime]


def times(conn: Connection, scope: Scope, rows: Iterable[Any]) -> dict[int, Times]:
    """``(created, updated)`` of each node row (``lineage_nodes`` rows) as the reader sees them."""
    rows = list(rows)
    if scope.unrestricted:
        return {r.id: (r.created_at, r.updated_at) for r in rows}
    created, updated = node_times(t.Node, scope)
    pks = sorted({r.id for r in rows})
    found: dict[int, Times] = {}
    for start in range(0, len(pks), _CHUNK):
        query = select(t.Node.id, created, updated).where(t.Node.id.in_(pks[start : start + _CHUNK]))
        found.update({r[0]: (r[1], r[2]) for r in conn.execute(query)})
    return found


def _hidden(conn: Connection, scope: Scope, pks: list[int]) -> set[int]:
    """Datasets with a version or column lineage of a run the reader may not see, or an approval (a
    dataset event, which only readers of every DAG see)."""
    dv, cl = t.DatasetVersion, t.ColumnLineage
    found: set[int] = set()
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        for query in (
            select(dv.dataset_id).where(dv.dataset_id.in_(chunk), not_(run_condition(dv.run_id, scope))),
            select(cl.output_dataset_id).where(
                cl.output_dataset_id.in_(chunk), not_(run_condition(cl.run_id, scope))
            ),
            select(t.Approval.dataset_id).where(t.Approval.dataset_id.in_(chunk)),
        ):
            found.update(int(pk) for pk in conn.execute(query.distinct()).scalars())
    return found


def _rebuilt(conn: Connection, row: Any, run_ids: set[str]) -> dict[str, Any]:
    """The dataset's facets as the visible writers' raw events wrote them (every event of a run, where
    its dataset version keeps only the first one's facets), merged as ingest merged them: in the order
    it applied them (batch by batch, each in event-time order) with its rule for a late event
    (``core.facetviews.merge_facets``), so events that arrived out of order give the stored facets
    again."""
    if not run_ids:
        return {}
    ev = t.Event
    events = select(ev.payload, ev.event_time).where(
        ev.run_id.in_(sorted(run_ids)), ev.kind == "run", ev.event_type.in_(("COMPLETE", "OTHER"))
    )
    facets: dict[str, Any] = {}
    latest: datetime | None = None
    for payload, when in conn.execute(events.order_by(ev.received_at, ev.event_time, ev.id)):
        for out in payload.get("outputs") or []:
            if out.get("namespace") == row.namespace and out.get("name") == row.name and out.get("facets"):
                facets = merge_facets(facets, latest, out["facets"], when)
                latest = when if latest is None or when > latest else latest
    return facets


def dataset_views(conn: Connection, scope: Scope, rows: Iterable[Any]) -> dict[int, DatasetView]:
    """The view of each dataset row (``lineage_nodes`` rows with facets and current version)."""
    rows = list(rows)
    if scope.unrestricted:
        return {r.id: _whole(r) for r in rows}
    pks = sorted({r.id for r in rows})
    merged: dict[int, dict[str, Any]] = {pk: {} for pk in pks}
    writers: dict[int, set[str]] = {pk: set() for pk in pks}
    latest: dict[int, tuple[str, datetime]] = {}
    dv = t.DatasetVersion
    for start in range(0, len(pks), _CHUNK):
        query = (
            select(dv.dataset_id, dv.version, dv.created_at, dv.facets, dv.run_id)
            .where(dv.dataset_id.in_(pks[start : start + _CHUNK]), run_condition(dv.run_id, scope))
            .order_by(dv.dataset_id, dv.created_at, dv.id)
        )
        for r in conn.execute(query):
            merged[r.dataset_id].update(r.facets or {})
            writers[r.dataset_id].add(r.run_id)
            latest[r.dataset_id] = (r.version, r.created_at)
    hidden = _hidden(conn, scope, pks)
    views = {}
    for row in rows:
        stored = row.facets or {}
        facets = merged[row.id]
        if row.id not in hidden and facets != stored:
            facets = _rebuilt(conn, row, writers[row.id])  # a run wrote the version more than once?
        if row.id not in hidden and facets == stored:
            views[row.id] = _whole(row)
            continue
        version, when = latest.get(row.id, (None, None))
        views[row.id] = DatasetView(facets, version, when, True)
    return views


def _whole(row: Any) -> DatasetView:
    return DatasetView(row.facets or {}, row.current_version, row.current_version_time, False)
