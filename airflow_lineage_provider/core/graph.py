"""Plain result types of graph queries (no SQLAlchemy, no Airflow)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Direction = Literal["upstream", "downstream", "both"]
DIRECTIONS: tuple[Direction, ...] = ("upstream", "downstream", "both")


@dataclass(frozen=True)
class Node:
    """One node of a lineage answer: ``type`` is dataset, job or run; ``data`` holds key facts."""

    id: str
    type: str
    namespace: str
    name: str
    depth: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    """A directed edge in the direction data flows: dataset -> job (read), job -> dataset (write);
    ``declared``: a producer declared it (the spec's lineage facet), no run was seen doing it."""

    source: str
    target: str
    # "input" (dataset read by job), "output" (dataset written by job), or "declared" (a declared
    # dataset -> dataset or job -> job edge)
    type: str
    first_seen: str | None = None
    last_seen: str | None = None
    declared: bool = False


@dataclass(frozen=True)
class LineageGraph:
    """The answer of ``LineageStore.lineage``."""

    root: str
    direction: Direction
    depth: int
    nodes: list[Node]
    edges: list[Edge]
    is_partial: bool = False
    as_of: str | None = None

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def node_ids(self, type_: str | None = None) -> set[str]:
        return {n.id for n in self.nodes if type_ is None or n.type == type_}

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "asOf": self.as_of,
            "isPartial": self.is_partial,
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
        }


def merge_graphs(
    root: str, direction: Direction, depth: int, graphs: list[LineageGraph], limit: int | None = None
) -> LineageGraph:
    """One graph from several (lineage around several roots): each node at its smallest depth, each
    edge once; with ``limit``, the nearest nodes only and ``is_partial`` set."""
    nodes: dict[str, Node] = {}
    for graph in graphs:
        for node in graph.nodes:
            if node.id not in nodes or node.depth < nodes[node.id].depth:
                nodes[node.id] = node
    kept = sorted(nodes.values(), key=lambda n: (n.depth, n.id))
    is_partial = any(g.is_partial for g in graphs)
    if limit is not None and len(kept) > limit:
        kept, is_partial = kept[:limit], True
    ids = {n.id for n in kept}
    edges: dict[tuple[str, str], Edge] = {}
    for graph in graphs:
        for edge in graph.edges:
            if edge.source in ids and edge.target in ids:
                edges.setdefault((edge.source, edge.target), edge)
    return LineageGraph(root, direction, depth, kept, list(edges.values()), is_partial)
