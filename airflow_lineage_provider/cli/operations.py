"""Operations commands of ``airflow-lineage``: ``status``, ``replay`` (the outbox), ``prune`` and ``erase``.

Registered by :func:`airflow_lineage_provider.cli.main.build_parser` through :func:`register`.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_lineage_provider import conf
from airflow_lineage_provider.cli.formats import print_json
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.exceptions import ConfigError, InvalidQueryError, StoreError

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhwm]?)\s*$")
_UNITS = {"": "days", "d": "days", "h": "hours", "w": "weeks", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w``, ``30m`` or a plain number of days."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidQueryError(f"--older-than {text!r} is not a duration like 90d, 12h, 2w or 30m")
    value = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    if value <= timedelta(0):
        raise InvalidQueryError(f"--older-than must be more than zero, not {text!r}")
    return value


def _outbox(args: argparse.Namespace) -> Outbox:
    return Outbox(args.outbox or conf.outbox_dir())


def _cmd_status(store: LineageStore, args: argparse.Namespace) -> int:
    outbox = _outbox(args)
    found = outbox.inspect()
    depth, oldest = found.pending, found.oldest
    corrupt = len(list(outbox.corrupt_dir.iterdir())) if outbox.corrupt_dir.is_dir() else 0
    data = {
        "outbox": str(outbox.path),
        "pending": depth,
        "oldestPending": oldest.isoformat() if oldest else None,
        "deadLetters": outbox.dead_letter_count(),
        "damaged": found.damaged,
        "corrupt": corrupt,
    }
    if args.json:
        print_json(data)
        return 0
    print(f"outbox:        {outbox.path}")
    print(f"pending:       {depth}" + (f" (oldest queued {oldest:%Y-%m-%d %H:%M:%S} UTC)" if oldest else ""))
    print(
        f"dead letters:  {data['deadLetters']}"
        + (f" in {outbox.dead_letter_file}" if data["deadLetters"] else "")
    )
    if found.damaged:
        print(f"damaged:       {found.damaged} in {outbox.pending_dir} (set aside at the next delivery)")
    print(f"corrupt files: {corrupt}" + (f" in {outbox.corrupt_dir}" if corrupt else ""))
    return 0


def _deliver(store: LineageStore, args: argparse.Namespace) -> Callable[[list[dict[str, Any]]], object]:
    """Into the store (``--store-url`` or emitter = direct), or to the API server (emitter = http)."""
    if getattr(args, "store_url", None) is None and conf.emitter() == "http":
        from airflow_lineage_provider.emit.http import HttpEmitter

        return HttpEmitter(timeout=30).deliver
    return store.record_many


def _cmd_replay(store: LineageStore, args: argparse.Namespace) -> int:
    outbox = _outbox(args)
    result = outbox.drain(_deliver(store, args), wait=True)
    data = {
        "delivered": result.delivered,
        "deadLettered": result.dead,
        "corruptSkipped": result.corrupt,
        "remaining": result.remaining,
        "error": result.error,
    }
    if args.json:
        print_json(data)
    else:
        print(
            f"replayed {result.delivered} events from {outbox.path}: {result.dead} dead-lettered, "
            f"{result.corrupt} damaged files skipped, {result.remaining} still pending"
        )
    if result.error:
        raise StoreError(f"replay stopped with {result.remaining} events pending: {result.error}")
    return 0


def _cmd_prune(store: LineageStore, args: argparse.Namespace) -> int:
    if args.older_than:
        older_than = parse_duration(args.older_than)
    else:
        days = conf.retention_days()
        if days <= 0:
            raise ConfigError(
                "give --older-than (e.g. 90d) or set [lineage_provider] retention_days (0 keeps everything)"
            )
        older_than = timedelta(days=days)
    report = store.prune(older_than, dry_run=args.dry_run)
    data = report.to_dict()
    if args.json:
        print_json({**data, "dryRun": args.dry_run, "runIds": report.run_ids})
        return 0
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {report.runs} runs ended before {data['cutoff']}, {report.events} raw events, "
        f"{report.run_io} run inputs/outputs and {report.versions} dataset versions; kept "
        f"{report.kept_latest} old runs that are the latest of their job"
    )
    if args.dry_run:
        for run_id in report.run_ids:
            print(f"  run:{run_id}")
    return 0


def _cmd_erase(store: LineageStore, args: argparse.Namespace) -> int:
    result = store.erase(args.node, reason=args.reason)
    if args.json:
        print_json(result)
    else:
        print(
            f"erased {result['node']}: facets removed from the node, {result['versions']} versions and "
            f"{result['events']} raw events; a tombstone keeps its lineage connected"
        )
    return 0


def register(add: Callable[..., Any]) -> None:
    """Add the commands with ``cli.build_parser``'s ``add(name, handler, help)``."""
    outbox_help = "the outbox directory (default: [lineage_provider] outbox_dir)"
    sub = add("status", _cmd_status, "the outbox: pending events, the oldest of them, dead letters")
    sub.add_argument("--outbox", metavar="DIR", help=outbox_help)
    sub = add("replay", _cmd_replay, "deliver every event waiting in the outbox (idempotent)")
    sub.add_argument("--outbox", metavar="DIR", help=outbox_help)
    sub = add("prune", _cmd_prune, "remove old runs and raw events, keeping what the graph needs")
    sub.add_argument(
        "--older-than", metavar="AGE", help="e.g. 90d, 12h, 2w (default: [lineage_provider] retention_days)"
    )
    sub.add_argument("--dry-run", action="store_true", help="print what would be removed; change nothing")
    sub = add("erase", _cmd_erase, "remove a dataset's facets everywhere, keeping a tombstone node")
    sub.add_argument("node", metavar="NODE", help="dataset:<namespace>:<name>")
    sub.add_argument("--reason", default="erased on request", help="recorded in the tombstone")
