"""OpenLineage ingest, compatible with what producers send to Marquez (``POST /api/v1/lineage``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from airflow_lineage_provider.api.datamodels.graph import ErrorResponse, IngestResponse, NormalisationResponse
from airflow_lineage_provider.api.deps import EditorDep, StoreDep
from airflow_lineage_provider.api.payload import MAX_BODY_BYTES, EventBatch, OneEvent
from airflow_lineage_provider.store.lineagestore import RecordResult

router = APIRouter(prefix="/api/v1/lineage", tags=["OpenLineage ingest"])

_DATASET = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": {"type": "object"}},
}
EVENT_SCHEMA: dict[str, Any] = {
    "title": "OpenLineage event",
    "description": "A RunEvent, DatasetEvent or JobEvent of the OpenLineage spec "
    "(https://openlineage.io/spec/2-0-2/OpenLineage.json); facets are free-form objects. Read as "
    "leniently as Marquez reads it: an absent schemaURL is filled in from the event's shape, a time "
    "without a zone is UTC, `#/definitions/` and `#/$defs/` schemaURLs of any spec version 1-0-0 and "
    "later name the event type; the response lists each such reading (`normalised`).",
    "type": "object",
    "required": ["eventTime", "producer"],
    "properties": {
        "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string"},
        "schemaURL": {"type": "string"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": {"type": "object"}},
        },
        "job": _DATASET,
        "dataset": _DATASET,
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON, or not an object/array", "model": ErrorResponse},
    401: {"description": "No or expired token"},
    403: {"description": "Invalid token, or no permission to edit every DAG"},
    413: {"description": f"Body over {MAX_BODY_BYTES} bytes (also after gzip decompression)"},
    415: {"description": "Unsupported Content-Encoding (only gzip)"},
    422: {
        "description": "An event is not valid OpenLineage; field and index name it",
        "model": ErrorResponse,
    },
    503: {"description": "The lineage store is unavailable", "model": ErrorResponse},
}


def _response(result: RecordResult) -> IngestResponse:
    notes = [NormalisationResponse.model_validate(note) for note in result.normalised]
    return IngestResponse(stored=result.stored, duplicates=result.duplicates, normalised=notes or None)


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    response_model_exclude_none=True,
    openapi_extra=_body(EVENT_SCHEMA),
    summary="Record one OpenLineage event",
)
def record_event(_: EditorDep, event: OneEvent, store: StoreDep) -> IngestResponse:
    """Validate and store one event; storing the same event again changes nothing (``duplicates: 1``)."""
    return _response(store.record_many([event]))


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    response_model_exclude_none=True,
    openapi_extra=_body({"type": "array", "items": EVENT_SCHEMA}),
    summary="Record a JSON array of OpenLineage events, all or nothing",
)
def record_batch(_: EditorDep, events: EventBatch, store: StoreDep) -> IngestResponse:
    """Validate every event first; if one is invalid (422, ``index`` names it) nothing is stored."""
    return _response(store.record_many(events))
