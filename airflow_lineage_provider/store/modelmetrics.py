"""The metrics of model versions: logged naming the model, or by the run that wrote the version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.store import provenance, runrecords
from airflow_lineage_provider.store import tables as t

MODEL_TYPE = "MODEL"
METRICS_TYPE = "METRICS"


def _sole_models(conn: Connection, run_ids: set[str]) -> dict[str, int]:
    """Of these runs, those that wrote exactly one model: run id -> the model's dataset key."""
    rows = conn.execute(
        select(t.RunIO.run_id, t.RunIO.dataset_id)
        .join(t.Node, t.Node.id == t.RunIO.dataset_id)
        .where(t.RunIO.run_id.in_(sorted(run_ids)), t.RunIO.direction == "output", t.Node.type == MODEL_TYPE)
    ).all()
    models: dict[str, set[int]] = {}
    for r in rows:
        models.setdefault(r.run_id, set()).add(int(r.dataset_id))
    return {run_id: next(iter(found)) for run_id, found in models.items() if len(found) == 1}


def metrics_of(
    conn: Connection, models: list[tuple[Any, str]], shown: provenance.Shown
) -> dict[int, list[dict[str, Any]]]:
    """Metrics of each (model row, version), oldest first, by the model's key.

    A model version's metrics are those logged naming it (``ml.log_metrics(model=...)``) and those
    logged naming no model by the run that wrote that version, when that run wrote no other model;
    of runs the reader may see (``shown``)."""
    found: dict[int, list[dict[str, Any]]] = {m.id: [] for m, _ in models}
    if not models:
        return found
    named = {(m.namespace, m.name): (m.id, version) for m, version in models}
    writers = {run: m.id for m, version in models if (run := provenance.producer(conn, m.id, version))}
    sole = _sole_models(conn, set(writers)) if writers else {}
    rows = conn.execute(
        select(
            t.DatasetVersion.facets,
            t.DatasetVersion.run_id,
            t.DatasetVersion.created_at,
            t.Node.namespace,
            t.Node.name,
        )
        .join(t.Node, t.Node.id == t.DatasetVersion.dataset_id)
        .where(t.Node.type == METRICS_TYPE)
        .order_by(t.DatasetVersion.created_at, t.DatasetVersion.id)
    ).all()
    for r in rows:
        if not r.run_id or not shown(r.run_id):
            continue
        facet = (r.facets or {}).get(runrecords.METRICS) or {}
        target = facet.get("model") or {}
        if target:
            pk, version = named.get((target.get("namespace"), target.get("name")), (None, None))
            if pk is None or target.get("version") not in (None, version):
                continue
        else:  # logged naming no model: the model of its run, when the run wrote that one only
            pk = writers.get(r.run_id)
            if pk is None or sole.get(r.run_id) != pk:
                continue
        found[pk].append(
            {
                "id": node_text("dataset", r.namespace, r.name),
                "runId": r.run_id,
                "recordedAt": iso(r.created_at),
                "values": facet.get("values") or {},
                "dataset": facet.get("dataset"),
            }
        )
    return found
