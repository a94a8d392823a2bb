"""Human-readable text for the ``airflow-lineage`` CLI: lineage trees and key: value listings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from airflow_lineage_provider.core.graph import LineageGraph, Node

UNICODE_BRANCHES = ("├── ", "└── ", "│   ", "    ")
ASCII_BRANCHES = ("|-- ", "`-- ", "|   ", "    ")
INLINE_WIDTH = 80  # a list of plain values longer than this is printed one value a line


def node_label(node: Node) -> str:
    """``[dataset] orders  (sqlite:///data/shop.db)``: type, name, then namespace."""
    if node.type == "run":
        return f"[run] {node.namespace or node.id.partition(':')[2]}"
    if not node.name:
        return f"[{node.type}] {node.id}"
    return f"[{node.type}] {node.name}  ({node.namespace})"


def lineage_tree(graph: LineageGraph, direction: str, *, ascii_only: bool = False) -> str:
    """Draw the graph as a tree from its root, following edges against (upstream) or with the data.

    A node reached a second time is printed again with ``(see above)`` and not expanded, so shared
    ancestors and diamonds stay readable and the output grows linearly with the graph.
    """
    fork, last, pipe, blank = ASCII_BRANCHES if ascii_only else UNICODE_BRANCHES
    by_id = {node.id: node for node in graph.nodes}
    children: dict[str, list[str]] = {}
    for edge in graph.edges:
        parent, child = (edge.target, edge.source) if direction == "upstream" else (edge.source, edge.target)
        siblings = children.setdefault(parent, [])
        if child not in siblings:
            siblings.append(child)

    def label(node_id: str) -> str:
        node = by_id.get(node_id)
        return node_label(node) if node else node_id

    def sort_key(node_id: str) -> tuple[str, str, str]:
        node = by_id.get(node_id)
        return (node.type, node.name, node.namespace) if node else ("", node_id, "")

    lines: list[str] = []
    shown: set[str] = set()
    # Pre-order walk with an explicit stack: (node id, prefix of its line, its branch or None at the root).
    stack: list[tuple[str, str, str | None]] = [(graph.root, "", None)]
    while stack:
        node_id, prefix, branch = stack.pop()
        if branch is None:
            lines.append(label(node_id))
            child_prefix = ""
        elif node_id in shown:
            lines.append(f"{prefix}{branch}{label(node_id)} (see above)")
            continue
        else:
            lines.append(f"{prefix}{branch}{label(node_id)}")
            child_prefix = prefix + (blank if branch == last else pipe)
        shown.add(node_id)
        kids = sorted(children.get(node_id, []), key=sort_key)
        for index in range(len(kids) - 1, -1, -1):
            stack.append((kids[index], child_prefix, last if index == len(kids) - 1 else fork))
    return "\n".join(lines)


def lineage_summary(graph: LineageGraph, direction: str) -> str:
    """One closing line: how much was found, and whether the depth limit cut it short."""
    others = len(graph.nodes) - (1 if graph.node(graph.root) else 0)
    if others <= 0:
        return f"no {direction} lineage recorded for {graph.root}"
    text = f"{others} {direction} node{'s' if others != 1 else ''} within depth {graph.depth}"
    if graph.as_of:
        text += f", as of {graph.as_of}"
    if graph.is_partial:
        text += f" (partial: there is more beyond depth {graph.depth}; raise --depth)"
    return text


def node_dict(node: Node) -> dict[str, Any]:
    return asdict(node)


def node_list(nodes: Iterable[Node]) -> str:
    """One node a line: its label, then the id to paste into the next command."""
    return "\n".join(f"{node_label(node)}\n    {node.id}" for node in nodes)


def key_values(data: Mapping[str, Any], *, indent: int = 0) -> str:
    """Nested ``key: value`` lines; facet dicts are listed by name (``--json`` shows them whole)."""
    return "\n".join(_key_value_lines(data, indent))


def _key_value_lines(data: Mapping[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, value in data.items():
        if value is None or value == {} or value == []:
            continue
        if key == "facets" and isinstance(value, Mapping):
            lines.append(f"{pad}{key}: {', '.join(sorted(value))}")
        elif key == "columnLineage" and isinstance(value, list):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  {line}" for line in column_lineage_lines(value))
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines.extend(_key_value_lines(value, indent + 1))
        elif isinstance(value, list | tuple):
            lines.extend(_list_lines(str(key), value, indent))
        else:
            lines.append(f"{pad}{key}: {scalar(value)}")
    return lines


def _list_lines(key: str, values: list[Any] | tuple[Any, ...], indent: int) -> list[str]:
    pad = "  " * indent
    if all(not isinstance(v, Mapping | list | tuple) for v in values):
        inline = ", ".join(scalar(v) for v in values)
        if len(values) == 1 or len(inline) <= INLINE_WIDTH:
            return [f"{pad}{key}: {inline}"]
        return [f"{pad}{key}:", *(f"{pad}  - {scalar(v)}" for v in values)]
    lines = [f"{pad}{key}:"]
    for value in values:
        if isinstance(value, Mapping):
            item = _key_value_lines(value, indent + 2)
            if item:
                lines.append(f"{pad}  - {item[0].lstrip()}")
                lines.extend(item[1:])
        else:
            lines.append(f"{pad}  - {scalar(value)}")
    return lines


def column_lineage_lines(fields: list[Any]) -> list[str]:
    """``total <- orders.amount, orders.tax`` for each output field."""
    lines = []
    for item in fields:
        if not isinstance(item, Mapping):
            continue
        sources = [
            f"{src.get('name')}.{src.get('field')}"
            for src in item.get("inputFields") or []
            if isinstance(src, Mapping)
        ]
        lines.append(f"{item.get('field')} <- {', '.join(sources) or '(no input fields)'}")
    return lines


def scalar(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(value, default=str)
    return str(value)
