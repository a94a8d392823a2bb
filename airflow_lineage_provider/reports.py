"""Text of the ML answers: provenance, impact, reproducibility, run diffs, and the audit report.

The audit report is Markdown or a self-contained HTML page; every value that comes from stored data
is escaped for the format (``|``, ``*``, ``<`` ... in Markdown; everything in HTML), so a dataset
or approver name cannot inject markup.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # what can start markup inside a table cell


def md(value: Any) -> str:
    """A value as Markdown text: special characters escaped, on one line."""
    text = "—" if value is None or value == "" else str(value)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


UNPRODUCED = "no recorded run produced this version"
RESTRICTED = "written by a run of a DAG you may not read"


def made_by(item: dict[str, Any]) -> str:
    """Where the version of a provenance input came from, in words."""
    if item.get("producedBy"):
        if item.get("observedVersion"):
            return (
                f"made by run {item['producedBy']} (the label {item['version']} stands for version "
                f"{item['observedVersion']}, current when it was read)"
            )
        return f"made by run {item['producedBy']}"
    if item.get("origin") == "unproduced":
        return UNPRODUCED + " (runs write this dataset, none before it was read)"
    if item.get("origin") == "restricted":
        return RESTRICTED
    return "a source (no recorded run writes this dataset)"


def _maker(item: dict[str, Any]) -> str:
    """The audit's "made by run" cell of a provenance input (and its flag when it changed before read)."""
    if item.get("changedBeforeRead"):
        flag = "; CHANGED BEFORE READ: " + changed_before_read(item)
        return _maker({**item, "changedBeforeRead": False}) + flag
    if item.get("producedBy"):
        observed = item.get("observedVersion")
        return str(item["producedBy"]) + (f" (as version {observed}, current when read)" if observed else "")
    return {"unproduced": UNPRODUCED, "restricted": RESTRICTED}.get(item.get("origin") or "", "source")


def provenance_text(answer: dict[str, Any]) -> str:
    lines = [f"{answer['root']} @ {answer['version']}"]
    for step in answer["steps"]:
        lines.append(f"  made by run {step['runId']} of {step['job']} ({step['state']}, {step['startedAt']})")
        for item in step["inputs"]:
            lines.append(f"    read {item['id']} @ {item['version'] or 'unversioned'}, {made_by(item)}")
            if item.get("changedBeforeRead"):
                lines.append("      CHANGED BEFORE READ: " + changed_before_read(item))
    if not answer["steps"]:
        lines.append("  no recorded run wrote this version")
    lines.append("sources: " + (", ".join(answer["sources"]) or "none recorded"))
    if answer.get("unproducedInputs"):
        lines.append("read at a version no recorded run produced: " + ", ".join(answer["unproducedInputs"]))
    if answer["unversionedInputs"]:
        lines.append("unversioned inputs: " + ", ".join(answer["unversionedInputs"]))
    if answer.get("changedBeforeRead"):
        lines.append("read with other content than written: " + ", ".join(answer["changedBeforeRead"]))
    return "\n".join(lines)


def changed_before_read(item: dict[str, Any]) -> str:
    """Why a provenance input is flagged: the fingerprint read against the one written."""
    read, written = item.get("fingerprint") or {}, item.get("writtenFingerprint") or {}
    return (
        f"read as {str(read.get('digest'))[:16]}, written as {str(written.get('digest'))[:16]} "
        "(the data changed between the task that wrote it and the one that read it)"
    )


_STATUS_WORDS = (
    ("matches", "match"),
    ("changed", "changed"),
    ("missing", "missing"),
    ("not checkable", "not checkable"),
)


def artifacts_text(answer: dict[str, Any]) -> str:
    """``verify --artifacts``: the verdict and one line per artifact."""
    counts = answer["counts"]
    lines = [
        f"artifacts of {answer['root']} @ {answer['version']}: "
        + ", ".join(f"{counts[s]} {word}" for s, word in _STATUS_WORDS)
    ]
    width = max((len(a["status"]) for a in answer["artifacts"]), default=0)
    for a in answer["artifacts"]:
        lines.append(
            f"  {a['status'].upper():<{width}}  {a['id']} @ {a['version'] or 'unversioned'}: {a['detail']}"
            f" ({a['recordedBy']})"
        )
    if answer.get("changedBeforeRead"):
        lines.append("read with other content than written: " + ", ".join(answer["changedBeforeRead"]))
    return "\n".join(lines)


def impact_text(answer: dict[str, Any]) -> str:
    version = f" @ {answer['version']}" if answer.get("version") else ""
    lines = [f"downstream of {answer['root']}{version}: {len(answer['models'])} model version(s)"]
    lines += [f"  {m['id']} @ {m['version']}  (run {m['runId']} of {m['job']})" for m in answer["models"]]
    lines.append(f"{len(answer['steps'])} run(s) affected")
    return "\n".join(lines)


def traffic(deployment: dict[str, Any]) -> str:
    """A deployment's traffic share, with the change from the one before on the same target."""
    now, before = deployment.get("traffic"), deployment.get("previousTraffic")
    share = "?" if now is None else f"{now:.0%}"
    return share if before is None else f"{before:.0%} -> {share}"


def trace_text(answer: dict[str, Any]) -> str:
    found = answer["predictions"]
    lines = [
        f"trace {answer['traceId']}: {found['count']} prediction(s) in {found['batches']} batch(es) "
        f"to {found['dataset']} ({found['first']} .. {found['last']})"
    ]
    deployment = answer.get("deployment")
    if deployment:
        lines.append(
            f"  served by {deployment['deployment']} ({deployment['environment']}, traffic "
            f"{traffic(deployment)}), deployed {deployment['deployedAt']} "
            f"by {deployment['deployedBy'] or '?'}"
        )
    else:
        lines.append("  no recorded deployment of this model version to that target")
    model = answer.get("model")
    if model:
        lines.append(
            f"  model {model['id']} @ {model['version']}, trained by run {answer['trainingRunId'] or '?'}"
        )
    lines.append(provenance_text(answer["provenance"]))
    return "\n".join(lines)


def reproducible_text(answer: dict[str, Any]) -> str:
    verdict = "REPRODUCIBLE" if answer["reproducible"] else "NOT REPRODUCIBLE"
    lines = [f"{answer['model']} @ {answer['version']}: {verdict} (run {answer['runId']})"]
    for check in answer["checks"]:
        mark = "ok " if check["ok"] else ("no " if check["required"] else "-- ")
        lines.append(f"  [{mark}] {check['check']}: {check['detail']}")
    return "\n".join(lines)


def diff_text(answer: dict[str, Any]) -> str:
    a, b = answer["runA"], answer["runB"]
    lines = [f"A: run {a['runId']} of {a['job']}", f"B: run {b['runId']} of {b['job']}"]
    if answer["identical"]:
        return "\n".join([*lines, "no differences recorded"])
    for section, changes in answer["differences"].items():
        if changes:
            lines.append(f"{section}:")
            lines += [f"  {c['key']}: {_short(c['a'])} -> {_short(c['b'])}" for c in changes]
    return "\n".join(lines)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True) if not isinstance(value, str) else value


def _short(value: Any) -> str:
    """A value cut to 80 characters, for one line of terminal output (reports show values whole)."""
    text = _json(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _sections(audit: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as (title, column names, rows) tables, shared by Markdown and HTML."""
    return _recorded(audit) + _artifacts(audit)


def _artifacts(audit: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The artifacts fingerprinted again (none in a report made before ``verify --artifacts`` was)."""
    found = audit.get("artifacts")
    if found is None:
        return []
    rows = [[a["id"], a["version"], a["status"], a["detail"], a["recordedBy"]] for a in found["artifacts"]]
    return [("Artifacts fingerprinted again", ["artifact", "version", "status", "detail", "recorded"], rows)]


def _recorded(audit: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The sections of what was recorded."""
    training = audit["training"] or {}
    steps = audit["provenance"]["steps"]
    repro = audit["reproducibility"]
    chain = audit["chain"]
    code = training.get("code") or {}
    git = code.get("git") or {}
    env = training.get("environment") or {}
    hw = training.get("hardware") or {}
    model = audit.get("modelFacet") or {}
    return [
        (
            "Model",
            ["field", "value"],
            [
                ["node", audit["model"]],
                ["version", audit["version"]],
                ["name", model.get("name")],
                ["framework", model.get("framework")],
                ["trained by run", training.get("runId")],
                ["job", training.get("job")],
                ["started", training.get("startedAt")],
                ["ended", training.get("endedAt")],
            ],
        ),
        (
            "Hyperparameters",
            ["name", "value"],
            [[name, _json(value)] for name, value in sorted((model.get("hyperparameters") or {}).items())],
        ),
        (
            "Training data provenance (exact versions)",
            ["run", "job", "read", "version", "made by run"],
            [
                [
                    s["runId"],
                    s["job"],
                    i["id"],
                    i["version"] or "unversioned",
                    _maker(i),
                ]
                for s in steps
                for i in s["inputs"]
            ],
        ),
        (
            "Code",
            ["field", "value"],
            [
                ["DAG file", code.get("dagFile")],
                ["DAG file sha256", code.get("dagFileHash")],
                ["DAG version id", code.get("dagVersionId")],
                ["git repository", git.get("repository")],
                ["git commit", git.get("commit")],
                ["uncommitted changes", git.get("dirty")],
                ["diff sha256", git.get("diffHash")],
            ],
        ),
        (
            "Environment and hardware",
            ["field", "value"],
            [
                ["Python", env.get("python")],
                ["platform", env.get("platform")],
                ["distributions sha256", env.get("distributionsHash")],
                ["distributions", len(training.get("distributions") or [])],
                ["image digest", env.get("imageDigest")],
                ["CPU", hw.get("cpuModel")],
                ["CPU count", hw.get("cpuCount")],
                ["memory bytes", hw.get("memoryBytes")],
                ["GPUs", ", ".join(g.get("name", "?") for g in hw.get("gpus") or []) or "none"],
                ["params", _json(training.get("params") or {})],
                ["seeds", _json(training.get("seeds") or [])],
            ],
        ),
        (
            "Metrics",
            ["metrics", "run", "values", "on dataset"],
            [[m["id"], m["runId"], _json(m["values"]), _json(m.get("dataset"))] for m in audit["metrics"]],
        ),
        (
            "Reproducibility",
            ["check", "ok", "detail"],
            [
                [c["check"], "yes" if c["ok"] else ("no" if c["required"] else "optional"), c["detail"]]
                for c in repro["checks"]
            ],
        ),
        (
            "Approvals",
            ["approved at", "by", "version", "framework", "reason"],
            [
                [a["approvedAt"], a["approvedBy"], a["version"], a["framework"], a["reason"]]
                for a in audit["approvals"]
            ],
        ),
        (
            "Deployments",
            ["deployed at", "by", "model version", "target", "environment", "traffic"],
            [
                [
                    d["deployedAt"],
                    d["deployedBy"],
                    d["modelVersion"],
                    d["target"],
                    d["environment"],
                    traffic(d),
                ]
                for d in audit.get("deployments") or []
            ],
        ),
        (
            "Event log integrity",
            ["field", "value"],
            [
                ["hash chain", "verified" if chain["ok"] else "BROKEN"],
                ["events checked", chain["checked"]],
                ["first bad event", chain["firstBadEventId"]],
                ["problem", chain["problem"]],
            ],
        ),
    ]


def _artifacts_verdict(audit: dict[str, Any]) -> str:
    """``; artifacts ...`` for the report's first lines (nothing for a report made before they were)."""
    found = audit.get("artifacts")
    if found is None:
        return ""
    counts = found["counts"]
    if not found["ok"]:
        return f"; artifacts CHANGED: {counts['changed']} changed, {counts['missing']} missing since recorded"
    unknown = f", {counts['not checkable']} not checkable" if counts["not checkable"] else ""
    return f"; artifacts: {counts['matches']} of {sum(counts.values())} match what was recorded{unknown}"


def audit_markdown(audit: dict[str, Any]) -> str:
    verdict = "reproducible" if audit["reproducibility"]["reproducible"] else "not reproducible"
    out = [
        f"# Audit report: {md(audit['name'])} @ {md(audit['version'])}",
        "",
        f"Generated {md(audit['generatedAt'])} by airflow-lineage-provider. Verdict: **{verdict}**; "
        f"event log {'verified' if audit['chain']['ok'] else '**BROKEN**'}{_artifacts_verdict(audit)}.",
    ]
    for title, columns, rows in _sections(audit):
        out += ["", f"## {title}", ""]
        if not rows:
            out.append("None recorded.")
            continue
        out.append("| " + " | ".join(columns) + " |")
        out.append("|" + "---|" * len(columns))
        out += ["| " + " | ".join(md(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def audit_html(audit: dict[str, Any]) -> str:
    e = html.escape
    verdict = "reproducible" if audit["reproducibility"]["reproducible"] else "not reproducible"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit report: {e(str(audit['name']))}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}</style>",
        "</head><body>",
        f"<h1>Audit report: {e(str(audit['name']))} @ {e(str(audit['version']))}</h1>",
        f"<p>Generated {e(str(audit['generatedAt']))}. Verdict: <strong>{e(verdict)}</strong>; event log "
        f"{'verified' if audit['chain']['ok'] else '<strong>BROKEN</strong>'}"
        f"{e(_artifacts_verdict(audit))}.</p>",
    ]
    for title, columns, rows in _sections(audit):
        out.append(f"<h2>{e(title)}</h2>")
        if not rows:
            out.append("<p>None recorded.</p>")
            continue
        out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
        out += [
            "<tr>" + "".join(f"<td>{e('—' if v is None else str(v))}</td>" for v in row) + "</tr>"
            for row in rows
        ]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
