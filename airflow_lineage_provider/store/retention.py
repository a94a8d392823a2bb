"""Store lifecycle: pruning old runs and raw events, and erasing a dataset's content (GDPR-style).

``prune`` removes runs that ended before a cut-off, their raw events and their run_io rows, and the
dataset versions only they produced — but keeps what the graph needs: the latest run of every job,
the parent run of every kept run, and every dataset version a kept run read or wrote (plus each
dataset's current version). Nodes and edges are never pruned: the graph stays connected.

``erase`` removes a dataset's facets (schema, statistics, ownership, ...) from its node, its
versions and every raw event that mentions it, and leaves a tombstone facet
(``airflowLineage_erased``): the node, its name and its edges stay, so lineage around it remains
connected and auditable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, tuple_, update

from airflow_lineage_provider.core.ids import NodeId
from airflow_lineage_provider.exceptions import InvalidQueryError
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.reads import resolve

ERASED_FACET = "airflowLineage_erased"
_CHUNK = 500
_SCAN = 1000


@dataclass
class PruneReport:
    """What a prune removed (or, in a dry run, would remove)."""

    cutoff: datetime
    runs: int = 0
    events: int = 0
    run_io: int = 0
    versions: int = 0
    kept_latest: int = 0
    run_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat() + "Z",
            "runs": self.runs,
            "events": self.events,
            "runIo": self.run_io,
            "datasetVersions": self.versions,
            "keptAsLatestOfTheirJob": self.kept_latest,
        }


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _count(conn: Connection, stmt: Any) -> int:
    return int(conn.execute(stmt).scalar() or 0)


def prune(conn: Connection, cutoff: datetime, *, dry_run: bool) -> PruneReport:
    """Remove runs older than ``cutoff`` (naive UTC) and what only they need; see the module docstring."""
    report = PruneReport(cutoff)
    run_time = func.coalesce(t.Run.ended_at, t.Run.state_time, t.Run.started_at, t.Run.created_at)
    latest = set(conn.scalars(select(t.Node.latest_run_id).where(t.Node.latest_run_id.is_not(None))))
    old = [r for r in conn.scalars(select(t.Run.run_id).where(run_time < cutoff))]
    kept_old = [r for r in old if r in latest]
    candidates = set(old) - latest
    # A kept run's parent (the DAG run of a kept task run) stays too.
    for chunk in _chunks(sorted(set(conn.scalars(select(t.Run.run_id).where(run_time >= cutoff))) | latest)):
        candidates -= set(conn.scalars(select(t.Run.parent_run_id).where(t.Run.run_id.in_(chunk))))
    doomed = sorted(candidates)
    report.kept_latest, report.run_ids, report.runs = len(kept_old), doomed, len(doomed)
    needed = _needed_versions(conn, doomed)
    for chunk in _chunks(doomed):
        report.events += _count(conn, select(func.count()).where(t.Event.run_id.in_(chunk)))
        report.run_io += _count(conn, select(func.count()).where(t.RunIO.run_id.in_(chunk)))
        versions = [
            (row.dataset_id, row.version)
            for row in conn.execute(
                select(t.DatasetVersion.dataset_id, t.DatasetVersion.version).where(
                    t.DatasetVersion.run_id.in_(chunk)
                )
            )
            if (row.dataset_id, row.version) not in needed
        ]
        report.versions += len(versions)
        if dry_run:
            continue
        conn.execute(delete(t.Event).where(t.Event.run_id.in_(chunk)))
        conn.execute(delete(t.RunIO).where(t.RunIO.run_id.in_(chunk)))
        conn.execute(delete(t.Assertion).where(t.Assertion.run_id.in_(chunk)))
        conn.execute(delete(t.Run).where(t.Run.run_id.in_(chunk)))
        for version_chunk in _chunks(versions):
            conn.execute(
                delete(t.DatasetVersion).where(
                    tuple_(t.DatasetVersion.dataset_id, t.DatasetVersion.version).in_(version_chunk)
                )
            )
    return report


def _needed_versions(conn: Connection, doomed: Sequence[str]) -> set[tuple[int, str]]:
    """Dataset versions a kept run read or wrote, and every dataset's current version."""
    doomed_set = set(doomed)
    needed: set[tuple[int, str]] = set()
    for row in conn.execute(
        select(t.RunIO.run_id, t.RunIO.dataset_id, t.RunIO.version).where(t.RunIO.version.is_not(None))
    ):
        if row.run_id not in doomed_set:
            needed.add((row.dataset_id, row.version))
    for node_id, version in conn.execute(
        select(t.Node.id, t.Node.current_version).where(t.Node.current_version.is_not(None))
    ):
        needed.add((node_id, str(version)))
    return needed


# -- erase ----------------------------------------------------------------------------------------
def _scrub_dataset(entry: Any, namespace: str, name: str) -> bool:
    if not isinstance(entry, dict) or entry.get("namespace") != namespace or entry.get("name") != name:
        return False
    changed = False
    for key in ("facets", "inputFacets", "outputFacets"):
        if entry.get(key):
            entry[key] = {}
            changed = True
    return changed


def _scrub_event(payload: dict[str, Any], namespace: str, name: str) -> bool:
    changed = False
    for side in ("inputs", "outputs"):
        for entry in payload.get(side) or []:
            changed |= _scrub_dataset(entry, namespace, name)
    if "dataset" in payload:
        changed |= _scrub_dataset(payload["dataset"], namespace, name)
    return changed


def erase(conn: Connection, node_id: str, *, reason: str, now: datetime) -> dict[str, Any]:
    """Erase a dataset's facets everywhere and leave a tombstone; return what was changed."""
    node, row = resolve(conn, node_id)
    if node.kind != "dataset":
        raise InvalidQueryError(f"only datasets can be erased, not {node.kind} nodes ({node_id})")
    tombstone = {ERASED_FACET: {"erasedAt": now.isoformat() + "Z", "reason": reason}}
    conn.execute(update(t.Node).where(t.Node.id == row.id).values(facets=tombstone, updated_at=now))
    versions = conn.execute(
        update(t.DatasetVersion).where(t.DatasetVersion.dataset_id == row.id).values(facets={})
    ).rowcount
    conn.execute(delete(t.Assertion).where(t.Assertion.dataset_id == row.id))  # they name its columns
    conn.execute(delete(t.Tag).where(t.Tag.node_id == row.id))
    conn.execute(
        update(t.DeclaredEdge)
        .where(or_(t.DeclaredEdge.dst == row.id, t.DeclaredEdge.src == row.id))
        .values(columns=[])
    )  # declared field entries name its columns too
    events = 0
    last_id = 0
    while True:
        batch = conn.execute(
            select(t.Event.id, t.Event.payload).where(t.Event.id > last_id).order_by(t.Event.id).limit(_SCAN)
        ).all()
        if not batch:
            break
        last_id = batch[-1].id
        for event_id, payload in batch:
            if _scrub_event(payload, node.namespace, node.name):
                conn.execute(update(t.Event).where(t.Event.id == event_id).values(payload=payload))
                events += 1
    return {"node": str(NodeId.dataset(node.namespace, node.name)), "versions": versions, "events": events}


__all__ = ["ERASED_FACET", "PruneReport", "erase", "prune"]
