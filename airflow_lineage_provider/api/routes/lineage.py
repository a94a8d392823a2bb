"""Lineage graphs: Marquez's ``GET /lineage`` and ``GET /column-lineage``, plus the impact export.

``/impact/summary`` counts everything downstream of a node (by type, namespace, DAG and owner) and
``/impact/nodes`` pages through all of it (``offset``, ``limit``; ``total``), with no cap.

Extensions to Marquez's parameters: ``direction`` (upstream, downstream, both), ``asOf`` (an ISO-8601
time or a run id: only edges that existed then), ``limit`` (nodes, nearest first; ``isPartial`` says
more exist), ``type`` and ``namespace`` filters (the root node is always kept).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from airflow_lineage_provider.api.datamodels.graph import (
    ColumnLineageResponse,
    ErrorResponse,
    ImpactPageResponse,
    ImpactResponse,
    ImpactSummaryResponse,
    LineageResponse,
)
from airflow_lineage_provider.api.deps import CatalogDep, ScopeDep, StoreDep
from airflow_lineage_provider.api.visibility import visible_dag_lineage, visible_lineage
from airflow_lineage_provider.core.graph import Direction
from airflow_lineage_provider.store.lineagestore import MAX_DEPTH

router = APIRouter(prefix="/api/v1", tags=["Lineage"])

MAX_NODES = 10_000
MAX_FIELDS = 5_000
NodeIdParam = Annotated[
    str,
    Query(
        alias="nodeId",
        min_length=1,
        max_length=4096,
        description="dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>",
        examples=["dataset:postgres://db:5432:public.orders"],
    ),
]
DepthParam = Annotated[int, Query(ge=0, le=MAX_DEPTH, description="Hops; dataset -> job -> dataset is 2")]
LimitParam = Annotated[int, Query(ge=1, le=MAX_NODES, description="At most this many nodes, nearest first")]
TypeParam = Annotated[
    list[Literal["dataset", "job"]] | None, Query(alias="type", description="Keep only these node types")
]
NamespaceParam = Annotated[str | None, Query(max_length=4096, description="Keep only this namespace")]
DeclaredParam = Annotated[
    bool,
    Query(
        description="Also follow lineage producers declared (the spec's lineage facet); "
        "such edges have declared=true. false: observed lineage only."
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed node id or asOf", "model": ErrorResponse},
    401: {"description": "No or expired token"},
    403: {"description": "Invalid token"},
    404: {"description": "No such node (or one you may not see); suggestions", "model": ErrorResponse},
    503: {"description": "The lineage store is unavailable", "model": ErrorResponse},
}


@router.get("/lineage", responses=_ERRORS, summary="Lineage graph around a node (Marquez-compatible)")
def get_lineage(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeIdParam,
    depth: DepthParam = 20,
    direction: Direction = "both",
    as_of: Annotated[str | None, Query(alias="asOf", max_length=64)] = None,
    limit: LimitParam = 1000,
    types: TypeParam = None,
    namespace: NamespaceParam = None,
    declared: DeclaredParam = True,
) -> LineageResponse:
    graph = visible_lineage(
        store, scope, node_id, direction, depth, as_of, limit, set(types or ()), namespace, declared
    )
    return LineageResponse.from_graph(graph)


@router.get(
    "/dags/{dag_id}/lineage",
    responses=_ERRORS,
    summary="Lineage around every job of one Airflow DAG: the datasets it reads and writes, and beyond",
)
def get_dag_lineage(
    scope: ScopeDep,
    store: StoreDep,
    dag_id: Annotated[str, Path(min_length=1, max_length=250, description="An Airflow DAG id")],
    depth: DepthParam = 6,
    direction: Direction = "both",
    limit: LimitParam = 1000,
    declared: DeclaredParam = True,
) -> LineageResponse:
    """The DAG's task jobs and the datasets they read and write, plus ``depth`` hops around them; the
    root is the DAG's job id (``job:<namespace>:<dag_id>``). A DAG you may not read, or with no lineage
    recorded yet, answers 404."""
    return LineageResponse.from_graph(
        visible_dag_lineage(store, scope, dag_id, direction, depth, limit, declared)
    )


@router.get(
    "/column-lineage", responses=_ERRORS, summary="Column lineage of a dataset or field (Marquez-compatible)"
)
def get_column_lineage(
    scope: ScopeDep,
    catalog: CatalogDep,
    node_id: NodeIdParam,
    depth: DepthParam = 20,
    with_downstream: Annotated[bool, Query(alias="withDownstream")] = False,
    declared: DeclaredParam = True,
) -> ColumnLineageResponse:
    """Field edges observed in runs, and (``declared``) the field entries producers declared, marked
    ``declared`` on the edges and input fields; a declaration shows only to readers of its job."""
    graph = catalog.column_lineage(scope, node_id, depth, with_downstream, MAX_FIELDS, declared)
    return ColumnLineageResponse.model_validate({"graph": graph.nodes, "isPartial": graph.is_partial})


@router.get(
    "/impact",
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
    summary="Everything downstream of a node (what a change to it can break), as JSON or CSV",
    response_model=ImpactResponse,
)
def get_impact(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeIdParam,
    depth: DepthParam = 20,
    limit: LimitParam = MAX_NODES,
    types: TypeParam = None,
    namespace: NamespaceParam = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    declared: DeclaredParam = True,
) -> Any:
    graph = visible_lineage(
        store, scope, node_id, "downstream", depth, None, limit, set(types or ()), namespace, declared
    )
    impact = ImpactResponse.from_graph(graph)
    if output == "json":
        return impact
    headers = {
        "Content-Disposition": 'attachment; filename="impact.csv"',
        "X-Is-Partial": str(impact.is_partial).lower(),
    }
    return Response(impact.to_csv(), media_type="text/csv", headers=headers)


AsOfParam = Annotated[
    str | None,
    Query(
        alias="asOf",
        max_length=64,
        description="An ISO-8601 time or a run id: only lineage that existed then",
    ),
]


@router.get(
    "/impact/summary",
    responses=_ERRORS,
    summary="Everything downstream of a node, counted by type, namespace, DAG and owner (all of it)",
)
def get_impact_summary(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeIdParam,
    depth: DepthParam = 20,
    as_of: AsOfParam = None,
    declared: DeclaredParam = True,
) -> ImpactSummaryResponse:
    """Counts over the whole downstream set (no limit): what you may see of it, nothing else."""
    found = store.impact_summary(node_id, depth, as_of, scope, declared)
    return ImpactSummaryResponse.model_validate(found.to_dict())


@router.get(
    "/impact/nodes",
    responses=_ERRORS,
    summary="Everything downstream of a node, one page at a time (nearest first; total counts all pages)",
)
def get_impact_nodes(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeIdParam,
    depth: DepthParam = 20,
    as_of: AsOfParam = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Nodes to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_NODES, description="Nodes in this page")] = 100,
    declared: DeclaredParam = True,
) -> ImpactPageResponse:
    return ImpactPageResponse.from_page(
        store.impact_page(node_id, depth, as_of, offset, limit, scope, declared)
    )
