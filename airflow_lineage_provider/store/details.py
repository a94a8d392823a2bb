"""Details of one node (``describe``), column lineage and the raw event log."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core import facetviews
from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.store import assertions, fingerprints
from airflow_lineage_provider.store import declared as declared_edges
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.reads import resolve

RECENT = 20


def _run_summary(run: Any) -> dict[str, Any]:
    duration = None
    if run.started_at and run.ended_at:
        duration = int((run.ended_at - run.started_at).total_seconds() * 1000)
    return {
        "runId": run.run_id,
        "state": run.state,
        "startedAt": iso(run.started_at),
        "endedAt": iso(run.ended_at),
        "durationMs": duration,
    }


def _neighbours(conn: Connection, node_pk: int, upstream: bool) -> list[str]:
    col, other = (t.Edge.dst, t.Edge.src) if upstream else (t.Edge.src, t.Edge.dst)
    query = (
        select(t.Node.kind, t.Node.namespace, t.Node.name)
        .join(t.Edge, other == t.Node.id)
        .where(col == node_pk)
    )
    return sorted(node_text(*row) for row in conn.execute(query))


def _declared(conn: Connection, node_pk: int, upstream: bool) -> list[dict[str, Any]]:
    """Declared neighbours (the spec's lineage facet) of a node, with their declared field entries."""
    d = t.DeclaredEdge
    col, other = (d.dst, d.src) if upstream else (d.src, d.dst)
    query = (
        select(t.Node.kind, t.Node.namespace, t.Node.name, d.columns)
        .join(d, other == t.Node.id)
        .where(col == node_pk)
        .order_by(t.Node.kind, t.Node.namespace, t.Node.name)
    )
    found: dict[str, list[Any]] = {}
    for r in conn.execute(query):
        found.setdefault(node_text(r.kind, r.namespace, r.name), []).extend(r.columns or [])
    return [{"id": node, "columns": columns} for node, columns in found.items()]


def _normalised(conn: Connection, *where: Any) -> list[dict[str, Any]]:
    """What ingest read leniently in the events matching ``where`` (newest first, at most RECENT)."""
    rows = conn.execute(
        select(t.Event.event_type, t.Event.event_time, t.Event.normalised)
        .where(t.Event.normalised.is_not(None), *where)
        .order_by(t.Event.id.desc())
        .limit(RECENT)
    ).all()
    return [
        {"eventType": r.event_type, "eventTime": iso(r.event_time), **note}
        for r in rows
        for note in r.normalised or []
    ]


def _normalised_dataset_events(conn: Connection, namespace: str, name: str) -> list[dict[str, Any]]:
    """What ingest read leniently in the DatasetEvents about one dataset (newest first, at most
    RECENT). Only events read leniently are scanned, and those are few."""
    rows = conn.execute(
        select(t.Event.event_time, t.Event.payload, t.Event.normalised)
        .where(t.Event.normalised.is_not(None), t.Event.kind == "dataset")
        .order_by(t.Event.id.desc())
    )
    found: list[dict[str, Any]] = []
    for r in rows:
        payload = r.payload if isinstance(r.payload, dict) else json.loads(r.payload)
        dataset = payload.get("dataset") or {}
        if (dataset.get("namespace"), dataset.get("name")) == (namespace, name):
            found.extend({"eventType": None, "eventTime": iso(r.event_time), **n} for n in r.normalised)
            if len(found) >= RECENT:
                break
    return found


def describe(conn: Connection, node_id: str) -> dict[str, Any]:
    node, row = resolve(conn, node_id)
    if node.kind == "run":
        return _describe_run(conn, row)
    base: dict[str, Any] = {
        "id": str(node),
        "type": node.kind,
        "namespace": row.namespace,
        "name": row.name,
        "subtype": row.type,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "facets": row.facets or {},
        "declaredInputs": _declared(conn, row.id, upstream=True),
        "declaredOutputs": _declared(conn, row.id, upstream=False),
    }
    if node.kind == "dataset":
        versions = conn.execute(
            select(t.DatasetVersion)
            .where(t.DatasetVersion.dataset_id == row.id)
            .order_by(t.DatasetVersion.created_at.desc(), t.DatasetVersion.id.desc())
            .limit(RECENT)
        ).all()
        schema = (row.facets or {}).get("schema") or {}
        base.update(
            currentVersion=row.current_version,
            fields=[f for f in schema.get("fields") or [] if isinstance(f, dict)],
            versions=_versions(conn, row.id, versions),
            producers=_neighbours(conn, row.id, upstream=True),
            consumers=_neighbours(conn, row.id, upstream=False),
            columnLineage=column_lineage_rows(conn, row.id),
            assertions=assertions.of_dataset(conn, row.id),
            **facetviews.dataset(row.facets),
            normalised=_normalised_dataset_events(conn, row.namespace, row.name),
        )
    else:
        runs = conn.execute(
            select(t.Run).where(t.Run.job_id == row.id).order_by(t.Run.created_at.desc()).limit(RECENT)
        ).all()
        parent = None
        if row.parent_job_id is not None:
            prow = conn.execute(select(t.Node).where(t.Node.id == row.parent_job_id)).first()
            parent = node_text(prow.kind, prow.namespace, prow.name) if prow else None
        base.update(
            **facetviews.job(row.facets),
            parentJob=parent,
            latestRuns=[_run_summary(r) for r in runs],
            inputs=_neighbours(conn, row.id, upstream=True),
            outputs=_neighbours(conn, row.id, upstream=False),
            normalised=_normalised(
                conn, t.Event.job_namespace == row.namespace, t.Event.job_name == row.name
            ),
        )
    return base


def _versions(conn: Connection, dataset_pk: int, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Recent versions, each with its fingerprint, whether it is unchanged from the one before, and
    the runs that read it changed (:mod:`.fingerprints`)."""
    marks = fingerprints.version_marks(conn, dataset_pk, rows)
    return [
        {"version": v.version, "runId": v.run_id, "createdAt": iso(v.created_at), **marks[v.version]}
        for v in rows
    ]


def _describe_run(conn: Connection, run: Any) -> dict[str, Any]:
    job = conn.execute(select(t.Node).where(t.Node.id == run.job_id)).one()
    io = conn.execute(
        select(t.RunIO.direction, t.RunIO.version, t.Node.namespace, t.Node.name)
        .join(t.Node, t.Node.id == t.RunIO.dataset_id)
        .where(t.RunIO.run_id == run.run_id)
        .order_by(t.Node.name)
    ).all()

    def side(direction: str) -> list[dict[str, Any]]:
        return [
            {"id": node_text("dataset", r.namespace, r.name), "version": r.version}
            for r in io
            if r.direction == direction
        ]

    return {
        "id": f"run:{run.run_id}",
        "type": "run",
        "job": node_text("job", job.namespace, job.name),
        **_run_summary(run),
        "parentRunId": run.parent_run_id,
        "nominalStartTime": iso(run.nominal_start),
        "nominalEndTime": iso(run.nominal_end),
        "facets": run.facets or {},
        "inputs": side("input"),
        "outputs": side("output"),
        "assertions": assertions.of_runs(conn, [run.run_id]).get(run.run_id, []),
        "tests": ((run.facets or {}).get("test") or {}).get("tests") or [],
        **facetviews.run(run.facets),
        "normalised": _normalised(conn, t.Event.run_id == run.run_id),
    }


def column_lineage_rows(conn: Connection, dataset_pk: int, declared: bool = False) -> list[dict[str, Any]]:
    """Upstream fields of each field of one dataset; with ``declared``, the field entries producers
    declared too (where no observed entry names the same input field), marked ``"declared": True``."""
    rows = conn.execute(
        select(t.ColumnLineage, t.Node.namespace, t.Node.name)
        .join(t.Node, t.Node.id == t.ColumnLineage.input_dataset_id)
        .where(t.ColumnLineage.output_dataset_id == dataset_pk)
    ).all()
    found = [(r.output_field, r.namespace, r.name, r.input_field, r.transformations, False) for r in rows]
    if declared:
        entries = declared_edges.field_edges(conn, [dataset_pk], True, None)
        sources = select(t.Node.id, t.Node.namespace, t.Node.name).where(
            t.Node.id.in_({src[0] for src, _, _ in entries})
        )
        names = {r.id: (r.namespace, r.name) for r in conn.execute(sources)}
        observed = {(f[0], f[1], f[2], f[3]) for f in found}
        for (src, in_field), (_, out_field), transformations in entries:
            key = (out_field, *names[src], in_field)
            if key not in observed:
                observed.add(key)
                found.append((*key, transformations, True))
    fields: dict[str, list[dict[str, Any]]] = {}
    for out_field, namespace, name, in_field, transformations, is_declared in sorted(
        found, key=lambda f: (f[0], f[2], f[3], f[1])
    ):
        entry = {"namespace": namespace, "name": name, "field": in_field, "transformations": transformations}
        if is_declared:
            entry["declared"] = True
        fields.setdefault(out_field, []).append(entry)
    return [{"field": name, "inputFields": inputs} for name, inputs in fields.items()]


def column_lineage(conn: Connection, node_id: str, declared: bool = True) -> list[dict[str, Any]]:
    node, row = resolve(conn, node_id)
    if node.kind != "dataset":
        from airflow_lineage_provider.exceptions import InvalidQueryError

        raise InvalidQueryError(f"column lineage needs a dataset node, not {node.kind} ({node_id})")
    return column_lineage_rows(conn, row.id, declared)


def events(
    conn: Connection, after_id: int | None, limit: int | None, run_id: str | None
) -> Iterator[dict[str, Any]]:
    query = select(t.Event.id, t.Event.payload).order_by(t.Event.id)
    if after_id is not None:
        query = query.where(t.Event.id > after_id)
    if run_id is not None:
        query = query.where(t.Event.run_id == run_id)
    if limit is not None:
        query = query.limit(limit)
    for _, payload in conn.execute(query):
        yield payload
