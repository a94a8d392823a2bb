"""``airflow-lineage impact NODE --summary``: everything downstream of a node, counted (the store's
:meth:`~airflow_lineage_provider.store.lineagestore.LineageStore.impact_summary`), as text or JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from airflow_lineage_provider.cli.formats import print_json
from airflow_lineage_provider.exceptions import InvalidQueryError

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore


def add_options(sub: argparse.ArgumentParser) -> None:
    """The summary's options, on the ``impact`` command."""
    sub.add_argument(
        "--summary",
        action="store_true",
        help="count everything downstream (any node) by type, namespace, DAG and owner",
    )
    sub.add_argument("--depth", metavar="N", type=int, help="with --summary: hops to follow (default 20)")
    sub.add_argument(
        "--as-of", metavar="TIME", help="with --summary: only lineage that existed at this ISO time or run id"
    )
    sub.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def check(args: argparse.Namespace) -> None:
    """Summary-only options without ``--summary`` are a usage error, named."""
    if not args.summary:
        given = [
            name for name, value in (("--depth", args.depth), ("--as-of", args.as_of)) if value is not None
        ]
        if given:
            raise InvalidQueryError(f"{' and '.join(given)} go with --summary (model impact takes --version)")
    elif args.version is not None:
        raise InvalidQueryError("--version is for model impact; --summary counts every version's lineage")


def summary(store: LineageStore, args: argparse.Namespace) -> int:
    depth = 20 if args.depth is None else args.depth
    found = store.impact_summary(args.node, depth=depth, as_of=args.as_of).to_dict()
    if args.json or args.format == "json":
        print_json(found)
    else:
        print(text(found))
    return 0


def text(found: dict[str, Any]) -> str:
    """The summary as aligned text: one section per grouping, most first."""
    when = f", as of {found['asOf']}" if found["asOf"] else ""
    lines = [f"impact of {found['root']} (depth {found['depth']}{when}): {found['total']} nodes downstream"]
    if not found["total"]:
        return lines[0] + "\n  nothing downstream: a change here breaks nothing recorded"
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("by type", [(_type(e), str(e["count"])) for e in found["byType"]]),
        ("by namespace", [(e["namespace"], str(e["count"])) for e in found["byNamespace"]]),
        (
            f"affected DAGs ({len(found['dags'])}; {found['jobsWithoutDag']} jobs of no DAG)",
            [(d["dagId"], f"{d['jobs']} jobs") for d in found["dags"]],
        ),
        (
            f"by owner ({found['unowned']} nodes with none)",
            [(e["owner"], str(e["count"])) for e in found["byOwner"]],
        ),
    ]
    for title, rows in sections:
        lines.append(f"{title}:")
        width = max((len(label) for label, _ in rows), default=0)
        lines.extend(f"  {label.ljust(width)}  {count}" for label, count in rows)
    return "\n".join(lines)


def _type(entry: dict[str, Any]) -> str:
    return f"{entry['kind']} {entry['type']}" if entry["type"] else entry["kind"]
