# PYTHON_ARGCOMPLETE_OK
"""``airflow-lineage``: query, load and export the lineage store from a shell.

Exit codes: 0 success; 1 the command failed (unknown node, bad event file, store unreachable, a
``doctor`` check failed, ...); 2 the command line is wrong (unknown option, malformed node id,
out-of-range --depth or --as-of); 130 interrupted (Ctrl-C).
Errors are one ``error: ...`` line on stderr, with the fix when one is known; ``--debug`` adds the
traceback. The store is ``--store-url`` or else ``[lineage_provider] store_url`` from Airflow's config.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_lineage_provider.cli import completion, doctor, eventfiles, formats, models, operations, views
from airflow_lineage_provider.core.graph import LineageGraph
from airflow_lineage_provider.exceptions import (
    ConfigError,
    InvalidEventError,
    InvalidNodeIdError,
    InvalidQueryError,
    LineageError,
    NodeNotFoundError,
    SchemaVersionError,
    StoreError,
)

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore

T = TypeVar("T")
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
NODE_IDS = "dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>"
NODE_HELP = f"node id: {NODE_IDS}"


def _cmd_lineage(store: LineageStore, args: argparse.Namespace) -> int:
    graph = store.lineage(
        args.node,
        direction=args.command,
        depth=args.depth,
        as_of=args.as_of,
        limit=args.limit,
        declared=args.declared,
    )
    view = formats.View(
        data=graph.to_dict(),
        graph=graph,
        tree=lambda: views.lineage_tree(graph, args.command),
        table=lambda: views.nodes_table(graph.nodes, with_depth=True),
        summary=views.lineage_summary(graph, args.command),
    )
    formats.write(view, args.format)
    return EXIT_OK


def _cmd_show(store: LineageStore, args: argparse.Namespace) -> int:
    details = store.describe(args.node)
    view = formats.View(
        data=details,
        graph=views.neighbourhood(details),
        tree=lambda: views.data_tree(str(details.get("id")), details),
        table=lambda: views.key_values(details),
    )
    formats.write(view, args.format)
    return EXIT_OK


def _cmd_search(store: LineageStore, args: argparse.Namespace) -> int:
    nodes = store.search(args.text, limit=args.limit)
    view = formats.View(
        data=[views.node_dict(node) for node in nodes],
        graph=LineageGraph("", "both", 0, nodes, []),
        tree=lambda: views.search_tree(nodes) if nodes else "",
        table=lambda: views.nodes_table(nodes) if nodes else "",
        summary=None if nodes else f"nothing matches {args.text!r}",
    )
    formats.write(view, args.format)
    return EXIT_OK


def _cmd_ingest(store: LineageStore, args: argparse.Namespace) -> int:
    source = "<stdin>" if args.file == "-" else args.file
    if args.file == "-":
        with formats.progress("reading", None, "bytes") as advance:
            numbered = eventfiles.read_events(sys.stdin.buffer, source, advance)
    else:
        with open(args.file, "rb") as stream:
            with formats.progress("reading", os.path.getsize(args.file), "bytes") as advance:
                numbered = eventfiles.read_events(stream, source, advance)
    try:
        with formats.progress("storing", len(numbered), "events") as advance:
            result = store.record_many([event for _, event in numbered], progress=advance)
    except InvalidEventError as exc:
        detail, where = str(exc), ""
        if exc.index is not None and 0 <= exc.index < len(numbered):
            where = f" line {numbered[exc.index][0]}"
            detail = detail.removeprefix(f"event #{exc.index}: ")
        located = InvalidEventError(f"{source}{where}: {detail}")
        located.field, located.index = exc.field, exc.index
        raise located from exc
    if args.json:
        formats.print_json({"file": source, "stored": result.stored, "duplicates": result.duplicates})
    else:
        print(f"{source}: {result.stored} events stored, {result.duplicates} duplicates skipped")
    return EXIT_OK


def _cmd_export(store: LineageStore, args: argparse.Namespace) -> int:
    to_stdout = args.output in (None, "-")
    # A bar on the terminal the events are printed to would mix with them.
    show_bar = not (to_stdout and formats.is_terminal(sys.stdout))
    with formats.progress("exporting", None, "events", enabled=show_bar) as advance:
        events = _counted(store.events(), advance)
        if to_stdout:
            eventfiles.write_events(events, sys.stdout)
            return EXIT_OK
        with eventfiles.atomic_text_file(args.output) as stream:
            count = eventfiles.write_events(events, stream)
    print(f"exported {count} events to {args.output}", file=sys.stderr)
    return EXIT_OK


def _counted(items: Iterable[T], advance: Callable[[float], None]) -> Iterator[T]:
    for item in items:
        yield item
        advance(1)


def _cmd_db_upgrade(store: LineageStore, args: argparse.Namespace) -> int:
    revision = store.upgrade()
    if args.json:
        formats.print_json({"revision": revision})
    else:
        print(f"lineage store is at revision {revision}")
    return EXIT_OK


def _open_store(url: str | None) -> LineageStore:
    from airflow_lineage_provider import LineageStore

    return LineageStore.from_url(url) if url else LineageStore.from_airflow_config()


def _deliver_pending(store: LineageStore, args: argparse.Namespace) -> None:
    """Readers answer with everything tasks wrote: events still in the configured outbox (nothing
    long-lived delivers after ``airflow dags test``) go into the configured store first."""
    if getattr(args, "store_url", None) is not None or not getattr(args, "reads", False):
        return
    from airflow_lineage_provider import conf

    if conf.emitter() != "direct":
        return
    from airflow_lineage_provider.emit.deliverer import deliver_pending

    result = deliver_pending(store.record_many)
    if result is not None and result.error:
        print(f"warning: {result.remaining} events still wait in the outbox: {result.error}", file=sys.stderr)


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
        return (
            "check --store-url, or [lineage_provider] store_url (AIRFLOW__LINEAGE_PROVIDER__STORE_URL); "
            "`airflow-lineage doctor` checks the whole installation"
        )
    if isinstance(exc, ConfigError):
        return "`airflow-lineage doctor` shows each [lineage_provider] value and where it comes from"
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
        epilog="exit codes: 0 ok; 1 error (unknown node, bad event file, store unreachable, a doctor "
        "check failed); 2 usage (bad option, malformed node id, out-of-range value); 130 interrupted. "
        "Without --store-url the store comes from [lineage_provider] store_url in the Airflow config "
        "(AIRFLOW__LINEAGE_PROVIDER__STORE_URL).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str,
        handler: Callable[..., int],
        text: str,
        *,
        json_flag: bool = True,
        view: str = "",
        reads: bool = False,
    ) -> Any:
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=handler, reads=reads or bool(view))
        if view:  # a read command: every output format, `view` by default
            formats.add_format_option(sub, view)
        elif json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON instead of text")
        return sub

    for direction, text in (
        ("upstream", "where a node's data comes from (provenance)"),
        ("downstream", "what is fed by a node (impact)"),
    ):
        sub = add(direction, _cmd_lineage, text, view="tree")
        completion.attach(sub.add_argument("node", metavar="NODE", help=NODE_HELP))
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
        sub.add_argument(
            "--no-declared",
            dest="declared",
            action="store_false",
            help="observed lineage only: leave out lineage producers declared (shown marked 'declared')",
        )
    show = add("show", _cmd_show, "details of a dataset, job or run", view="table")
    completion.attach(show.add_argument("node", metavar="NODE", help=NODE_HELP))
    sub = add(
        "search",
        _cmd_search,
        "find datasets and jobs whose name or namespace contains TEXT (any case)",
        view="table",
    )
    sub.add_argument("text", metavar="TEXT")
    sub.add_argument("--limit", metavar="N", type=int, default=20, help="at most this many nodes")
    sub = add(
        "ingest", _cmd_ingest, "store OpenLineage events from a JSONL file (one event a line; - is stdin)"
    )
    sub.add_argument("file", metavar="FILE")
    sub = add(
        "export",
        _cmd_export,
        "write every stored raw event as JSONL, in ingest order",
        json_flag=False,
        reads=True,
    )
    sub.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    operations.register(add)
    models.register(functools.partial(add, reads=True))  # every model command reads the store
    doctor.register(commands, common)
    completion.register(commands)
    db = commands.add_parser("db", parents=[common], help="manage the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="create or migrate the store's tables")
    upgrade.add_argument("--json", action="store_true", help="print JSON instead of text")
    upgrade.set_defaults(handler=_cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    completion.install(parser)  # answers a shell's tab completion request and exits; else no-op
    args = parser.parse_args(argv)  # exits 2 on a usage error
    debug = getattr(args, "debug", False)
    store: LineageStore | None = None
    try:
        standalone: Callable[[argparse.Namespace], int] | None = getattr(args, "standalone", None)
        if standalone is not None:
            code = standalone(args)
        else:
            handler: Callable[[LineageStore, argparse.Namespace], int] = args.handler
            store = _open_store(getattr(args, "store_url", None))
            _deliver_pending(store, args)
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
