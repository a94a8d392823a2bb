"""How CLI read commands print: one ``--format`` option and one :class:`View` per answer.

A read command builds a :class:`View` of its answer and calls :func:`write` with the chosen format:

* ``table``: rows and columns (or, for one node, its fields one a line);
* ``tree``: an indented tree (rich), datasets, jobs and models marked, with versions and run states;
* ``json``: the answer as JSON (``--json`` is the same as ``--format json``);
* ``dot`` / ``mermaid``: the answer as a graph, for Graphviz or a Markdown page.

On a terminal, tables and trees are drawn by rich, in colour; anywhere else (a pipe, a file, CI)
the same text comes without escape codes, never wrapped, with no trailing blanks. Commands of other
modules use the same pieces: ``add_format_option(parser, default)`` then ``write(view, args.format)``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from airflow_lineage_provider.cli import diagram
from airflow_lineage_provider.core.graph import LineageGraph

FORMATS = ("table", "tree", "json", "dot", "mermaid")
_PLAIN_WIDTH = 100_000  # off a terminal nothing is wrapped: a long id stays on one line for grep


@dataclass
class View:
    """One answer, ready for every format; ``tree`` and ``table`` build rich renderables on demand."""

    data: Any
    graph: LineageGraph
    tree: Callable[[], Any]
    table: Callable[[], Any]
    summary: str | None = None  # a closing line after the table or tree (not in json, dot, mermaid)


def add_format_option(
    parser: argparse.ArgumentParser, default: str, choices: Sequence[str] = FORMATS
) -> None:
    """``--format`` with ``choices``, and ``--json`` as its alias."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--format",
        choices=list(choices),
        default=default,
        help=f"output format (default: {default})",
    )
    group.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stream: IO[str] | None = None) -> Any:
    """A rich Console for ``stream``: colours on a terminal, plain and unwrapped anywhere else."""
    from rich.console import Console

    stream = stream or sys.stdout
    if is_terminal(stream):
        return Console(file=stream, highlight=False, soft_wrap=False)
    return Console(
        file=stream, width=_PLAIN_WIDTH, color_system=None, highlight=False, emoji=False, legacy_windows=False
    )


def plain(renderable: Any, *, encoding: str | None = None) -> str:
    """The text of a rich renderable as it is printed off a terminal (ASCII guides when needed)."""
    from rich.console import Console

    buffer = io.TextIOWrapper(io.BytesIO(), encoding=encoding or _encoding(sys.stdout), errors="replace")
    Console(file=buffer, width=_PLAIN_WIDTH, color_system=None, highlight=False, emoji=False).print(
        renderable
    )
    buffer.flush()
    buffer.seek(0)
    return "\n".join(line.rstrip() for line in buffer.read().splitlines())


def _encoding(stream: IO[str]) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def print_json(data: Any, stream: IO[str] | None = None) -> None:
    """``data`` as indented JSON (what every command prints for ``--json``)."""
    stream = stream or sys.stdout
    json.dump(data, stream, indent=2, default=str)
    stream.write("\n")


def write(view: View, fmt: str, stream: IO[str] | None = None) -> None:
    """Print ``view`` in format ``fmt`` (one of :data:`FORMATS`)."""
    stream = stream or sys.stdout
    if fmt == "json":
        print_json(view.data, stream)
    elif fmt == "dot":
        stream.write(diagram.to_dot(view.graph) + "\n")
    elif fmt == "mermaid":
        stream.write(diagram.to_mermaid(view.graph) + "\n")
    elif fmt in ("tree", "table"):
        renderable = view.tree() if fmt == "tree" else view.table()
        if isinstance(renderable, str):
            stream.write(renderable + "\n" if renderable else "")
        elif is_terminal(stream):
            console(stream).print(renderable)
        else:
            stream.write(plain(renderable, encoding=_encoding(stream)) + "\n")
        if view.summary:
            stream.write(view.summary + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


@contextlib.contextmanager
def progress(
    description: str, total: float | None, unit: str, *, enabled: bool = True
) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr with count and rate, while the block runs; silent off a terminal.

    Yields ``advance(n)``. ``total`` None draws a pulsing bar (the amount of work is not known).
    """
    if not enabled or not is_terminal(sys.stderr):
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed:.0f}"),
        TextColumn(unit),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(amount: float) -> None:
            bar.advance(task, amount)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f} {unit}/s" if speed else "")

        yield advance
