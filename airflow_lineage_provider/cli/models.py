"""``airflow-lineage`` commands for models: provenance, impact, reproducible, diff, approve,
approvals, models, trace, verify and audit (registered by
:func:`airflow_lineage_provider.cli.main.build_parser`).

Exit codes as for every command; ``verify`` also exits 1 when the chain does not verify, or with
``--artifacts`` when an artifact changed or is missing since it was recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_lineage_provider import reports
from airflow_lineage_provider.cli import impact, tables
from airflow_lineage_provider.cli.eventfiles import atomic_text_file
from airflow_lineage_provider.cli.formats import print_json
from airflow_lineage_provider.core.frameworks import FRAMEWORKS
from airflow_lineage_provider.exceptions import InvalidQueryError

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore

MODEL_HELP = "model node id: dataset:<namespace>:<name> of a dataset typed MODEL"


def _out(args: argparse.Namespace, data: Any, text: Callable[[Any], str]) -> int:
    if args.json:
        print_json(data)
    else:
        print(text(data))
    return 0


def _models(store: LineageStore, args: argparse.Namespace) -> int:
    def text(models: list[dict[str, Any]]) -> str:
        if not models:
            return "no models recorded (log one with ml.log_model in a task)"
        lines = []
        for m in models:
            lines.append(
                f"{m['id']}  version {m['currentVersion']}  ({m['framework'] or 'framework not set'})"
            )
            if m["metrics"]:
                lines.append("  metrics: " + ", ".join(f"{k}={v}" for k, v in sorted(m["metrics"].items())))
            for d in m["deployments"]:
                lines.append(
                    f"  deployed {d['modelVersion']} to {d['target']} ({d['environment']}) at "
                    f"{d['deployedAt']}, traffic {reports.traffic(d)}"
                )
        return "\n".join(lines)

    return _out(args, store.ml.models(), text)


def _provenance(store: LineageStore, args: argparse.Namespace) -> int:
    return _out(args, store.ml.provenance(args.node, args.version, args.as_of), reports.provenance_text)


def _impact(store: LineageStore, args: argparse.Namespace) -> int:
    impact.check(args)
    if args.summary:
        return impact.summary(store, args)
    args.json = args.json or args.format == "json"
    return _out(args, store.ml.impact(args.node, args.version), reports.impact_text)


def _trace(store: LineageStore, args: argparse.Namespace) -> int:
    return _out(args, store.ml.trace(args.trace_id), reports.trace_text)


def _reproducible(store: LineageStore, args: argparse.Namespace) -> int:
    return _out(args, store.ml.reproducible(args.node, args.version), reports.reproducible_text)


def _diff(store: LineageStore, args: argparse.Namespace) -> int:
    return _out(args, store.ml.diff(args.run_a, args.run_b), reports.diff_text)


def _approve(store: LineageStore, args: argparse.Namespace) -> int:
    done = store.ml.approve(args.node, args.by, args.reason, args.framework, args.version)
    return _out(args, done, lambda d: f"approved {d['model']} version {d['version']} by {d['approvedBy']}")


def _approvals(store: LineageStore, args: argparse.Namespace) -> int:
    def text(found: list[dict[str, Any]]) -> str:
        if not found:
            return f"no approvals of {args.node}"
        return "\n".join(
            f"{a['approvedAt']}  version {a['version']}  by {a['approvedBy']}"
            f"{' under ' + a['framework'] if a['framework'] else ''}: {a['reason']}"
            for a in found
        )

    return _out(args, store.ml.approvals(args.node, args.version), text)


def _chain_text(r: dict[str, Any]) -> str:
    if r["ok"]:
        return f"hash chain verified: {r['checked']} events"
    return (
        f"hash chain BROKEN at event {r['firstBadEventId']} "
        f"({r['checked']} events before it verified): {r['problem']}"
    )


def _verify(store: LineageStore, args: argparse.Namespace) -> int:
    chain = store.verify().to_dict()
    if not args.artifacts:
        if args.node is not None:
            raise InvalidQueryError("a NODE is verified with --artifacts: verify --artifacts NODE")
        _out(args, chain, _chain_text)
        return 0 if chain["ok"] else 1
    nodes = [args.node] if args.node is not None else [m["id"] for m in store.ml.models()]
    count_rows = None if args.conn_id is None else tables.postgres_counter(args.conn_id)
    found = [store.ml.verify_artifacts(node, args.version, count_rows) for node in nodes]
    ok = chain["ok"] and all(f["ok"] for f in found)

    def text(data: dict[str, Any]) -> str:
        parts = [_chain_text(data["chain"]), *map(reports.artifacts_text, data["artifacts"])]
        if not data["artifacts"]:
            parts.append("no models recorded: name a dataset, verify --artifacts NODE")
        return "\n".join(parts)

    _out(args, {"ok": ok, "chain": chain, "artifacts": found}, text)
    return 0 if ok else 1


def _audit(store: LineageStore, args: argparse.Namespace) -> int:
    audit = store.ml.audit(args.node, args.version)
    if args.format == "json":
        text = json.dumps(audit, indent=2, default=str) + "\n"
    elif args.format == "html":
        text = reports.audit_html(audit)
    else:
        text = reports.audit_markdown(audit)
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    with atomic_text_file(args.output) as stream:
        stream.write(text)
    print(f"wrote the {args.format} audit report of {audit['model']} to {args.output}", file=sys.stderr)
    return 0


def register(add: Callable[..., Any]) -> None:
    """Add the model commands through the CLI's ``add(name, handler, help, json_flag=True)``."""
    add("models", _models, "list models (datasets typed MODEL)")
    sub = add("provenance", _provenance, "the runs and exact input versions behind a model version")
    sub.add_argument("node", metavar="NODE", help="dataset node id (a model, or any dataset)")
    sub.add_argument("--version", metavar="V", help="this version (default: the current one)")
    sub.add_argument("--as-of", metavar="TIME", help="the version current at this ISO time or run id")
    sub = add(
        "impact",
        _impact,
        "every model version downstream of a dataset, with the runs; --summary: everything downstream "
        "of any node, counted by type, namespace, DAG and owner",
    )
    sub.add_argument("node", metavar="NODE", help="dataset node id (any node id with --summary)")
    sub.add_argument("--version", metavar="V", help="only what read this version of the dataset")
    impact.add_options(sub)
    sub = add("reproducible", _reproducible, "checklist: can the run that made a model version be reproduced")
    sub.add_argument("node", metavar="NODE", help=MODEL_HELP)
    sub.add_argument("--version", metavar="V", help="this version (default: the current one)")
    sub = add("diff", _diff, "what differs between two runs: inputs, code, params, environment, metrics")
    sub.add_argument("run_a", metavar="RUN_A", help="run:<uuid> or a run uuid")
    sub.add_argument("run_b", metavar="RUN_B", help="run:<uuid> or a run uuid")
    sub = add("approve", _approve, "record an approval of a model version (append-only)")
    sub.add_argument("node", metavar="NODE", help=MODEL_HELP)
    sub.add_argument("--by", required=True, metavar="WHO", help="who approves")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="why")
    sub.add_argument("--framework", choices=FRAMEWORKS, help="the regulatory framework of the approval")
    sub.add_argument("--version", metavar="V", help="the version approved (default: the current one)")
    sub = add("approvals", _approvals, "approvals of a model, oldest first")
    sub.add_argument("node", metavar="NODE", help=MODEL_HELP)
    sub.add_argument("--version", metavar="V", help="only approvals of this version")
    sub = add("trace", _trace, "a served prediction's trace id back to its model version and raw data")
    sub.add_argument(
        "trace_id", metavar="TRACE_ID", help="the X-Lineage-Trace-Id a served model answered with"
    )
    sub = add(
        "verify",
        _verify,
        "re-check the hash chain of the raw event log and, with --artifacts, the data behind a dataset "
        "version; exit 1 if anything does not verify",
    )
    sub.add_argument(
        "--artifacts",
        action="store_true",
        help="also fingerprint again every artifact of NODE's provenance (default: of every model)",
    )
    sub.add_argument("node", metavar="NODE", nargs="?", help="dataset node id (a model, or any dataset)")
    sub.add_argument("--version", metavar="V", help="this version (default: the current one)")
    sub.add_argument(
        "--conn-id",
        metavar="ID",
        help="an Airflow connection to a PostgreSQL server: its tables are counted through it (their "
        "database is the one the dataset name holds)",
    )
    sub = add(
        "audit",
        _audit,
        "audit report of a model version: data, code, environment, approvals",
        json_flag=False,
    )
    sub.add_argument("node", metavar="NODE", help=MODEL_HELP)
    sub.add_argument("--version", metavar="V", help="this version (default: the current one)")
    sub.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    sub.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
