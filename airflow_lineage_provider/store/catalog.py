"""Marquez-style reads of the store (namespaces, datasets, jobs, runs, search, events), per reader.

Every read takes a :class:`~airflow_lineage_provider.store.visibility.Scope` and filters in SQL, so a
restricted reader never loads what they may not see, and paging counts only visible rows. A node the
reader may not see is reported exactly like a node that does not exist (``NodeNotFoundError``, with
suggestions drawn only from visible nodes).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, func, or_, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import NodeId, node_text, parse
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import assertions, fields, fingerprints, marquez, tags, visibility
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.fields import ColumnGraph
from airflow_lineage_provider.store.graphstate import node_key
from airflow_lineage_provider.store.reads import suggest
from airflow_lineage_provider.store.scoped import dataset_views, node_times, times
from airflow_lineage_provider.store.visibility import Scope

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore

Sort = Literal["name", "updated_at"]


@dataclass(frozen=True)
class Page:
    """One page of a listing and the number of visible items in all pages."""

    items: list[dict[str, Any]]
    total: int
    normalised: list[dict[str, Any]] = field(default_factory=list)  # events: what was read leniently


class Catalog:
    """Reads of one :class:`LineageStore` shaped as Marquez API v1 objects, within a reader's scope."""

    def __init__(self, store: LineageStore) -> None:
        self._store = store

    @contextlib.contextmanager
    def _read(self, scope: Scope) -> Iterator[tuple[Connection, Scope]]:
        with self._store.database.connect(write=False) as conn:
            yield conn, visibility.resolve(conn, scope)

    @staticmethod
    def _page(conn: Connection, query: Any, limit: int, offset: int) -> tuple[list[Any], int]:
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        return list(conn.execute(query.limit(limit).offset(offset)).all()), int(total)

    def _node(self, conn: Connection, scope: Scope, kind: str, namespace: str, name: str) -> Any:
        row = conn.execute(
            select(t.Node).where(
                t.Node.node_key == node_key(kind, namespace, name),
                visibility.node_condition(t.Node, scope),
            )
        ).first()
        if row is None:
            raise self._not_found(conn, scope, NodeId(kind, namespace, name))  # type: ignore[arg-type]
        return row

    def _not_found(self, conn: Connection, scope: Scope, node: NodeId) -> NodeNotFoundError:
        ids = {(p.kind, p.namespace, p.name): i for i in suggest(conn, node) for p in [parse(i)]}
        shown = visibility.visible_keys(conn, ids, scope)
        return NodeNotFoundError(str(node), [i for key, i in ids.items() if key in shown])

    # -- namespaces -----------------------------------------------------------------------------
    def namespaces(self, scope: Scope, limit: int, offset: int) -> Page:
        with self._read(scope) as (conn, scope):
            query = self._namespaces(scope).order_by(t.Node.namespace)
            rows, total = self._page(conn, query, limit, offset)
        return Page([_namespace(r) for r in rows], total)

    def namespace(self, scope: Scope, name: str) -> dict[str, Any]:
        with self._read(scope) as (conn, scope):
            row = conn.execute(self._namespaces(scope).where(t.Node.namespace == name)).first()
        if row is None:
            raise NodeNotFoundError(f"namespace {name}")
        return _namespace(row)

    @staticmethod
    def _namespaces(scope: Scope) -> Any:
        """Namespaces of the visible nodes, with the times the reader sees (:func:`.scoped.node_times`)."""
        created, updated = node_times(t.Node, scope)
        return (
            select(t.Node.namespace, func.min(created).label("created"), func.max(updated).label("updated"))
            .where(visibility.node_condition(t.Node, scope))
            .group_by(t.Node.namespace)
        )

    # -- datasets -------------------------------------------------------------------------------
    def datasets(self, scope: Scope, namespace: str, limit: int, offset: int) -> Page:
        with self._read(scope) as (conn, scope):
            query = (
                select(t.Node)
                .where(t.Node.kind == "dataset", t.Node.namespace == namespace)
                .where(visibility.dataset_condition(t.Node, scope))
                .order_by(t.Node.name)
            )
            rows, total = self._page(conn, query, limit, offset)
            views, seen = dataset_views(conn, scope, rows), times(conn, scope, rows)
        return Page([marquez.dataset(r, views[r.id], seen[r.id]) for r in rows], total)

    def dataset(self, scope: Scope, namespace: str, name: str) -> dict[str, Any]:
        with self._read(scope) as (conn, scope):
            row = self._node(conn, scope, "dataset", namespace, name)
            return marquez.dataset(
                row, dataset_views(conn, scope, [row])[row.id], times(conn, scope, [row])[row.id]
            )

    def dataset_versions(self, scope: Scope, namespace: str, name: str, limit: int, offset: int) -> Page:
        with self._read(scope) as (conn, scope):
            node = self._node(conn, scope, "dataset", namespace, name)
            view = dataset_views(conn, scope, [node])[node.id]
            query = (
                select(t.DatasetVersion)
                .where(t.DatasetVersion.dataset_id == node.id)
                .where(visibility.run_condition(t.DatasetVersion.run_id, scope))
                .order_by(t.DatasetVersion.created_at.desc(), t.DatasetVersion.id.desc())
            )
            rows, total = self._page(conn, query, limit, offset)
            created_by = marquez.runs_by_id(conn, [r.run_id for r in rows], scope)
            checks = assertions.by_version(conn, node.id, scope)
            marks = fingerprints.version_marks(
                conn, node.id, rows, lambda run: visibility.run_visible(conn, run, scope)
            )
            items = [
                {
                    **marquez.dataset_version(node, view, r, created_by.get(r.run_id), checks.get(r.version)),
                    **marks[r.version],
                }
                for r in rows
            ]
        return Page(items, total)

    # -- jobs and runs --------------------------------------------------------------------------
    def jobs(self, scope: Scope, namespace: str, limit: int, offset: int) -> Page:
        with self._read(scope) as (conn, scope):
            query = (
                select(t.Node)
                .where(t.Node.kind == "job", t.Node.namespace == namespace)
                .where(visibility.job_condition(t.Node, scope))
                .order_by(t.Node.name)
            )
            rows, total = self._page(conn, query, limit, offset)
            return Page(marquez.jobs(conn, scope, rows), total)

    def job(self, scope: Scope, namespace: str, name: str) -> dict[str, Any]:
        with self._read(scope) as (conn, scope):
            row = self._node(conn, scope, "job", namespace, name)
            return marquez.jobs(conn, scope, [row], latest=10)[0]

    def runs(self, scope: Scope, namespace: str, name: str, limit: int, offset: int) -> Page:
        with self._read(scope) as (conn, scope):
            job = self._node(conn, scope, "job", namespace, name)
            query = (
                select(t.Run)
                .where(t.Run.job_id == job.id, visibility.run_rule(t.Run, scope))
                .order_by(t.Run.created_at.desc(), t.Run.run_id)
            )
            rows, total = self._page(conn, query, limit, offset)
            return Page(marquez.runs(conn, rows, scope), total)

    def run(self, scope: Scope, run_id: str) -> dict[str, Any]:
        node = parse(f"run:{run_id}")
        with self._read(scope) as (conn, scope):
            row = conn.execute(select(t.Run).where(t.Run.run_id == node.run_id)).first()
            if row is None or not visibility.run_visible(conn, row.run_id, scope):
                raise NodeNotFoundError(str(node))
            return marquez.runs(conn, [row], scope)[0]

    # -- search and events ----------------------------------------------------------------------
    def search(
        self,
        scope: Scope,
        text: str,
        kind: str | None,
        namespace: str | None,
        sort: Sort,
        limit: int,
    ) -> Page:
        with self._read(scope) as (conn, scope):
            updated = node_times(t.Node, scope)[1].label("seen_updated")
            query = select(t.Node, updated).where(
                or_(
                    t.Node.name.icontains(text, autoescape=True),
                    t.Node.namespace.icontains(text, autoescape=True),
                    tags.matching(t.Node, text, scope),
                ),
                visibility.node_condition(t.Node, scope),
            )
            if kind:
                query = query.where(t.Node.kind == kind)
            if namespace:
                query = query.where(t.Node.namespace == namespace)
            order = (updated.desc(),) if sort == "updated_at" else (t.Node.name, t.Node.namespace)
            rows, total = self._page(conn, query.order_by(*order, t.Node.id), limit, 0)
            run = self._run_named(conn, scope, text)
        found = [_search_result(r) for r in rows]
        return Page(found if run is None else [run, *found[: limit - 1]], total + (run is not None))

    @staticmethod
    def _run_named(conn: Connection, scope: Scope, text: str) -> dict[str, Any] | None:
        """The visible run whose id is ``text`` (a trace id a served model answered with, say)."""
        try:
            run_id = str(uuid.UUID(text.strip()))
        except ValueError:
            return None
        row = conn.execute(
            select(t.Run.run_id, t.Run.updated_at, t.Node.namespace, t.Node.name)
            .join(t.Node, t.Node.id == t.Run.job_id)
            .where(t.Run.run_id == run_id)
        ).first()
        if row is None or not visibility.run_visible(conn, run_id, scope):
            return None
        return {
            "type": "RUN",
            "name": row.name,
            "updatedAt": iso(row.updated_at),
            "namespace": row.namespace,
            "nodeId": f"run:{run_id}",
        }

    def events(
        self,
        scope: Scope,
        before: datetime | None,
        after: datetime | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Page:
        with self._read(scope) as (conn, scope):
            query = select(t.Event.payload, t.Event.normalised).where(visibility.event_condition(scope))
            if before is not None:
                query = query.where(t.Event.event_time < before)
            if after is not None:
                query = query.where(t.Event.event_time > after)
            order = (
                (t.Event.event_time.desc(), t.Event.id.desc())
                if descending
                else (
                    t.Event.event_time,
                    t.Event.id,
                )
            )
            rows, total = self._page(conn, query.order_by(*order), limit, offset)
        notes = [{"index": i, **n} for i, r in enumerate(rows) for n in r.normalised or []]
        return Page([r.payload for r in rows], total, notes)

    def column_lineage(
        self,
        scope: Scope,
        node_id: str,
        depth: int,
        downstream: bool,
        max_fields: int,
        declared: bool = True,
    ) -> ColumnGraph:
        with self._read(scope) as (conn, scope):
            return fields.column_lineage(conn, scope, node_id, depth, downstream, max_fields, declared)

    # -- visibility of graph answers ------------------------------------------------------------
    def visible_ids(self, scope: Scope, node_ids: list[str]) -> set[str]:
        """The node ids (dataset, job or run) of a graph answer that the scope may see."""
        if scope.unrestricted:
            return set(node_ids)
        parsed = {i: parse(i) for i in node_ids}
        with self._read(scope) as (conn, scope):
            keys = {(n.kind, n.namespace, n.name) for n in parsed.values() if n.kind != "run"}
            shown = visibility.visible_keys(conn, keys, scope)
            return {
                i
                for i, n in parsed.items()
                if (n.kind, n.namespace, n.name) in shown
                or (n.kind == "run" and visibility.run_visible(conn, n.run_id, scope))
            }

    def not_found(self, scope: Scope, error: NodeNotFoundError) -> NodeNotFoundError:
        """The same error with only the suggestions the scope may see."""
        if scope.unrestricted or not error.suggestions:
            return error
        shown = self.visible_ids(scope, error.suggestions)
        return NodeNotFoundError(error.node_id, [s for s in error.suggestions if s in shown])


def _namespace(row: Any) -> dict[str, Any]:
    return {
        "name": row.namespace,
        "createdAt": iso(row.created),
        "updatedAt": iso(row.updated),
        "ownerName": "anonymous",
        "description": None,
        "isHidden": False,
    }


def _search_result(row: Any) -> dict[str, Any]:
    return {
        "type": "DATASET" if row.kind == "dataset" else "JOB",
        "name": row.name,
        "updatedAt": iso(row.seen_updated),
        "namespace": row.namespace,
        "nodeId": node_text(row.kind, row.namespace, row.name),
    }
