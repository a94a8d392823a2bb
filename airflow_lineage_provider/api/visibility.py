"""Who may read and write lineage through the REST API: the rules, from Airflow's auth manager.

* **Read.** A user for whom ``is_authorized_dag(method="GET")`` holds without naming a DAG (the auth
  manager's "every DAG" permission: admins, and every role of SimpleAuthManager) sees everything,
  including jobs of other producers (Spark, dbt, ...). Anyone else sees what
  :mod:`airflow_lineage_provider.store.visibility` allows for the DAG ids
  ``get_authorized_dag_ids(user=..., method="GET")`` returns: jobs of those DAGs in the Airflow job
  namespace (``[lineage_provider] namespace``), their runs and events, and the datasets they read or
  write, as those runs wrote them (versions, facets, fields, column lineage:
  :mod:`airflow_lineage_provider.store.scoped`). Nothing of other producers. The store applies the
  rule inside its reads (the scope is passed to every one); this module builds the scope and checks
  roots.
* **Ingest.** ``is_authorized_dag(method="PUT")`` without naming a DAG (permission to edit every DAG:
  SimpleAuthManager roles ``user``, ``op``, ``admin``; FAB ``User``, ``Op``, ``Admin``). An event
  can describe any job, so a per-DAG editor may not ingest.

Hidden nodes are reported as missing (404), never as forbidden, so their names do not leak.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from airflow_lineage_provider.core.graph import Direction, LineageGraph, merge_graphs
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store.catalog import Catalog
from airflow_lineage_provider.store.lineagestore import LineageStore
from airflow_lineage_provider.store.visibility import Scope


def reader_scope(auth_manager: Any, user: Any, namespace: str) -> Scope:
    """The :class:`Scope` of a user: everything, or the DAGs the auth manager lets them read."""
    if auth_manager.is_authorized_dag(method="GET", user=user):
        return Scope(namespace)
    dag_ids = auth_manager.get_authorized_dag_ids(user=user, method="GET")
    return Scope(namespace, frozenset(dag_ids))


def may_ingest(auth_manager: Any, user: Any) -> bool:
    """Whether a user may record events (permission to edit every DAG)."""
    return bool(auth_manager.is_authorized_dag(method="PUT", user=user))


def filter_graph(
    graph: LineageGraph,
    visible: set[str],
    types: set[str] | None = None,
    namespace: str | None = None,
) -> LineageGraph:
    """Keep the root and the visible nodes that pass the type and namespace filters, and their edges."""

    def kept(node: Any) -> bool:
        if node.id == graph.root:
            return True
        if node.id not in visible:
            return False
        return (not types or node.type in types) and (namespace is None or node.namespace == namespace)

    nodes = [n for n in graph.nodes if kept(n)]
    ids = {n.id for n in nodes}
    edges = [e for e in graph.edges if e.source in ids and e.target in ids]
    return replace(graph, nodes=nodes, edges=edges)


def visible_lineage(
    store: LineageStore,
    scope: Scope,
    node_id: str,
    direction: Direction,
    depth: int,
    as_of: str | None = None,
    limit: int | None = None,
    types: set[str] | None = None,
    namespace: str | None = None,
    declared: bool = True,
) -> LineageGraph:
    """``store.lineage`` as the reader may see it; a root they may not see is not found."""
    catalog = Catalog(store)
    try:
        root = str(store.describe(node_id)["id"]) if not scope.unrestricted else node_id
    except NodeNotFoundError as exc:
        raise catalog.not_found(scope, exc) from exc
    if root not in catalog.visible_ids(scope, [root]):
        raise NodeNotFoundError(node_id)
    graph = store.lineage(node_id, direction, depth, as_of, limit, scope, declared)
    return filter_graph(graph, {n.id for n in graph.nodes}, types, namespace)


def visible_dag_lineage(
    store: LineageStore,
    scope: Scope,
    dag_id: str,
    direction: Direction,
    depth: int,
    limit: int | None = None,
    declared: bool = True,
) -> LineageGraph:
    """The lineage around every job of one DAG (the DAG's and its tasks'), as the reader may see it.

    The root is the DAG's job id (``job:<namespace>:<dag_id>``); a DAG the reader may not read, or one
    with no lineage recorded, is not found."""
    dag_job = f"job:{scope.namespace}:{dag_id}"
    jobs = store.dag_jobs(scope.namespace, dag_id)
    catalog = Catalog(store)
    if scope.dag_ids is not None:
        jobs = sorted(catalog.visible_ids(scope, jobs))
    if not jobs:
        raise NodeNotFoundError(dag_job)
    # The DAG's own job has no inputs or outputs of its own: draw its tasks, unless it is all there is.
    jobs = [job for job in jobs if job != dag_job] or jobs
    graphs = [store.lineage(job, direction, depth, None, limit, scope, declared) for job in jobs]
    return merge_graphs(dag_job, direction, depth, graphs, limit)
