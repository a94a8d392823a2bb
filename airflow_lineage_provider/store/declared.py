"""Declared lineage: the spec's ``lineage`` facet (LineageFacet 1-0-0), stored apart from observed edges.

A producer declares lineage on a job (``job.facets.lineage``: entries, each a target dataset or job
and its source inputs and fields) or on a dataset (``facets.lineage``: that dataset's inputs and
fields), on a JobEvent, a DatasetEvent or a RunEvent. Each (source, target) pair becomes one row of
``lineage_declared_edges`` (any kind to any kind), with the declared field entries of the pair. A job
entry or input without namespace and name is the event's own job (skipped on a dataset event, which
has none). Reads walk these edges only when asked to (``declared=True``) and mark them declared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, select
from sqlalchemy.orm import aliased

from airflow_lineage_provider.core.events import ParsedEvent
from airflow_lineage_provider.core.facetviews import obj, objects
from airflow_lineage_provider.store import visibility
from airflow_lineage_provider.store.tables import DeclaredEdge, Node
from airflow_lineage_provider.store.upserts import bulk, insert
from airflow_lineage_provider.store.visibility import Scope

Named = tuple[str, str, str]  # (kind, namespace, name)
FieldKey = tuple[int, str]  # (dataset node id, field name)
NO_JOB = 0  # declared_by of a dataset event's declaration: no job, so only readers of all see it


def _entity(entry: dict[str, Any], own_job: Named | None) -> Named | None:
    """The (kind, namespace, name) an entry or input names; its own job when a job names none."""
    kind = str(entry.get("type") or "").upper()
    namespace, name = entry.get("namespace"), entry.get("name")
    if kind == "JOB" and not namespace and not name:
        return own_job
    if kind not in ("DATASET", "JOB") or not isinstance(namespace, str) or not isinstance(name, str):
        return None
    return (kind.lower(), namespace, name)


def _pairs(
    target: Named, inputs: Any, fields: Any, own_job: Named | None
) -> Iterator[tuple[Named, Named, dict[str, Any] | None]]:
    """(source, target, field entry or None) of one target's declared inputs and fields."""
    for source in objects(inputs):
        found = _entity(source, own_job)
        if found is not None and found != target:
            yield found, target, None
    for target_field, spec in obj(fields).items():
        for source in objects(obj(spec).get("inputs")):
            found = _entity(source, own_job)
            if found is not None and found != target:
                column = {
                    "field": str(target_field),
                    "inputField": source.get("field"),
                    "transformations": source.get("transformations") or [],
                }
                yield found, target, column


def declarations(event: ParsedEvent) -> Iterator[tuple[Named, Named, dict[str, Any] | None]]:
    """Every declared (source, target, field entry) of an event."""
    payload = event.payload
    job = payload.get("job") if event.kind != "dataset" else None
    own_job: Named | None = ("job", job["namespace"], job["name"]) if job else None
    facet = ((job or {}).get("facets") or {}).get("lineage")
    for entry in objects(obj(facet).get("entries")):
        target = _entity(entry, own_job)
        if target is not None:
            yield from _pairs(target, entry.get("inputs"), entry.get("fields"), own_job)
    datasets = (
        [payload["dataset"]]
        if event.kind == "dataset"
        else [*(payload.get("inputs") or []), *(payload.get("outputs") or [])]
    )
    for ds in datasets:
        facet = (ds.get("facets") or {}).get("lineage")
        if isinstance(facet, dict):
            target = ("dataset", ds["namespace"], ds["name"])
            yield from _pairs(target, facet.get("inputs"), facet.get("fields"), own_job)


def named(event: ParsedEvent) -> Iterator[Named]:
    """The nodes an event's declarations name (created like any other node)."""
    for source, target, _ in declarations(event):
        yield source
        yield target


@dataclass
class Declared:
    """The declared edges of one batch, merged in memory and written with one upsert."""

    rows: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)

    def add(self, ids: dict[Named, int], event: ParsedEvent, declared_by: int | None, t: datetime) -> None:
        for source, target, column in declarations(event):
            key = (ids[source], ids[target], NO_JOB if declared_by is None else declared_by)
            row = self.rows.get(key)
            if row is None or t >= row["last_seen"]:  # the latest declaration's field entries win
                first = t if row is None else min(row["first_seen"], t)
                row = self.rows[key] = {
                    "src": key[0],
                    "dst": key[1],
                    "declared_by": key[2],
                    "run_id": event.run_id,
                    "first_seen": first,
                    "last_seen": t,
                    "columns": [] if row is None or row["last_seen"] != t else row["columns"],
                }
            elif t < row["first_seen"]:
                row["first_seen"] = t
            if column is not None and row["last_seen"] == t and column not in row["columns"]:
                row["columns"].append(column)

    def flush(self, conn: Connection) -> None:
        bulk(conn, "declared.upsert", _upsert, [self.rows[k] for k in sorted(self.rows)])


def _upsert(conn: Connection) -> Any:
    stmt = insert(conn, DeclaredEdge)
    ex = stmt.excluded
    later = ex.last_seen >= DeclaredEdge.last_seen
    return stmt.on_conflict_do_update(
        index_elements=["src", "dst", "declared_by"],
        set_={
            "first_seen": case(
                (ex.first_seen < DeclaredEdge.first_seen, ex.first_seen), else_=DeclaredEdge.first_seen
            ),
            "last_seen": case((later, ex.last_seen), else_=DeclaredEdge.last_seen),
            "run_id": case((later, ex.run_id), else_=DeclaredEdge.run_id),
            "columns": case((later, ex.columns), else_=DeclaredEdge.columns),
        },
    )


def visible(
    conn: Connection, rows: list[tuple[Any, ...]], observed: set[tuple[int, int]], scope: Scope | None
) -> list[tuple[Any, Any, Any, Any, bool]]:
    """Declared (src, dst, first_seen, last_seen, True) from rows of (src, dst, first, last,
    declared_by): one per pair not joined by an observed edge, declared by a job the reader may see
    (:mod:`.visibility`; a dataset event's declaration only for readers of every DAG)."""
    rows = _readable(conn, rows, scope)
    pairs: dict[tuple[int, int], tuple[Any, Any]] = {}
    for src, dst, first, last, _ in rows:
        if (src, dst) in observed:
            continue
        old = pairs.get((src, dst))
        pairs[(src, dst)] = (first, last) if old is None else (min(old[0], first), max(old[1], last))
    return [(s, d, f, ls, True) for (s, d), (f, ls) in pairs.items()]


def _readable(conn: Connection, rows: list[Any], scope: Scope | None, at: int = 4) -> list[Any]:
    """The rows (``declared_by`` at index ``at``) declared by a job the reader may see (a dataset
    event's only for readers of every DAG)."""
    if scope is None or scope.unrestricted:
        return rows
    shown = visibility.visible_node_pks(conn, {r[at] for r in rows if r[at] != NO_JOB}, scope)
    return [r for r in rows if r[at] in shown]


def field_edges(
    conn: Connection, pks: list[int], upstream: bool, scope: Scope | None
) -> list[tuple[FieldKey, FieldKey, list[Any]]]:
    """Declared field entries between datasets into (``upstream``) or out of the datasets ``pks``:
    (source field, target field, transformations), of declarations the reader may see."""
    d, source, target = DeclaredEdge, aliased(Node), aliased(Node)
    side = d.dst if upstream else d.src
    rows: list[Any] = []
    for start in range(0, len(pks), 1000):
        query = (
            select(d.src, d.dst, d.columns, d.declared_by)
            .join(source, source.id == d.src)
            .join(target, target.id == d.dst)
            .where(side.in_(pks[start : start + 1000]), source.kind == "dataset", target.kind == "dataset")
        )
        rows.extend(conn.execute(query).all())
    found = []
    for src, dst, columns, _ in _readable(conn, rows, scope, at=3):
        for entry in columns or []:
            if isinstance(entry, dict) and isinstance(entry.get("inputField"), str) and entry.get("field"):
                transformations = entry.get("transformations")
                found.append(
                    (
                        (src, entry["inputField"]),
                        (dst, str(entry["field"])),
                        transformations if isinstance(transformations, list) else [],
                    )
                )
    return found
