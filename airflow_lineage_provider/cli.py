"""``airflow-lineage``: query, load and export the lineage store from a shell.

Exit codes: 0 success; 1 the command failed (unknown node, bad event file, store unreachable, ...);
2 the command line is wrong (unknown option, malformed node id, out-of-range --depth or --as-of).
Errors are one ``error: ...`` line on stderr, with the fix when one is known; ``--debug`` adds the
traceback. The store is ``--store-url`` or else ``[lineage_provider] store_url`` from Airflow's config.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_lineage_provider import jsonl, mlcommands, render
from airflow_lineage_provider.exceptions import (
    InvalidEventError,
    InvalidNodeIdError,
    InvalidQueryError,
    LineageError,
    NodeNotFoundError,
    SchemaVersionError,
    StoreError,
)

if TYPE_CHECKING:
    from airflow_lineage_provider.store.api import LineageStore

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
NODE_IDS = "dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>"
NODE_HELP = f"node id: {NODE_IDS}"


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _ascii_only() -> bool:
    try:
        render.UNICODE_BRANCHES[0].encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def _cmd_lineage(store: LineageStore, args: argparse.Namespace) -> int:
    graph = store.lineage(
        args.node, direction=args.command, depth=args.depth, as_of=args.as_of, limit=args.limit
    )
    if args.json:
        _print_json(graph.to_dict())
        return EXIT_OK
    print(render.lineage_tree(graph, args.command, ascii_only=_ascii_only()))
    print(render.lineage_summary(graph, args.command))
    return EXIT_OK


def _cmd_show(store: LineageStore, args: argparse.Namespace) -> int:
    details = store.describe(args.node)
    if args.json:
        _print_json(details)
    else:
        print(render.key_values(details))
    return EXIT_OK


def _cmd_search(store: LineageStore, args: argparse.Namespace) -> int:
    nodes = store.search(args.text, limit=args.limit)
    if args.json:
        _print_json([render.node_dict(node) for node in nodes])
    elif nodes:
        print(render.node_list(nodes))
    else:
        print(f"nothing matches {args.text!r}")
    return EXIT_OK


def _cmd_ingest(store: LineageStore, args: argparse.Namespace) -> int:
    source = "<stdin>" if args.file == "-" else args.file
    if args.file == "-":
        numbered = jsonl.read_events(sys.stdin, source)
    else:
        with open(args.file, encoding="utf-8") as stream:
            numbered = jsonl.read_events(stream, source)
    try:
        result = store.record_many([event for _, event in numbered])
    except InvalidEventError as exc:
        detail, where = str(exc), ""
        if exc.index is not None and 0 <= exc.index < len(numbered):
            where = f" line {numbered[exc.index][0]}"
            detail = detail.removeprefix(f"event #{exc.index}: ")
        located = InvalidEventError(f"{source}{where}: {detail}")
        located.field, located.index = exc.field, exc.index
        raise located from exc
    if args.json:
        _print_json({"file": source, "stored": result.stored, "duplicates": result.duplicates})
    else:
        print(f"{source}: {result.stored} events stored, {result.duplicates} duplicates skipped")
    return EXIT_OK


def _cmd_export(store: LineageStore, args: argparse.Namespace) -> int:
    if args.output in (None, "-"):
        jsonl.write_events(store.events(), sys.stdout)
        return EXIT_OK
    with jsonl.atomic_text_file(args.output) as stream:
        count = jsonl.write_events(store.events(), stream)
    print(f"exported {count} events to {args.output}", file=sys.stderr)
    return EXIT_OK


def _cmd_db_upgrade(store: LineageStore, args: argparse.Namespace) -> int:
    revision = store.upgrade()
    if args.json:
        _print_json({"revision": revision})
    else:
        print(f"lineage store is at revision {revision}")
    return EXIT_OK


def _open_store(url: str | None) -> LineageStore:
    from airflow_lineage_provider import LineageStore

    return LineageStore.from_url(url) if url else LineageStore.from_airflow_config()


def _hint(exc: BaseException) -> str:
    """The fix for an error, when one is known."""
    if isinstance(exc, NodeNotFoundError) and not exc.suggestions:
        return "find node ids with: airflow-lineage search TEXT"
    if isinstance(exc, InvalidNodeIdError):
        return f"ids look like {NODE_IDS}; find one with: airflow-lineage search NAME"
    if isinstance(exc, InvalidEventError):
        return "nothing from this file was stored"
    if isinstance(exc, SchemaVersionError):
        return "this store was written by a newer airflow-lineage-provider; upgrade the package"
    if isinstance(exc, StoreError):
        return "check --store-url, or [lineage_provider] store_url (AIRFLOW__LINEAGE_PROVIDER__STORE_URL)"
    return ""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: the option may come before or after the command without one erasing the other.
    common.add_argument(
        "--store-url", metavar="URL", default=argparse.SUPPRESS, help="SQLAlchemy URL of the lineage store"
    )
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    parser = argparse.ArgumentParser(
        prog="airflow-lineage",
        parents=[common],
        description="Query, load and export the lineage store of airflow-lineage-provider.",
        epilog="exit codes: 0 ok, 1 error, 2 usage. Without --store-url the store comes from "
        "[lineage_provider] store_url in the Airflow config (AIRFLOW__LINEAGE_PROVIDER__STORE_URL).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int], text: str, *, json_flag: bool = True) -> Any:
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=handler)
        if json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON instead of text")
        return sub

    for direction, text in (
        ("upstream", "where a node's data comes from (provenance)"),
        ("downstream", "what is fed by a node (impact)"),
    ):
        sub = add(direction, _cmd_lineage, text)
        sub.add_argument("node", metavar="NODE", help=NODE_HELP)
        sub.add_argument(
            "--depth",
            metavar="N",
            type=int,
            default=20,
            help="hops to follow; dataset -> job -> dataset is 2",
        )
        sub.add_argument(
            "--as-of", metavar="TIME", help="only lineage that existed at this ISO 8601 time or run id"
        )
        sub.add_argument("--limit", metavar="N", type=int, help="at most this many nodes")
    add("show", _cmd_show, "details of a dataset, job or run").add_argument(
        "node", metavar="NODE", help=NODE_HELP
    )
    sub = add("search", _cmd_search, "find datasets and jobs whose name contains TEXT")
    sub.add_argument("text", metavar="TEXT")
    sub.add_argument("--limit", metavar="N", type=int, default=20, help="at most this many nodes")
    sub = add(
        "ingest", _cmd_ingest, "store OpenLineage events from a JSONL file (one event a line; - is stdin)"
    )
    sub.add_argument("file", metavar="FILE")
    sub = add(
        "export", _cmd_export, "write every stored raw event as JSONL, in ingest order", json_flag=False
    )
    sub.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    mlcommands.register(add)
    db = commands.add_parser("db", parents=[common], help="manage the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="create or migrate the store's tables")
    upgrade.add_argument("--json", action="store_true", help="print JSON instead of text")
    upgrade.set_defaults(handler=_cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 on a usage error
    debug = getattr(args, "debug", False)
    handler: Callable[[LineageStore, argparse.Namespace], int] = args.handler
    store: LineageStore | None = None
    try:
        store = _open_store(getattr(args, "store_url", None))
        code = handler(store, args)
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
        return code
    except (InvalidNodeIdError, InvalidQueryError) as exc:
        return _fail(exc, EXIT_USAGE, debug)
    except LineageError as exc:
        return _fail(exc, EXIT_ERROR, debug)
    except BrokenPipeError:  # `airflow-lineage export | head`: stop quietly, like other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # a file named on the command line
        name = f"{exc.filename}: " if exc.filename else ""
        return _fail(RuntimeError(f"{name}{exc.strerror or exc}"), EXIT_ERROR, debug)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, with the way to see more
        unexpected = RuntimeError(f"unexpected {type(exc).__name__}: {exc}")
        return _fail(
            unexpected, EXIT_ERROR, debug, hint="" if debug else "run again with --debug for the traceback"
        )
    finally:
        if store is not None:
            store.close()


def _fail(exc: BaseException, code: int, debug: bool, hint: str | None = None) -> int:
    if debug:
        traceback.print_exc()
    hint = _hint(exc) if hint is None else hint
    message = " ".join(str(exc).split())  # one line, even for multi-line driver messages
    print(f"error: {message}" + (f"; {hint}" if hint else ""), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
