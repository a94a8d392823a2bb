"""Approvals of model versions: recorded as OpenLineage DatasetEvents, so they are raw events too.

An approval is a DatasetEvent on the model dataset with an ``airflowLineage_approval`` facet
(who, why, under which framework, which model version). Like every raw event it is append-only and
part of the hash chain; the store derives one ``lineage_approvals`` row from it. Nothing updates or
deletes an approval: a withdrawn approval is a new event, not an edit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider import __version__
from airflow_lineage_provider.core.events import ParsedEvent, iso, parse_time
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.upserts import insert

FACET = "airflowLineage_approval"
PRODUCER = f"https://github.com/airflow-lineage-provider/airflow-lineage-provider/tree/{__version__}"
SCHEMA_URL = (
    "https://raw.githubusercontent.com/airflow-lineage-provider/airflow-lineage-provider/0.1.0/"
    "airflow_lineage_provider/schemas/AirflowLineageApprovalDatasetFacet.json"
    "#/$defs/AirflowLineageApprovalDatasetFacet"
)
DATASET_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"


def approval_event(
    namespace: str, name: str, version: str, by: str, reason: str, framework: str | None, when: datetime
) -> dict[str, Any]:
    """The DatasetEvent that records one approval of ``version`` of a model dataset."""
    stamp = when.isoformat()
    facet: dict[str, Any] = {
        "_producer": PRODUCER,
        "_schemaURL": SCHEMA_URL,
        "approvedBy": by,
        "reason": reason,
        "modelVersion": version,
        "approvedAt": stamp,
    }
    if framework is not None:
        facet["framework"] = framework
    return {
        "eventTime": stamp,
        "producer": PRODUCER,
        "schemaURL": DATASET_EVENT,
        "dataset": {"namespace": namespace, "name": name, "facets": {FACET: facet}},
    }


def apply(conn: Connection, dataset_id: int, event: ParsedEvent) -> None:
    """Derive the approval row of a stored DatasetEvent that carries an approval facet."""
    facet = ((event.payload.get("dataset") or {}).get("facets") or {}).get(FACET)
    if not isinstance(facet, dict):
        return
    by, reason = facet.get("approvedBy"), facet.get("reason")
    if not isinstance(by, str) or not by.strip() or not isinstance(reason, str) or not reason.strip():
        return  # not a complete approval: it stays a facet of the node, nothing more
    framework = facet.get("framework")
    version = facet.get("modelVersion")
    stmt = insert(conn, t.Approval).values(
        event_key=event.key,
        dataset_id=dataset_id,
        version=str(version)[:64] if version is not None else None,
        approved_by=by,
        reason=reason,
        framework=str(framework)[:32] if framework is not None else None,
        approved_at=parse_time(str(facet.get("approvedAt") or "")) or event.event_time,
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["event_key"]))


def listing(conn: Connection, dataset_id: int, version: str | None = None) -> list[dict[str, Any]]:
    """Approvals of a model, oldest first (of one version when ``version`` is given)."""
    query = select(t.Approval).where(t.Approval.dataset_id == dataset_id)
    if version is not None:
        query = query.where(t.Approval.version == version)
    return [
        {
            "version": row.version,
            "approvedBy": row.approved_by,
            "reason": row.reason,
            "framework": row.framework,
            "approvedAt": iso(row.approved_at),
        }
        for row in conn.execute(query.order_by(t.Approval.approved_at, t.Approval.id))
    ]
