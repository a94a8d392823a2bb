"""The package's imports read from its source with ``ast``: every ``import`` statement counts, at
module level, inside a function (a lazy import) or under ``if TYPE_CHECKING``.

``tests/test_layers.py`` checks their direction and ``tests/test_cycles.py`` that they form no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "airflow_lineage_provider"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _base(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` names, a relative one resolved against ``package``."""
    base = node.module or ""
    if node.level:
        anchor = package.split(".")
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return base


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module an import statement anywhere in ``source`` names, relative imports resolved.

    ``from pkg import name`` yields ``pkg`` and ``pkg.name`` (``name`` may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(node, package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's own modules whose code it needs.

    ``import a.b`` and ``from a import b`` (``b`` a module) are edges to ``a.b``; ``from a import
    name`` (``name`` defined in ``a/__init__.py``) is an edge to ``a``. A package ``__init__`` that
    imports one of its own modules lazily (inside a function, such as a module ``__getattr__``, or
    under ``if TYPE_CHECKING``) is the package's facade, not a dependency, and is left out: Python
    imports a package before any of its modules, and the facade runs only when a name is asked for.
    Every other import counts, wherever it stands."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        is_package = path.name == "__init__.py"
        package = module if is_package else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        eager = {id(node) for node in _eager(tree.body)}
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                named = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = _base(node, package)
                named = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
            else:
                continue
            if is_package and id(node) not in eager:
                named = {name for name in named if not name.startswith(module + ".")}
            targets |= named
        graph[module] = {name for name in targets if name in known} - {module}
    return graph


def _eager(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The import statements that run when a module is imported (not in functions or classes, not
    under ``if TYPE_CHECKING``)."""
    for statement in body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            yield statement
        elif isinstance(statement, ast.If):
            if not (isinstance(statement.test, ast.Name) and statement.test.id == "TYPE_CHECKING"):
                yield from _eager(statement.body)
            yield from _eager(statement.orelse)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _eager(block)
            for handler in statement.handlers:
                yield from _eager(handler.body)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``a -> b -> ... -> a``) for each group of modules that import each other."""
    found = []
    for group in _strongly_connected(graph):
        if len(group) > 1:
            found.append(_cycle_through(sorted(group)[0], group, graph))
    return sorted(found)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the package is small, but recursion depth is no concern then)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def _cycle_through(start: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """The shortest import path from ``start`` back to itself inside ``group`` (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"{start} is in no cycle of {sorted(group)}")  # unreachable for a real group
