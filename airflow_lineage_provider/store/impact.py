"""Impact in one call: everything downstream of a node, counted, and listed page by page.

The downstream set is :func:`.reads.walk` from the node (complete: no limit), so whatever makes the
walk faster makes these faster. The counts are aggregated in SQL over the walked ids, in chunked
``IN`` lists with ``GROUP BY`` (each id is in one chunk, so the chunks' counts add up): no Python
object per node. What is counted (the root itself is not):

* ``byType``: kind (``dataset``, ``job``) and stored type (a dataset's ``datasetType``: ``TABLE``,
  ``MODEL``, ...; a job's ``jobType``: ``DAG``, ``TASK``, ...; None when not reported);
* ``byNamespace``;
* ``dags``: the Airflow DAG of each downstream job is the job itself when it is a DAG's job (type
  ``DAG``), else its parent job (ParentRunFacet) when that is one; per DAG, its downstream jobs.
  ``jobsWithoutDag`` counts the others (Spark, dbt, ... jobs);
* ``byOwner``: the names in the spec's ``ownership`` facet (``owners[].name``): a dataset's own, a
  job's own or else its DAG's. A node with several owners counts once under each; ``unowned`` counts
  the nodes with none.

A restricted reader (``scope``) is walked as :func:`.reads.lineage` walks them: only nodes they may
see are reached or gone through, a DAG is named only when they may see its job, and a dataset's owners
are read from the dataset as they see it (:func:`.scoped.dataset_views`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.facetviews import obj, objects
from airflow_lineage_provider.core.graph import Node
from airflow_lineage_provider.core.ids import parse
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import reads, visibility
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.scoped import dataset_views
from airflow_lineage_provider.store.visibility import Scope

# One pass over the walked nodes' rows, grouped: kind, type, namespace, the DAG job of a job (itself
# when it is one, else its parent), and the owners array of the ownership facet as JSON text (NULL when
# there is none; distinct owner lists are few, so they are parsed once per group, not once per node).
_GROUPS_SQL = (
    "SELECT kind, type, namespace, "
    "CASE WHEN kind = 'job' AND type = 'DAG' THEN id WHEN kind = 'job' THEN parent_job_id END, "
    "{owners}, count(*) FROM lineage_nodes n WHERE id IN ({ids}) GROUP BY 1, 2, 3, 4, 5"
)
_OWNERS = {  # the test before the JSON path skips parsing the facets of nodes with no ownership
    "sqlite": "CASE WHEN instr(facets, '\"ownership\"') > 0 AND json_type(facets, '$.ownership.owners') "
    "= 'array' THEN json_extract(facets, '$.ownership.owners') END",
    "postgresql": "CASE WHEN jsonb_typeof(facets -> 'ownership' -> 'owners') = 'array' "
    "THEN (facets -> 'ownership' -> 'owners')::text END",
}


@dataclass(frozen=True)
class ImpactSummary:
    """Counts of everything downstream of ``root`` (see the module docstring)."""

    root: str
    depth: int
    as_of: str | None
    total: int
    by_type: list[dict[str, Any]]  # {"kind", "type", "count"}
    by_namespace: list[dict[str, Any]]  # {"namespace", "count"}
    by_owner: list[dict[str, Any]]  # {"owner", "count"}
    unowned: int
    dags: list[dict[str, Any]]  # {"dagId", "namespace", "jobs"}
    jobs_without_dag: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "depth": self.depth,
            "asOf": self.as_of,
            "total": self.total,
            "byType": self.by_type,
            "byNamespace": self.by_namespace,
            "byOwner": self.by_owner,
            "unowned": self.unowned,
            "dags": self.dags,
            "jobsWithoutDag": self.jobs_without_dag,
        }


@dataclass(frozen=True)
class ImpactPage:
    """One page of the downstream nodes, nearest first (then in the order the store created them)."""

    root: str
    depth: int
    as_of: str | None
    total: int
    offset: int
    nodes: list[Node]


def downstream(
    conn: Connection,
    node_id: str,
    depth: int,
    as_of: datetime | None,
    scope: Scope | None,
    declared: bool,
) -> tuple[str, dict[int, int]]:
    """The root's node id and every node downstream of it (pk -> depth), the root left out.

    Unknown nodes raise as in :func:`.reads.lineage`, and so does a root the reader may not see; a
    restricted reader is suggested only nodes they may see."""
    reader = None if scope is None or scope.unrestricted else scope  # the scope when it hides anything
    try:
        node, row = reads.resolve(conn, node_id)
    except NodeNotFoundError as exc:
        if reader is None:
            raise
        keys = {(p.kind, p.namespace, p.name): i for i in exc.suggestions for p in [parse(i)]}
        shown = visibility.visible_keys(conn, keys, reader)
        raise NodeNotFoundError(exc.node_id, [i for key, i in keys.items() if key in shown]) from None
    seeds = {row.id: 0} if node.kind != "run" else _run_outputs(conn, row.run_id)
    if reader is not None:
        if node.kind == "run":
            visible = visibility.run_visible(conn, row.run_id, reader)
        else:
            visible = bool(visibility.visible_node_pks(conn, [row.id], reader))
        if not visible:
            raise NodeNotFoundError(node_id)
        if node.kind == "run":
            pks = visibility.visible_node_pks(conn, seeds, reader)
            seeds = {d: level for d, level in seeds.items() if d in pks}
    found, _edges = reads.walk(conn, seeds, False, depth, as_of, None, scope, declared)
    if node.kind != "run":
        found.pop(row.id, None)
    return str(node), found


def _run_outputs(conn: Connection, run_id: str) -> dict[int, int]:
    """The datasets a run wrote, one hop from it (as :func:`.reads.lineage` seeds a run's walk)."""
    query = select(t.RunIO.dataset_id).where(t.RunIO.run_id == run_id, t.RunIO.direction == "output")
    return {int(d): 1 for d in conn.execute(query).scalars()}


def summary(
    conn: Connection,
    node_id: str,
    depth: int,
    as_of: datetime | None,
    scope: Scope | None = None,
    declared: bool = True,
) -> ImpactSummary:
    """The counts of what is downstream of ``node_id`` (see the module docstring)."""
    root, found = downstream(conn, node_id, depth, as_of, scope, declared)
    reader = None if scope is None or scope.unrestricted else scope
    ids = sorted(found)
    tally = _count(conn, ids, reader)
    dags = _dags(conn, [d for d in tally.dag_jobs if d is not None], reader)
    for dag_pk, count in tally.unowned_jobs.items():  # a job without owners counts under its DAG's
        names = dags[dag_pk][2] if dag_pk in dags else []
        tally.by_owner.update({name: count for name in names})
        tally.owned += count if names else 0
    listed = [
        {"dagId": dags[pk][1], "namespace": dags[pk][0], "jobs": count}
        for pk, count in tally.dag_jobs.items()
        if pk in dags
    ]
    return ImpactSummary(
        root=root,
        depth=depth,
        as_of=iso(as_of),
        total=len(ids),
        by_type=[
            {"kind": kind, "type": type_, "count": n}
            for (kind, type_), n in sorted(
                tally.by_type.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or "")
            )
        ],
        by_namespace=[{"namespace": ns, "count": n} for ns, n in _ranked(tally.by_namespace)],
        by_owner=[{"owner": name, "count": n} for name, n in _ranked(tally.by_owner)],
        unowned=len(ids) - tally.owned,
        dags=sorted(listed, key=lambda d: (-d["jobs"], d["dagId"], d["namespace"])),
        jobs_without_dag=sum(n for pk, n in tally.dag_jobs.items() if pk not in dags),
    )


@dataclass
class _Tally:
    """Counts over the walked ids, added up chunk by chunk."""

    by_type: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    by_namespace: Counter[str] = field(default_factory=Counter)
    by_owner: Counter[str] = field(default_factory=Counter)
    dag_jobs: Counter[int | None] = field(default_factory=Counter)  # DAG job pk (None: none) -> jobs
    unowned_jobs: Counter[int | None] = field(default_factory=Counter)  # the same, jobs without owners
    owned: int = 0  # nodes with at least one owner


def _count(conn: Connection, ids: list[int], reader: Scope | None) -> _Tally:
    """Everything but the DAGs' names and owners, in one grouped query per chunk of ids; a restricted
    reader's datasets' owners from the datasets as they see them."""
    tally = _Tally()
    sql = _GROUPS_SQL.format(owners=_OWNERS[conn.dialect.name], ids="{ids}")
    for kind, type_, namespace, dag, owners, count in reads._fetch(conn, sql, ids):
        tally.by_type[(kind, type_)] += count
        tally.by_namespace[namespace] += count
        if kind == "job":
            tally.dag_jobs[dag] += count
        if kind == "dataset" and reader is not None:
            continue  # counted from what the reader sees of them, below
        names = owner_names({"ownership": {"owners": json.loads(owners)}}) if owners else []
        tally.by_owner.update({name: count for name in names})
        tally.owned += count if names else 0
        if kind == "job" and not names:
            tally.unowned_jobs[dag] += count
    if reader is not None:
        tally.owned += _visible_dataset_owners(conn, reader, ids, tally.by_owner)
    return tally


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def owner_names(facets: Any) -> list[str]:
    """The distinct owner names of a node's ``ownership`` facet (malformed entries left out)."""
    found = objects(obj(obj(facets).get("ownership")).get("owners"))
    return sorted({str(o["name"]) for o in found if o.get("name") is not None})


def _dags(conn: Connection, pks: list[int], reader: Scope | None) -> dict[int, tuple[str, str, list[str]]]:
    """pk -> (namespace, DAG id, owners) of the DAG jobs among ``pks`` that the reader may see."""
    n = t.Node
    rows = [
        row
        for chunk in reads._chunks(sorted(pks))
        for row in conn.execute(
            select(n.id, n.namespace, n.name, n.facets).where(
                n.id.in_(chunk), n.kind == "job", n.type == "DAG"
            )
        )
    ]
    shown = {r.id for r in rows}
    if reader is not None:
        shown = visibility.visible_node_pks(conn, shown, reader)
    return {r.id: (r.namespace, r.name, owner_names(_facets(r.facets))) for r in rows if r.id in shown}


def _facets(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _visible_dataset_owners(conn: Connection, scope: Scope, ids: list[int], by_owner: Counter[str]) -> int:
    """Count the owners of the datasets among ``ids`` as the reader sees them; return how many have one."""
    owned = 0
    for chunk in reads._chunks(ids):
        rows = conn.execute(select(t.Node).where(t.Node.id.in_(chunk), t.Node.kind == "dataset")).all()
        for view in dataset_views(conn, scope, rows).values():
            names = owner_names(view.facets)
            by_owner.update(names)
            owned += 1 if names else 0
    return owned


def page(
    conn: Connection,
    node_id: str,
    depth: int,
    as_of: datetime | None,
    offset: int,
    limit: int,
    scope: Scope | None = None,
    declared: bool = True,
) -> ImpactPage:
    """Nodes ``offset`` to ``offset + limit`` of everything downstream, nearest first, then by the order
    the store created them (stable while the graph does not change), shown as :func:`.reads.lineage`
    shows nodes."""
    root, found = downstream(conn, node_id, depth, as_of, scope, declared)
    ordered = sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[offset : offset + limit]
    nodes, names, _kinds = reads._load_nodes(conn, dict(ordered), scope)
    rank = {pk: i for i, (pk, _d) in enumerate(ordered)}
    position = {text: rank[pk] for pk, text in names.items()}
    nodes.sort(key=lambda n: position[n.id])
    return ImpactPage(root, depth, iso(as_of), len(found), offset, nodes)
