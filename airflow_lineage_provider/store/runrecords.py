"""What one run used and made (its reproducibility record), the difference between two runs, and
the reproducibility checklist of a run.

The record comes from the run's ``airflowLineage_reproducibility`` facet (code, environment,
hardware, params, seeds), the exact dataset versions in ``lineage_run_io``, and the model and
metrics facets of the versions it wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import environments
from airflow_lineage_provider.store import tables as t

REPRODUCIBILITY = "airflowLineage_reproducibility"
MODEL = "airflowLineage_model"
METRICS = "airflowLineage_metrics"
SECTIONS = ("inputs", "code", "params", "environment", "hardware", "seeds", "hyperparameters", "metrics")


def _io(conn: Connection, run_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(
                t.RunIO.direction, t.RunIO.version, t.Node.kind, t.Node.namespace, t.Node.name, t.Node.type
            )
            .join(t.Node, t.Node.id == t.RunIO.dataset_id)
            .where(t.RunIO.run_id == run_id)
            .order_by(t.Node.namespace, t.Node.name)
        ).all()
    )


def _version_facets(conn: Connection, run_id: str) -> dict[str, dict[str, Any]]:
    """Facets of the dataset versions a run wrote, by dataset node id."""
    rows = conn.execute(
        select(t.DatasetVersion.facets, t.Node.namespace, t.Node.name)
        .join(t.Node, t.Node.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.run_id == run_id)
    ).all()
    return {node_text("dataset", r.namespace, r.name): r.facets or {} for r in rows}


def run_record(conn: Connection, run_id: str) -> dict[str, Any]:
    """Everything recorded about one run that decides whether it can be reproduced."""
    run = conn.execute(select(t.Run).where(t.Run.run_id == run_id)).first()
    if run is None:
        raise NodeNotFoundError(f"run:{run_id}")
    job = conn.execute(select(t.Node.namespace, t.Node.name).where(t.Node.id == run.job_id)).one()
    record = dict((run.facets or {}).get(REPRODUCIBILITY) or {})
    io = _io(conn, run_id)
    written = _version_facets(conn, run_id)
    models: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for row in io:
        if row.direction != "output":
            continue
        node_id = node_text(row.kind, row.namespace, row.name)
        facets = written.get(node_id) or {}
        if MODEL in facets:
            models[node_id] = {"version": row.version, **_plain(facets[MODEL])}
        if METRICS in facets:
            metrics[node_id] = _plain(facets[METRICS])
    environment = dict(record.get("environment") or {})
    return {
        "runId": run.run_id,
        "job": node_text("job", job.namespace, job.name),
        "state": run.state,
        "startedAt": iso(run.started_at),
        "endedAt": iso(run.ended_at),
        "recorded": bool(record),
        "code": record.get("code") or {},
        "environment": environment,
        "distributions": environments.distributions(conn, environment.get("distributionsHash")),
        "hardware": record.get("hardware") or {},
        "params": record.get("params") or {},
        "seeds": record.get("seeds") or [],
        "inputs": {node_text(r.kind, r.namespace, r.name): r.version for r in io if r.direction == "input"},
        "outputs": {node_text(r.kind, r.namespace, r.name): r.version for r in io if r.direction == "output"},
        "models": models,
        "metrics": metrics,
    }


def _plain(facet: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(facet or {}).items() if not k.startswith("_")}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay values."""
    if not isinstance(value, dict) or not value:
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _section(record: dict[str, Any], name: str) -> dict[str, Any]:
    if name == "hyperparameters":
        return {
            f"{model}.{k}": v
            for model, m in record["models"].items()
            for k, v in flatten(m.get("hyperparameters") or {}).items()
        }
    if name == "metrics":
        return {
            f"{node}.{k}": v
            for node, m in record["metrics"].items()
            for k, v in flatten(m.get("values") or {}).items()
        }
    if name == "seeds":
        return {f"seed[{i}]": s for i, s in enumerate(record["seeds"])}
    if name == "environment":
        return flatten({k: v for k, v in record["environment"].items() if k != "distributions"})
    return flatten(record[name]) if name != "inputs" else dict(record["inputs"])


def _pinned(distributions: list[str]) -> dict[str, str]:
    return {name: version for name, _, version in (d.partition("==") for d in distributions)}


def _distribution_changes(a: list[str] | None, b: list[str] | None) -> list[dict[str, Any]]:
    if a is None or b is None:
        return []
    pa, pb = _pinned(a), _pinned(b)
    return [
        {"key": f"distributions.{name}", "a": pa.get(name), "b": pb.get(name)}
        for name in sorted(set(pa) | set(pb))
        if pa.get(name) != pb.get(name)
    ]


def diff(conn: Connection, run_a: str, run_b: str) -> dict[str, Any]:
    """What differs between two runs, section by section (``[]`` where they agree)."""
    a, b = run_record(conn, run_a), run_record(conn, run_b)
    differences: dict[str, list[dict[str, Any]]] = {}
    for name in SECTIONS:
        sa, sb = _section(a, name), _section(b, name)
        differences[name] = [
            {"key": key, "a": sa.get(key), "b": sb.get(key)}
            for key in sorted(set(sa) | set(sb))
            if sa.get(key) != sb.get(key)
        ]
    differences["environment"] += _distribution_changes(a["distributions"], b["distributions"])
    return {
        "runA": {"runId": a["runId"], "job": a["job"], "state": a["state"], "startedAt": a["startedAt"]},
        "runB": {"runId": b["runId"], "job": b["job"], "state": b["state"], "startedAt": b["startedAt"]},
        "identical": not any(differences.values()),
        "differences": differences,
    }


def _check(name: str, ok: bool, detail: str, missing: str, required: bool = True) -> dict[str, Any]:
    return {"check": name, "ok": ok, "required": required, "detail": detail if ok else missing}


def checklist(record: dict[str, Any], unversioned: list[str]) -> list[dict[str, Any]]:
    """The reproducibility checks of one run, given the unversioned inputs of its provenance."""
    code, env = record["code"], record["environment"]
    git = code.get("git") or {}
    commit = git.get("commit")
    if not record["recorded"]:
        pinned_missing = "no reproducibility record for this run (captured by airflow-lineage-provider 0.2+)"
    elif not commit:
        pinned_missing = "no git commit: the DAG file is not in a git repository (or git is not installed)"
    else:
        pinned_missing = (
            f"uncommitted changes on top of {commit[:12]} (diff hash {str(git.get('diffHash'))[:12]})"
        )
    return [
        _check(
            "code pinned and clean",
            bool(commit) and git.get("dirty") is False,
            f"git commit {commit}",
            pinned_missing,
        ),
        _check(
            "DAG file identified",
            bool(code.get("dagFileHash")),
            f"DAG file hash {code.get('dagFileHash')}",
            "no DAG file hash recorded",
        ),
        _check(
            "environment recorded",
            bool(env.get("distributionsHash")) and record["distributions"] is not None,
            f"Python {env.get('python')}, {len(record['distributions'] or [])} distributions",
            "no list of installed distributions recorded",
        ),
        _check(
            "container image pinned",
            bool(env.get("imageDigest")),
            f"image {env.get('imageDigest')}",
            "no image digest (set IMAGE_DIGEST in the worker's environment)",
            required=False,
        ),
        _check(
            "inputs versioned",
            bool(record["inputs"]) and not unversioned,
            f"{len(record['inputs'])} input(s), every one with its version",
            "no inputs recorded" if not record["inputs"] else "unversioned inputs: " + ", ".join(unversioned),
        ),
        _check(
            "seed recorded",
            bool(record["seeds"]),
            "seeds " + ", ".join(str(s.get("seed")) for s in record["seeds"] if isinstance(s, dict)),
            "no random seed recorded (call ml.set_seed in the task)",
        ),
    ]
