"""Model deployments (``ml.log_deployment``) and served predictions (``airflow_lineage_provider.serving``).

A deployment is a dataset typed ``DEPLOYMENT`` written by a run that read the model version it
deployed; each deploying run is a version of it, whose ``airflowLineage_deployment`` facet says the
target, environment, traffic share, who and when. A served model's predictions are versions of a
dataset typed ``PREDICTIONS`` written by a serving run (its id is the trace id the service put on its
responses) that read the deployment and the model version; so "prediction -> deployment -> model
version -> training run -> training data -> raw sources" is the provenance of a predictions version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.facetviews import obj
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import provenance
from airflow_lineage_provider.store import tables as t

DEPLOYMENT_TYPE = "DEPLOYMENT"
PREDICTIONS_TYPE = "PREDICTIONS"
DEPLOYMENT = "airflowLineage_deployment"
PREDICTIONS = "airflowLineage_predictions"


def deployments_of(
    conn: Connection, model_pks: list[int], shown: provenance.Shown
) -> dict[int, list[dict[str, Any]]]:
    """Each model's deployments, oldest first, by the model's key: one entry per deploying run the
    reader may see (``shown``), with the traffic share the same model version had on the same target
    before (``previousTraffic``, None the first time)."""
    found: dict[int, list[dict[str, Any]]] = {pk: [] for pk in model_pks}
    if not model_pks:
        return found
    read, wrote, deployed = aliased(t.RunIO), aliased(t.RunIO), aliased(t.Node)
    dv = t.DatasetVersion
    rows = conn.execute(
        select(read.dataset_id, wrote.run_id, deployed.namespace, deployed.name, dv.facets)
        .join(wrote, (wrote.run_id == read.run_id) & (wrote.direction == "output"))
        .join(deployed, (deployed.id == wrote.dataset_id) & (deployed.type == DEPLOYMENT_TYPE))
        .join(dv, (dv.dataset_id == deployed.id) & (dv.run_id == wrote.run_id))
        .where(read.dataset_id.in_(sorted(model_pks)), read.direction == "input")
        .order_by(dv.created_at, dv.id)
    ).all()
    before: dict[tuple[int, str | None, str], Any] = {}
    for r in rows:
        facet = (r.facets or {}).get(DEPLOYMENT)
        if not isinstance(facet, dict) or not shown(r.run_id):
            continue
        version = obj(facet.get("model")).get("version")  # as the deploying task named it
        key = (r.dataset_id, version, node_text("dataset", r.namespace, r.name))
        found[r.dataset_id].append(
            {
                "deployment": key[2],
                "modelVersion": version,
                "target": facet.get("target"),
                "environment": facet.get("environment"),
                "traffic": facet.get("traffic"),
                "previousTraffic": before.get(key),
                "deployedBy": facet.get("deployedBy"),
                "deployedAt": facet.get("deployedAt"),
                "runId": r.run_id,
            }
        )
        before[key] = facet.get("traffic")
    return found


def trace(conn: Connection, trace_id: str, shown: provenance.Shown) -> dict[str, Any]:
    """What a served prediction's trace id leads back to (see the module docstring): the predictions
    recorded under it, the deployment and model version that made them, the run that trained that
    version, and the provenance of the latest predictions batch down to the raw sources."""
    if conn.execute(select(t.Run.run_id).where(t.Run.run_id == trace_id)).first() is None or not shown(
        trace_id
    ):
        raise NodeNotFoundError(f"trace {trace_id}")
    node = t.Node
    io = conn.execute(
        select(t.RunIO.direction, t.RunIO.version, node.id, node.namespace, node.name, node.type)
        .join(node, node.id == t.RunIO.dataset_id)
        .where(t.RunIO.run_id == trace_id)
        .order_by(t.RunIO.event_time, node.id)
    ).all()
    batches = [r for r in io if r.direction == "output" and r.type == PREDICTIONS_TYPE]
    if not batches:
        raise NodeNotFoundError(f"trace {trace_id}: run {trace_id} recorded no predictions")
    written = select(t.DatasetVersion.facets, t.DatasetVersion.created_at).where(
        t.DatasetVersion.run_id == trace_id, t.DatasetVersion.dataset_id == batches[0].id
    )
    facets = [((r.facets or {}).get(PREDICTIONS) or {}, r.created_at) for r in conn.execute(written)]
    model = next((r for r in io if r.direction == "input" and r.type == "MODEL"), None)
    version = None if model is None else provenance.shown_version(conn, model.id, model.version, shown)
    served = {node_text("dataset", r.namespace, r.name) for r in io if r.type == DEPLOYMENT_TYPE}
    deployment, trained = None, None
    if model is not None:
        found = deployments_of(conn, [model.id], shown)[model.id]
        mine = [d for d in found if d["deployment"] in served and d["modelVersion"] == version]
        deployment = mine[-1] if mine and version else None
        trained = provenance.producer(conn, model.id, version, shown) if version else None
    last = batches[-1]
    return {
        "traceId": trace_id,
        "predictions": {
            "dataset": node_text("dataset", last.namespace, last.name),
            "count": sum(int(f.get("count") or 0) for f, _ in facets),
            "batches": len(facets),
            "first": iso(min((when for _, when in facets), default=None)),
            "last": iso(max((when for _, when in facets), default=None)),
        },
        "deployment": deployment,
        "model": None
        if model is None
        else {"id": node_text("dataset", model.namespace, model.name), "version": version},
        "trainingRunId": trained,
        "provenance": {
            "root": node_text("dataset", last.namespace, last.name),
            "type": PREDICTIONS_TYPE,
            "version": last.version,
            **provenance.provenance(conn, last.id, str(last.version), shown),
        },
    }
