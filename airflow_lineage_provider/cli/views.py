"""Human-readable answers for the ``airflow-lineage`` CLI: rich trees and tables, key: value listings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from airflow_lineage_provider.cli import diagram
from airflow_lineage_provider.core.graph import Edge, LineageGraph, Node
from airflow_lineage_provider.exceptions import LineageError

INLINE_WIDTH = 80  # a list of plain values longer than this is printed one value a line
_STYLES = {"dataset": "bold blue", "model": "bold magenta", "job": "bold yellow", "run": "bold green"}
_STATE_STYLES = {"COMPLETED": "green", "COMPLETE": "green", "FAILED": "red", "FAIL": "red", "ABORTED": "red"}


def node_label(node: Node) -> str:
    """``[dataset] orders  (sqlite:///data/shop.db)``: type, name, then namespace."""
    kind = diagram.node_kind(node)
    if node.type == "run":
        return f"[run] {node.namespace or node.id.partition(':')[2]}"
    if not node.name:
        return f"[{kind}] {node.id}"
    return f"[{kind}] {node.name}  ({node.namespace})"


def node_facts(node: Node) -> str:
    """What changes from run to run: a dataset's current version (and its failing checks), a job's
    last run state."""
    version = node.data.get("version")
    failing = (node.data.get("assertions") or {}).get("failing")
    if failing:
        checked = node.data["assertions"]
        return f"version {str(version)[:8]}  FAILING {failing}/{checked.get('total')} assertions"
    if version:
        return f"version {str(version)[:8]}"
    run = node.data.get("latestRun") or {}
    if run.get("state"):
        return f"last run {run['state']}"
    if node.type == "run" and node.data.get("state"):
        return f"state {node.data['state']}"
    return ""


def node_text(node: Node, *, with_namespace: bool = True) -> Any:
    """The label as rich Text (never markup: a name like ``[bold]`` or ``<img>`` prints as written)."""
    from rich.text import Text

    kind = diagram.node_kind(node)
    label = node_label(node)
    text = Text()
    marker, _, rest = label.partition("] ")
    text.append(marker + "]", style=_STYLES.get(kind, "bold"))
    name, sep, namespace = rest.partition("  (")
    text.append(" " + name, style="bold")
    if sep and with_namespace:
        text.append("  (" + namespace, style="dim")
    facts = node_facts(node)
    if facts:
        state = str((node.data.get("latestRun") or {}).get("state") or node.data.get("state") or "")
        if (node.data.get("assertions") or {}).get("failing"):
            state = "FAILED"
        text.append("  " + facts, style=_STATE_STYLES.get(state, "cyan"))
    return text


def lineage_tree(graph: LineageGraph, direction: str) -> Any:
    """The graph as a rich Tree from its root, following edges against (upstream) or with the data.

    A node reached a second time is shown again with ``(see above)`` and not expanded, so shared
    ancestors and diamonds stay readable and the output grows linearly with the graph.
    """
    from rich.tree import Tree

    by_id = {node.id: node for node in graph.nodes}
    children: dict[str, list[str]] = {}
    declared: set[tuple[str, str]] = set()
    for edge in graph.edges:
        parent, child = (edge.target, edge.source) if direction == "upstream" else (edge.source, edge.target)
        siblings = children.setdefault(parent, [])
        if child not in siblings:
            siblings.append(child)
        if edge.declared:
            declared.add((parent, child))

    def label(node_id: str) -> Any:
        from rich.text import Text

        node = by_id.get(node_id)
        return node_text(node) if node else Text(node_id)

    def sort_key(node_id: str) -> tuple[str, str, str]:
        node = by_id.get(node_id)
        return (node.type, node.name, node.namespace) if node else ("", node_id, "")

    root = Tree(label(graph.root))
    shown = {graph.root}
    stack: list[tuple[str, Any]] = [(graph.root, root)]  # pre-order walk, explicit stack
    while stack:
        node_id, branch = stack.pop()
        pending = []
        for child in sorted(children.get(node_id, []), key=sort_key):
            text = label(child)
            if (node_id, child) in declared:
                text.append(" (declared)", style="italic magenta")
            if child in shown:
                text.append(" (see above)", style="dim")
                branch.add(text)
                continue
            shown.add(child)
            pending.append((child, branch.add(text)))
        stack.extend(reversed(pending))
    return root


def nodes_table(nodes: Iterable[Node], *, with_depth: bool = False) -> Any:
    """One node a row: type, name, namespace, version or last run state, and the id to paste."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = (["depth"] if with_depth else []) + ["type", "name", "namespace", "version / last run", "id"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for node in nodes:
        cells = [str(node.depth)] if with_depth else []
        kind = diagram.node_kind(node)
        cells += [kind, node.name, node.namespace, node_facts(node), node.id]
        table.add_row(*(Text(cell) for cell in cells))  # Text: a name is never read as markup
    return table


def search_tree(nodes: Iterable[Node]) -> Any:
    """Search hits grouped by namespace, each with its id to paste into the next command."""
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text("matches", style="bold"))
    groups: dict[str, Any] = {}
    for node in nodes:
        namespace = node.namespace or node.type
        if namespace not in groups:
            groups[namespace] = root.add(Text(namespace, style="dim"))
        text = node_text(node, with_namespace=False)
        text.append(f"  {node.id}", style="dim")
        groups[namespace].add(text)
    return root


_CHECK_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "info": "cyan"}


def checks_table(results: Iterable[Any]) -> Any:
    """``airflow-lineage doctor``: one check a row, with what to do about it."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("status", "check", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for result in results:
        status = Text(result.status.upper(), style=_CHECK_STYLES.get(result.status, ""))
        table.add_row(status, Text(result.name), Text(result.detail), Text(result.fix))
    return table


def data_tree(title: str, data: Mapping[str, Any]) -> Any:
    """Nested data (a node's details) as a rich Tree: mappings and lists become branches."""
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(title, style="bold"))

    def grow(branch: Any, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if item is None or item == {} or item == []:
                    continue
                if isinstance(item, Mapping | list | tuple):
                    grow(branch.add(Text(str(key), style="bold")), item)
                else:
                    branch.add(Text(f"{key}: {scalar(item)}"))
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping | list | tuple):
                    grow(branch.add(Text("-")), item)
                else:
                    branch.add(Text(scalar(item)))

    grow(root, data)
    return root


def neighbourhood(details: Mapping[str, Any]) -> LineageGraph:
    """A node's description as a graph: the node, what it reads or comes from, what it feeds."""
    root = str(details["id"])
    kind = str(details.get("type"))
    if kind == "dataset":
        before, after = details.get("producers") or [], details.get("consumers") or []
    elif kind == "run":
        before = [item["id"] for item in details.get("inputs") or []]
        after = [item["id"] for item in details.get("outputs") or []]
    else:
        before, after = details.get("inputs") or [], details.get("outputs") or []
    nodes = {root: _node_from_id(root, details)}
    edges = [Edge(str(other), root, "input" if kind != "dataset" else "output") for other in before]
    edges += [Edge(root, str(other), "output" if kind != "dataset" else "input") for other in after]
    for edge in edges:
        for end in (edge.source, edge.target):
            nodes.setdefault(end, _node_from_id(end, {}))
    return LineageGraph(root, "both", 1, list(nodes.values()), edges)


def _node_from_id(node_id: str, details: Mapping[str, Any]) -> Node:
    from airflow_lineage_provider.core.ids import parse

    try:
        parsed = parse(node_id)
    except LineageError:
        return Node(node_id, node_id.partition(":")[0], "", "")
    data = {"type": details.get("subtype")} if details.get("subtype") else {}
    if parsed.kind == "run":
        return Node(node_id, "run", "", "", data=data)
    return Node(node_id, parsed.kind, parsed.namespace, parsed.name, data=data)


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
