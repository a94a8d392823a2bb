"""Lineage graphs as Marquez returns them, our extensions, ingest results and errors.

``GET /api/v1/lineage`` answers ``{"graph": [{"id", "type", "data", "inEdges", "outEdges"}]}`` like
Marquez, plus ``root``, ``direction``, ``depth``, ``asOf`` and ``isPartial`` (more nodes exist than
``limit`` allowed). Edges point the way data flows: dataset -> job (read), job -> dataset (write).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any, Literal

from pydantic import Field

from airflow_lineage_provider.api.datamodels.catalog import JsonList, JsonObject, Model
from airflow_lineage_provider.core.graph import LineageGraph, Node
from airflow_lineage_provider.store.impact import ImpactPage


class LineageEdge(Model):
    origin: str
    destination: str
    type: Literal["input", "output", "declared"] | None = Field(
        None, description="input (dataset -> job), output (job -> dataset), declared (same kinds)."
    )
    first_seen: str | None = None
    last_seen: str | None = None
    declared: bool = Field(
        False, description="Declared by a producer (the spec's lineage facet), not seen in a run."
    )


class LineageNode(Model):
    id: str
    type: Literal["DATASET", "JOB", "RUN"]
    data: JsonObject = Field(description="Marquez-style Dataset or Job summary, plus ``depth``.")
    in_edges: list[LineageEdge]
    out_edges: list[LineageEdge]


class LineageResponse(Model):
    graph: list[LineageNode]
    root: str
    direction: Literal["upstream", "downstream", "both"]
    depth: int
    as_of: str | None
    is_partial: bool

    @classmethod
    def from_graph(cls, graph: LineageGraph) -> LineageResponse:
        ins: dict[str, list[LineageEdge]] = defaultdict(list)
        outs: dict[str, list[LineageEdge]] = defaultdict(list)
        for e in graph.edges:
            edge = LineageEdge(
                origin=e.source,
                destination=e.target,
                type=e.type,  # type: ignore[arg-type]
                first_seen=e.first_seen,
                last_seen=e.last_seen,
                declared=e.declared,
            )
            outs[e.source].append(edge)
            ins[e.target].append(edge)
        nodes = [
            LineageNode(
                id=n.id,
                type=n.type.upper(),  # type: ignore[arg-type]
                data=_data(n),
                in_edges=ins[n.id],
                out_edges=outs[n.id],
            )
            for n in graph.nodes
        ]
        return cls(
            graph=nodes,
            root=graph.root,
            direction=graph.direction,
            depth=graph.depth,
            as_of=graph.as_of,
            is_partial=graph.is_partial,
        )


def _data(node: Node) -> dict[str, Any]:
    if node.type == "run":
        return {"id": node.name, "depth": node.depth, **node.data}
    data: dict[str, Any] = {
        "id": {"namespace": node.namespace, "name": node.name},
        "namespace": node.namespace,
        "name": node.name,
        "depth": node.depth,
    }
    if node.type == "dataset":
        data.update(
            type=node.data.get("type") or "DB_TABLE",
            currentVersion=node.data.get("version"),
            fields=[{"name": f} for f in node.data.get("fields") or []],
            restricted=bool(node.data.get("restricted")),
            assertions=node.data.get("assertions"),
        )
    else:
        data.update(type="BATCH", jobType=node.data.get("type"), latestRun=node.data.get("latestRun"))
    return data


class InputField(Model):
    namespace: str
    dataset: str
    dataset_version: str | None
    field: str
    transformation_description: str | None
    transformation_type: str | None
    transformations: JsonList
    declared: bool = Field(False, description="Declared by a producer (the spec's lineage facet).")


class ColumnFieldData(Model):
    namespace: str
    dataset: str
    dataset_version: str | None
    field: str
    field_type: str | None
    transformation_description: str | None
    transformation_type: str | None
    input_fields: list[InputField]


class FieldEdge(Model):
    origin: str
    destination: str
    declared: bool = Field(False, description="Declared by a producer (the spec's lineage facet).")


class ColumnLineageNode(Model):
    id: str
    type: Literal["DATASET_FIELD"]
    data: ColumnFieldData
    in_edges: list[FieldEdge]
    out_edges: list[FieldEdge]


class ColumnLineageResponse(Model):
    graph: list[ColumnLineageNode]
    is_partial: bool


class ImpactNode(Model):
    id: str
    type: Literal["dataset", "job"]
    namespace: str
    name: str
    depth: int
    failing_assertions: int | None = Field(
        None,
        description="Failing data quality assertions on the dataset's current version (None: none checked).",
    )


def _impact_node(node: Node) -> ImpactNode:
    return ImpactNode(
        id=node.id,
        type=node.type,  # type: ignore[arg-type]
        namespace=node.namespace,
        name=node.name,
        depth=node.depth,
        failing_assertions=(node.data.get("assertions") or {}).get("failing"),
    )


class ImpactResponse(Model):
    """Everything downstream of ``root``: what a change to it can break."""

    root: str
    depth: int
    is_partial: bool
    nodes: list[ImpactNode]

    @classmethod
    def from_graph(cls, graph: LineageGraph) -> ImpactResponse:
        nodes = [_impact_node(n) for n in graph.nodes if n.id != graph.root]
        return cls(root=graph.root, depth=graph.depth, is_partial=graph.is_partial, nodes=nodes)

    def to_csv(self) -> str:
        """One row per node: id, type, namespace, name, depth.

        Cells that a spreadsheet would run as a formula (starting with = + - @ or a tab) get a leading
        apostrophe, so a dataset named ``=HYPERLINK(...)`` stays text when the file is opened.
        """
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["id", "type", "namespace", "name", "depth"])
        writer.writerows(
            [_cell(n.id), n.type, _cell(n.namespace), _cell(n.name), n.depth] for n in self.nodes
        )
        return text.getvalue()


class TypeCount(Model):
    kind: Literal["dataset", "job"]
    type: str | None = Field(
        description="A dataset's datasetType (TABLE, MODEL, ...) or a job's jobType (DAG, TASK, ...)."
    )
    count: int


class NamespaceCount(Model):
    namespace: str
    count: int


class OwnerCount(Model):
    owner: str = Field(description="A name in the ownership facet (a job without one: its DAG's).")
    count: int


class AffectedDag(Model):
    dag_id: str
    namespace: str
    jobs: int = Field(description="The DAG's jobs (its own and its tasks') downstream of the root.")


class ImpactSummaryResponse(Model):
    """Everything downstream of ``root`` (all of it, up to ``depth`` hops), counted; most first."""

    root: str
    depth: int
    as_of: str | None
    total: int = Field(description="Nodes downstream of the root (the root itself not counted).")
    by_type: list[TypeCount]
    by_namespace: list[NamespaceCount]
    by_owner: list[OwnerCount]
    unowned: int = Field(description="Downstream nodes with no owner recorded.")
    dags: list[AffectedDag] = Field(description="The Airflow DAGs with jobs downstream of the root.")
    jobs_without_dag: int = Field(description="Downstream jobs of no Airflow DAG (Spark, dbt, ...).")


class ImpactPageResponse(Model):
    """One page of everything downstream of ``root``: nearest first, then in the order the store
    recorded them; ``total`` counts every page."""

    root: str
    depth: int
    as_of: str | None
    total: int
    offset: int
    nodes: list[ImpactNode]

    @classmethod
    def from_page(cls, page: ImpactPage) -> ImpactPageResponse:
        return cls(
            root=page.root,
            depth=page.depth,
            as_of=page.as_of,
            total=page.total,
            offset=page.offset,
            nodes=[_impact_node(n) for n in page.nodes],
        )


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class NormalisationResponse(Model):
    index: int = Field(description="Position of the event in the request (0 for a single event).")
    field: str = Field(description="JSON path of the field read leniently.")
    note: str = Field(description="What was read or filled in (the raw event is stored as sent).")


class IngestResponse(Model):
    stored: int = Field(description="Events stored by this request.")
    duplicates: int = Field(description="Events already stored before (ingest is idempotent).")
    normalised: list[NormalisationResponse] | None = Field(
        None,
        description="Present when a new event was read leniently, as Marquez reads it: no schemaURL "
        "(filled in from the event's shape), a time without a time zone (read as UTC), ...",
    )


class ErrorResponse(Model):
    detail: str
    error: str = Field(description="Name of the error class (InvalidEventError, NodeNotFoundError, ...).")
    field: str | None = Field(None, description="JSON path of the wrong field of an invalid event.")
    index: int | None = Field(None, description="Position of the invalid event in a batch.")
    suggestions: list[str] = Field([], description="Node ids that look like the one not found.")
