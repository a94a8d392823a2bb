"""Lineage graphs as Graphviz DOT and Mermaid flowcharts, safe for any node name.

Node names come from whoever wrote the events (a table may be called ``<img src=x>`` or
``a "quoted" name``), so neither format ever puts a name where it is syntax: nodes get synthetic
ids (``n0``, ``n1``, ...) and names appear only inside labels, escaped for the format.
Edges point the way data flows (dataset -> job that reads it -> dataset it writes).
"""

from __future__ import annotations

from airflow_lineage_provider.core.graph import LineageGraph, Node

# Graphviz shapes and Mermaid node brackets by marker (see node_kind).
_DOT_SHAPES = {"dataset": "cylinder", "model": "component", "job": "box", "run": "ellipse"}
_MERMAID_SHAPES = {
    "dataset": ('[("', '")]'),
    "model": ('{{"', '"}}'),
    "job": ('["', '"]'),
    "run": ('(["', '"])'),
}
_MERMAID_STYLES = {
    "dataset": "fill:#e8f0fe,stroke:#1a73e8",
    "model": "fill:#f3e8fd,stroke:#8430ce",
    "job": "fill:#fef7e0,stroke:#e37400",
    "run": "fill:#e6f4ea,stroke:#188038",
}
_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-./:@=+,")


def node_kind(node: Node) -> str:
    """``dataset``, ``job``, ``run``, or ``model`` for a dataset whose type says it is an ML model."""
    subtype = str(node.data.get("type") or "").lower()
    if node.type == "dataset" and "model" in subtype:
        return "model"
    return node.type


def node_title(node: Node) -> tuple[str, str]:
    """The two lines that name a node in a diagram: its name, then its namespace."""
    if node.type == "run" or not node.name:
        return node.id, ""
    return node.name, node.namespace


def _ordered(graph: LineageGraph) -> list[Node]:
    """Nodes in a stable order: the root first, then by depth, type and name; edge ends included."""
    nodes = {node.id: node for node in graph.nodes}
    for edge in graph.edges:  # an edge to a node the answer did not describe still needs a box
        for end in (edge.source, edge.target):
            nodes.setdefault(end, Node(end, end.partition(":")[0], "", ""))
    return sorted(nodes.values(), key=lambda n: (n.id != graph.root, n.depth, n.type, n.name, n.id))


def _edges(graph: LineageGraph, ids: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(source, target, declared) once per pair: declared lineage is drawn dashed."""
    seen: dict[tuple[str, str], bool] = {}
    for edge in graph.edges:
        seen.setdefault((ids[edge.source], ids[edge.target]), edge.declared)
    return [(source, target, declared) for (source, target), declared in seen.items()]


def dot_string(text: str) -> str:
    """A DOT double-quoted string whose escString value (labels, tooltips) is exactly ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(graph: LineageGraph) -> str:
    """A ``digraph`` to paste into Graphviz (``dot -Tsvg``); the root node is drawn bold."""
    nodes = _ordered(graph)
    ids = {node.id: f"n{index}" for index, node in enumerate(nodes)}
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    for node in nodes:
        name, namespace = node_title(node)
        label = f"{name}\n{namespace}" if namespace else name
        attrs = [
            f"label={dot_string(label)}",
            f"tooltip={dot_string(node.id)}",
            f"shape={_DOT_SHAPES.get(node_kind(node), 'box')}",
        ]
        if node.id == graph.root:
            attrs.append("penwidth=2")
        lines.append(f"  {ids[node.id]} [{', '.join(attrs)}];")
    lines.extend(
        f"  {source} -> {target}{' [style=dashed]' if declared else ''};"
        for source, target, declared in _edges(graph, ids)
    )
    lines.append("}")
    return "\n".join(lines)


def mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label: anything but plain characters as ``#<code>;``."""
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def to_mermaid(graph: LineageGraph) -> str:
    """A ``flowchart LR`` for a Markdown page (inside a mermaid code fence) or the Mermaid CLI."""
    nodes = _ordered(graph)
    ids = {node.id: f"n{index}" for index, node in enumerate(nodes)}
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {}
    for node in nodes:
        kind = node_kind(node)
        opening, closing = _MERMAID_SHAPES.get(kind, _MERMAID_SHAPES["job"])
        name, namespace = node_title(node)
        label = mermaid_text(name) + (f"<br/>{mermaid_text(namespace)}" if namespace else "")
        lines.append(f"    {ids[node.id]}{opening}{label}{closing}")
        classes.setdefault(kind, []).append(ids[node.id])
    lines.extend(
        f"    {source} {'-.->' if declared else '-->'} {target}"
        for source, target, declared in _edges(graph, ids)
    )
    for kind in sorted(classes):
        lines.append(f"    classDef {kind} {_MERMAID_STYLES.get(kind, _MERMAID_STYLES['job'])}")
    lines.append("    classDef root stroke-width:3px")
    lines.extend(f"    class {','.join(members)} {kind}" for kind, members in sorted(classes.items()))
    if graph.root in ids:
        lines.append(f"    class {ids[graph.root]} root")
    return "\n".join(lines)
