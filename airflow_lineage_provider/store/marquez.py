"""Store rows as the JSON objects of Marquez's API v1 (Dataset, DatasetVersion, Job, Run).

Field names and meanings follow Marquez so its clients work; what we do not track is present with
Marquez's empty value (``tags: []``, ``currentVersion: null`` for jobs, ``args: {}``). Loaders take a
whole page of rows and issue one query per relation, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core import facetviews
from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.store import assertions, scoped
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.scoped import DatasetView, Times
from airflow_lineage_provider.store.visibility import Scope, run_rule


def _facet(facets: dict[str, Any] | None, name: str, key: str) -> Any:
    value = (facets or {}).get(name)
    return value.get(key) if isinstance(value, dict) else None


def fields(facets: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The ``schema`` facet's fields as Marquez fields."""
    found = _facet(facets, "schema", "fields") or []
    return [
        {
            "name": str(f.get("name")),
            "type": f.get("type"),
            "tags": facetviews.tag_names(facets, str(f.get("name"))),
            "description": f.get("description"),
        }
        for f in found
        if isinstance(f, dict) and f.get("name") is not None
    ]


def dataset(row: Any, view: DatasetView, seen: Times) -> dict[str, Any]:
    """A Marquez Dataset as one reader sees it (:mod:`.scoped`: its view and its times)."""
    facets = view.facets
    return {
        "id": {"namespace": row.namespace, "name": row.name},
        "type": row.type or "DB_TABLE",
        "name": row.name,
        "physicalName": row.name,
        "createdAt": iso(seen[0]),
        "updatedAt": iso(seen[1]),
        "namespace": row.namespace,
        "sourceName": row.namespace,
        "fields": fields(facets),
        "tags": facetviews.tag_names(facets),
        "lastModifiedAt": iso(view.version_time),
        "lastLifecycleState": _facet(facets, "lifecycleStateChange", "lifecycleStateChange"),
        "description": _facet(facets, "documentation", "description"),
        "currentVersion": view.version,
        "columnLineage": None,
        "facets": facets,
        "deleted": False,
        "restricted": view.restricted,
    }


def dataset_version(
    node: Any,
    view: DatasetView,
    version: Any,
    created_by: dict[str, Any] | None,
    checks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    facets = version.facets or {}
    return {
        "id": {"namespace": node.namespace, "name": node.name, "version": version.version},
        "type": node.type or "DB_TABLE",
        "name": node.name,
        "physicalName": node.name,
        "createdAt": iso(version.created_at),
        "version": version.version,
        "namespace": node.namespace,
        "sourceName": node.namespace,
        "fields": fields(facets) or fields(view.facets),
        "tags": facetviews.tag_names(facets),
        "lifecycleState": _facet(facets, "lifecycleStateChange", "lifecycleStateChange"),
        "description": _facet(facets, "documentation", "description"),
        "createdByRunUuid": version.run_id,
        "createdByRun": created_by,
        "facets": facets,
        "columnLineage": None,
        "assertions": checks or [],
    }


def runs(conn: Connection, rows: Sequence[Any], scope: Scope) -> list[dict[str, Any]]:
    """Marquez Run objects for run rows (job name and dataset versions loaded in two queries), as the
    reader sees them: versions a run read that a hidden run wrote are null (:func:`.scoped.read_version`)."""
    if not rows:
        return []
    run_ids = [r.run_id for r in rows]
    jobs = {
        j.id: j
        for j in conn.execute(
            select(t.Node.id, t.Node.namespace, t.Node.name).where(t.Node.id.in_({r.job_id for r in rows}))
        )
    }
    io: dict[str, dict[str, list[dict[str, Any]]]] = {}
    query = (
        select(
            t.RunIO.run_id,
            t.RunIO.direction,
            scoped.read_version(t.RunIO, scope).label("version"),
            t.Node.namespace,
            t.Node.name,
        )
        .join(t.Node, t.Node.id == t.RunIO.dataset_id)
        .where(t.RunIO.run_id.in_(run_ids))
        .order_by(t.Node.namespace, t.Node.name)
    )
    for r in conn.execute(query):
        versions = io.setdefault(r.run_id, {"input": [], "output": []})
        versions[r.direction].append(
            {
                "datasetVersionId": {"namespace": r.namespace, "name": r.name, "version": r.version},
                "facets": {},
            }
        )
    notes: dict[str, list[dict[str, Any]]] = {}
    query = (
        select(t.Event.run_id, t.Event.event_type, t.Event.event_time, t.Event.normalised)
        .where(t.Event.run_id.in_(run_ids), t.Event.normalised.is_not(None))
        .order_by(t.Event.id)
    )
    for r in conn.execute(query):
        notes.setdefault(r.run_id, []).extend(
            {"eventType": r.event_type, "eventTime": iso(r.event_time), **n} for n in r.normalised or []
        )
    checks = assertions.of_runs(conn, run_ids)
    return [
        {
            **_run(r, jobs.get(r.job_id), io.get(r.run_id, {})),
            "normalised": notes.get(r.run_id, []),
            "assertions": checks.get(r.run_id, []),
            "tests": ((r.facets or {}).get("test") or {}).get("tests") or [],
            "root": facetviews.run(r.facets)["root"],
            "parameters": facetviews.run(r.facets)["parameters"],
        }
        for r in rows
    ]


def _run(run: Any, job: Any, io: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    duration = None
    if run.started_at and run.ended_at:
        duration = int((run.ended_at - run.started_at).total_seconds() * 1000)
    return {
        "id": run.run_id,
        "createdAt": iso(run.created_at),
        "updatedAt": iso(run.updated_at),
        "nominalStartTime": iso(run.nominal_start),
        "nominalEndTime": iso(run.nominal_end),
        "state": run.state,
        "startedAt": iso(run.started_at),
        "endedAt": iso(run.ended_at),
        "durationMs": duration,
        "args": {},
        "jobVersion": None
        if job is None
        else {"namespace": job.namespace, "name": job.name, "version": None},
        "inputDatasetVersions": io.get("input", []),
        "outputDatasetVersions": io.get("output", []),
        "parentRunId": run.parent_run_id,
        "context": {},
        "facets": run.facets or {},
    }


def runs_by_id(conn: Connection, run_ids: Sequence[str], scope: Scope) -> dict[str, dict[str, Any]]:
    wanted = sorted({r for r in run_ids if r})
    if not wanted:
        return {}
    rows = conn.execute(select(t.Run).where(t.Run.run_id.in_(wanted))).all()
    return {run["id"]: run for run in runs(conn, rows, scope)}


def jobs(conn: Connection, scope: Scope, rows: Sequence[Any], latest: int = 0) -> list[dict[str, Any]]:
    """Marquez Job objects: inputs, outputs, parent and latest run loaded per page, not per job; runs
    and times as the reader sees them (:mod:`.scoped`)."""
    if not rows:
        return []
    pks = [r.id for r in rows]
    io: dict[int, dict[str, list[dict[str, str]]]] = {pk: {"inputs": [], "outputs": []} for pk in pks}
    for job_col, ds_col, side in ((t.Edge.dst, t.Edge.src, "inputs"), (t.Edge.src, t.Edge.dst, "outputs")):
        query = (
            select(job_col.label("job"), t.Node.namespace, t.Node.name)
            .join(t.Node, t.Node.id == ds_col)
            .where(job_col.in_(pks), t.Node.kind == "dataset")
            .order_by(t.Node.namespace, t.Node.name)
        )
        for r in conn.execute(query):
            io[r.job][side].append({"namespace": r.namespace, "name": r.name})
    parent_pks = {r.parent_job_id for r in rows if r.parent_job_id is not None}
    parents = {
        p.id: p.name for p in conn.execute(select(t.Node.id, t.Node.name).where(t.Node.id.in_(parent_pks)))
    }
    latest_runs = runs_by_id(conn, [r.latest_run_id for r in rows], scope)
    recent: dict[int, list[dict[str, Any]]] = {}
    if latest:
        for row in rows:
            recent_runs = (
                select(t.Run)
                .where(t.Run.job_id == row.id, run_rule(t.Run, scope))
                .order_by(t.Run.created_at.desc())
            )
            recent[row.id] = runs(conn, conn.execute(recent_runs.limit(latest)).all(), scope)
    seen = scoped.times(conn, scope, rows)
    return [
        _job(
            r,
            seen[r.id],
            io[r.id],
            parents.get(r.parent_job_id),
            latest_runs.get(r.latest_run_id),
            recent.get(r.id),
        )
        for r in rows
    ]


def _job(
    row: Any,
    seen: Times,
    io: dict[str, list[dict[str, str]]],
    parent: str | None,
    latest_run: dict[str, Any] | None,
    recent: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    facets = row.facets or {}
    processing = _facet(facets, "jobType", "processingType")
    simple = row.name[len(parent) + 1 :] if parent and row.name.startswith(parent + ".") else row.name
    return {
        "id": {"namespace": row.namespace, "name": row.name},
        "type": "STREAM" if processing == "STREAMING" else "BATCH",
        "jobType": row.type,
        "name": row.name,
        "simpleName": simple,
        "parentJobName": parent,
        "parentJobUuid": None,
        "createdAt": iso(seen[0]),
        "updatedAt": iso(seen[1]),
        "namespace": row.namespace,
        "inputs": io["inputs"],
        "outputs": io["outputs"],
        "location": _facet(facets, "sourceCodeLocation", "url"),
        "description": _facet(facets, "documentation", "description"),
        "latestRun": latest_run,
        "latestRuns": recent if recent is not None else ([latest_run] if latest_run else []),
        "facets": facets,
        "currentVersion": None,
        "labels": [],
        "tags": facetviews.tag_names(facets),
    }
