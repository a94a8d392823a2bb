"""Who may see which node: the rule, as SQL conditions and as the same check in Python.

A reader has a :class:`Scope`: the Airflow job namespace and the DAG ids they may read, or
``dag_ids=None`` for a reader who may read every DAG (sees everything). For a restricted reader:

* a **job** is visible when it is in the Airflow namespace and belongs to a readable DAG. A job named
  ``N`` belongs to the DAG whose id is the longest *dotted prefix* of ``N`` (``N`` itself,
  ``N`` up to its last ``.``, ...) among the readable DAG ids and the DAG jobs (``type = 'DAG'``) the
  store knows; so ``etl`` owns ``etl``, ``etl.load`` and ``etl.load.query.1``, but when ``etl.load``
  is itself a known DAG the reader may not read, it owns ``etl.load.*``. Jobs of any other namespace
  (Spark, dbt, custom producers) are visible only to readers of every DAG. In SQL the job must also
  be known from what the reader may read (its own events, or a visible job naming it as its parent),
  not only from another DAG's ParentRunFacet; :func:`job_visible` is the name rule alone.
* a **dataset** is visible when a visible job reads or writes it;
* a **run** is visible when its job is and an event the reader may read names it (its own, or a
  visible child's ParentRunFacet: :func:`run_rule`); a raw **event** when its job is (dataset events
  without a job only to readers of every DAG).

Pure SQLAlchemy: no Airflow and no FastAPI here; the API layer builds the Scope from the auth manager.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    column,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.orm import aliased

from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.graphstate import node_key


@dataclass(frozen=True)
class Scope:
    """What one reader may see; ``dag_ids=None`` means every DAG (and so every node)."""

    namespace: str
    dag_ids: frozenset[str] | None = None
    # Known DAG ids the reader may not read that extend a readable id (``etl.load`` under ``etl``).
    shadowed: frozenset[str] = field(default_factory=frozenset)

    @property
    def unrestricted(self) -> bool:
        return self.dag_ids is None

    @functools.cached_property
    def tables(self) -> tuple[Any, Any]:
        """The readable and the shadowed ids as SQL tables (built once, shared by one statement)."""
        return _table("readable_dags", self.dag_ids or ()), _table("shadowed_dags", self.shadowed)


def dotted_prefixes(name: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a"]``: the DAG ids that could own a job of that name."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def owner(name: str, scope: Scope) -> str | None:
    """The DAG id that owns a job name in the Airflow namespace, among the ids the scope knows."""
    known = (scope.dag_ids or frozenset()) | scope.shadowed
    return next((prefix for prefix in dotted_prefixes(name) if prefix in known), None)


def job_visible(namespace: str, name: str, scope: Scope) -> bool:
    if scope.dag_ids is None:
        return True
    if namespace != scope.namespace:
        return False
    found = owner(name, scope)
    return found is not None and found in scope.dag_ids


def resolve(conn: Connection, scope: Scope) -> Scope:
    """The scope plus the DAG jobs that shadow a readable id; call once per request."""
    if scope.dag_ids is None or not scope.dag_ids:
        return scope
    dag_jobs = conn.execute(
        select(t.Node.name).where(
            t.Node.kind == "job", t.Node.namespace == scope.namespace, t.Node.type == "DAG"
        )
    ).scalars()
    shadowed = {
        name
        for name in dag_jobs
        if name not in scope.dag_ids and any(p in scope.dag_ids for p in dotted_prefixes(name)[1:])
    }
    return Scope(scope.namespace, scope.dag_ids, frozenset(shadowed))


def _table(name: str, ids: Iterable[str]) -> Any:
    """A ``WITH name(dag_id) AS (VALUES ...)`` table (SQLite and PostgreSQL both accept it)."""
    return values(column("dag_id", String), name=name).data([(i,) for i in sorted(ids)]).cte(name)


def _owns(job_name: Any, dag_id: Any) -> ColumnElement[bool]:
    """``dag_id`` is a dotted prefix of ``job_name`` (exact: no LIKE wildcards)."""
    return or_(
        job_name == dag_id,
        func.substr(job_name, 1, func.length(dag_id) + 1) == dag_id.concat(literal(".")),
    )


def _longest(table: Any, name: Any) -> Any:
    """Length of the longest id in ``table`` that owns ``name`` (NULL when none does)."""
    return (
        select(func.max(func.length(table.c.dag_id)))
        .where(_owns(name, table.c.dag_id))
        .correlate_except(table)
        .scalar_subquery()
    )


def _rule(namespace: Any, name: Any, scope: Scope) -> ColumnElement[bool]:
    """The job rule on a (namespace, name) pair of columns."""
    if scope.dag_ids is None:
        return true()
    if not scope.dag_ids:
        return false()
    allowed = scope.tables[0]
    if not scope.shadowed:
        owned = select(allowed.c.dag_id).where(_owns(name, allowed.c.dag_id)).correlate_except(allowed)
        return and_(namespace == scope.namespace, exists(owned))
    # The longest owning id wins: hidden when a shadowing DAG id is longer than every readable one.
    return and_(
        namespace == scope.namespace,
        _longest(allowed, name) > func.coalesce(_longest(scope.tables[1], name), 0),
    )


def job_condition(job: Any, scope: Scope) -> ColumnElement[bool]:
    """SQL condition on a node alias (``t.Node`` or an ``aliased`` one) that is true for visible jobs:
    the name rule (:func:`job_visible`), and the job is known from what the reader may read."""
    if scope.dag_ids is None:
        return true()
    return and_(job.kind == "job", _rule(job.namespace, job.name, scope), _known(job, scope))


def _known(job: Any, scope: Scope) -> ColumnElement[bool]:
    """The job's own events made it (a run, job facets, an input or output), or a visible job names it
    as its parent: a job that only another DAG's ParentRunFacet named is not visible."""
    child, out, into = aliased(t.Node), aliased(t.Edge), aliased(t.Edge)
    return or_(
        job.latest_run_id.is_not(None),
        job.facets_time.is_not(None),
        exists(select(out.src).where(out.src == job.id)),
        exists(select(into.dst).where(into.dst == job.id)),
        exists(
            select(child.id).where(
                child.parent_job_id == job.id, child.kind == "job", _rule(child.namespace, child.name, scope)
            )
        ),
    )


def dataset_condition(dataset: Any, scope: Scope) -> ColumnElement[bool]:
    """SQL condition on a dataset node alias: true when a visible job reads or writes it."""
    if scope.dag_ids is None:
        return true()
    job = aliased(t.Node)
    writes = select(t.Edge.src).join(job, job.id == t.Edge.src).where(t.Edge.dst == dataset.id)
    reads = select(t.Edge.dst).join(job, job.id == t.Edge.dst).where(t.Edge.src == dataset.id)
    return or_(
        exists(writes.where(job_condition(job, scope))), exists(reads.where(job_condition(job, scope)))
    )


def node_condition(node: Any, scope: Scope) -> ColumnElement[bool]:
    """Visible jobs and datasets, on one node alias."""
    if scope.dag_ids is None:
        return true()
    return or_(
        and_(node.kind == "job", job_condition(node, scope)),
        and_(node.kind == "dataset", dataset_condition(node, scope)),
    )


def visible_node_pks(conn: Connection, pks: Iterable[int], scope: Scope) -> set[int]:
    """The subset of node primary keys the scope may see (one query per 5,000 ids)."""
    wanted = sorted(set(pks))
    if scope.dag_ids is None:
        return set(wanted)
    found: set[int] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        query = select(t.Node.id).where(t.Node.id.in_(chunk), node_condition(t.Node, scope))
        found.update(int(pk) for pk in conn.execute(query).scalars())
    return found


def visible_keys(
    conn: Connection, keys: Iterable[tuple[str, str, str]], scope: Scope
) -> set[tuple[str, str, str]]:
    """The subset of (kind, namespace, name) the scope may see; unknown nodes are not visible."""
    wanted = set(keys)
    if scope.dag_ids is None or not wanted:
        return wanted if scope.dag_ids is None else set()
    by_key = {node_key(*k): k for k in wanted}
    rows = conn.execute(select(t.Node.id, t.Node.node_key).where(t.Node.node_key.in_(list(by_key)))).all()
    shown = visible_node_pks(conn, [r.id for r in rows], scope)
    return {by_key[r.node_key] for r in rows if r.id in shown}


def run_visible(conn: Connection, run_id: str, scope: Scope) -> bool:
    if scope.dag_ids is None:
        return True
    query = select(t.Run.run_id).where(t.Run.run_id == run_id, run_rule(t.Run, scope))
    return conn.execute(query).first() is not None


def event_condition(scope: Scope) -> ColumnElement[bool]:
    """Condition on ``lineage_events``: events whose job is visible (dataset events: readers of all)."""
    if scope.dag_ids is None:
        return true()
    return and_(t.Event.job_name.is_not(None), _rule(t.Event.job_namespace, t.Event.job_name, scope))


def run_rule(run: Any, scope: Scope) -> ColumnElement[bool]:
    """SQL condition on a run alias (``t.Run`` or an ``aliased`` one): the reader may see the run.

    Its job must be visible, and an event the reader may read must name it: one of its own events, or
    the ParentRunFacet of a visible child run. A run that exists only because another DAG's event
    named it as its parent is not visible, although its job is."""
    if scope.dag_ids is None:
        return true()
    job, child, child_job = aliased(t.Node), aliased(t.Run), aliased(t.Node)
    own = select(t.Event.id).where(t.Event.run_id == run.run_id)
    children = (
        select(child.run_id)
        .join(child_job, child_job.id == child.job_id)
        .where(child.parent_run_id == run.run_id, job_condition(child_job, scope))
    )
    return and_(
        exists(select(job.id).where(job.id == run.job_id, job_condition(job, scope))),
        or_(exists(own), exists(children)),
    )


def run_condition(run_id: Any, scope: Scope) -> ColumnElement[bool]:
    """SQL condition on a run id column: the run is stored and :func:`run_rule` holds for it.

    What a restricted reader sees of a dataset (its versions, facets, fields, current version and
    column lineage) and of a job (its runs) comes only from rows whose run passes this condition."""
    if scope.dag_ids is None:
        return true()
    run = aliased(t.Run)
    return exists(select(run.run_id).where(run.run_id == run_id, run_rule(run, scope)))
