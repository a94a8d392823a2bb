"""Model routes: provenance, impact, reproducibility, run diffs, approvals, audit, traces and verification.

All under ``/api/v1/ml``. Reads need a reader of the node asked about (a node you may not see is not
found, 404); recording an approval needs permission to edit every DAG, like ingest, and records the
authenticated user as the approver. ``verify`` checks the whole event log, so it needs a reader of
every DAG; ``verify/artifacts`` fingerprints again the files and tables behind a dataset version the
reader may see (what the API server's host can reach). The answers are those of
:class:`airflow_lineage_provider.store.ml.MLLineage` built with the reader's scope: it chooses
versions and follows runs the reader may read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, Query, Response, status

from airflow_lineage_provider import reports
from airflow_lineage_provider.api.datamodels.graph import ErrorResponse
from airflow_lineage_provider.api.datamodels.ml import (
    ApprovalCollectionResponse,
    ApprovalRequest,
    ApprovedResponse,
    ArtifactsResponse,
    DiffResponse,
    ModelCollectionResponse,
    ModelImpactResponse,
    ProvenanceResponse,
    ReproducibleResponse,
    RunRecordResponse,
    TraceResponse,
    VerifyResponse,
)
from airflow_lineage_provider.api.deps import EditorDep, ScopeDep, StoreDep
from airflow_lineage_provider.core.nesting import clip
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store.catalog import Catalog
from airflow_lineage_provider.store.lineagestore import LineageStore
from airflow_lineage_provider.store.visibility import Scope

router = APIRouter(prefix="/api/v1/ml", tags=["Models"])

NodeParam = Annotated[
    str, Query(alias="nodeId", min_length=1, max_length=4096, description="dataset:<ns>:<name>")
]
VersionParam = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Default: the current one")
]
RunParam = Annotated[str, Query(min_length=1, max_length=64, description="run:<uuid> or a run uuid")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed node id, not a model, or a bad argument", "model": ErrorResponse},
    401: {"description": "No or expired token"},
    403: {"description": "Invalid token, or not permitted"},
    404: {"description": "No such node, version or run (or one you may not see)", "model": ErrorResponse},
    503: {"description": "The lineage store is unavailable", "model": ErrorResponse},
}


def _visible(store: LineageStore, scope: Scope, *node_ids: str) -> None:
    """404 unless the reader may see every node named (a dataset, job or run)."""
    if scope.unrestricted:
        return
    shown = Catalog(store).visible_ids(scope, list(node_ids))
    for node_id in node_ids:
        if node_id not in shown:
            raise NodeNotFoundError(node_id)


def _root(store: LineageStore, scope: Scope, node_id: str) -> str:
    """The canonical id of a stored node, which the reader must be allowed to see (else 404)."""
    try:
        found = str(store.describe(node_id)["id"])
    except NodeNotFoundError as exc:  # suggestions only of what the reader may see
        raise Catalog(store).not_found(scope, exc) from exc
    _visible(store, scope, found)
    return found


@router.get("/models", responses=_ERRORS, summary="Models: datasets typed MODEL")
def get_models(
    scope: ScopeDep,
    store: StoreDep,
    node_id: Annotated[
        str | None,
        Query(
            alias="nodeId", min_length=1, max_length=4096, description="Only this model (dataset:<ns>:<name>)"
        ),
    ] = None,
) -> ModelCollectionResponse:
    if node_id is not None:
        node_id = _root(store, scope, node_id)
    return ModelCollectionResponse.model_validate({"models": store.ml_for(scope).models(node_id=node_id)})


@router.get(
    "/provenance", responses=_ERRORS, summary="Runs and exact input versions behind a dataset version"
)
def get_provenance(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeParam,
    version: VersionParam = None,
    as_of: Annotated[str | None, Query(alias="asOf", max_length=64)] = None,
) -> ProvenanceResponse:
    _root(store, scope, node_id)
    answer = store.ml_for(scope).provenance(node_id, version, as_of)
    return ProvenanceResponse.model_validate(answer)


@router.get(
    "/impact", responses=_ERRORS, summary="Model versions downstream of a dataset (version), with runs"
)
def get_impact(
    scope: ScopeDep, store: StoreDep, node_id: NodeParam, version: VersionParam = None
) -> ModelImpactResponse:
    _root(store, scope, node_id)
    answer = store.ml_for(scope).impact(node_id, version)
    return ModelImpactResponse.model_validate(answer)


@router.get("/reproducible", responses=_ERRORS, summary="Reproducibility checklist of a model version")
def get_reproducible(
    scope: ScopeDep, store: StoreDep, node_id: NodeParam, version: VersionParam = None
) -> ReproducibleResponse:
    _root(store, scope, node_id)
    return ReproducibleResponse.model_validate(store.ml_for(scope).reproducible(node_id, version))


@router.get("/diff", responses=_ERRORS, summary="What differs between two runs")
def get_diff(
    scope: ScopeDep,
    store: StoreDep,
    run_a: Annotated[str, Query(alias="runA", min_length=1, max_length=64)],
    run_b: Annotated[str, Query(alias="runB", min_length=1, max_length=64)],
) -> DiffResponse:
    answer = store.ml.diff(run_a, run_b)
    _visible(store, scope, f"run:{answer['runA']['runId']}", f"run:{answer['runB']['runId']}")
    return DiffResponse.model_validate(answer)


@router.get(
    "/trace/{trace_id}",
    responses=_ERRORS,
    summary="A served prediction's trace id back to its deployment, model version and raw data",
)
def get_trace(scope: ScopeDep, store: StoreDep, trace_id: str) -> TraceResponse:
    return TraceResponse.model_validate(clip(store.ml_for(scope).trace(trace_id)))


@router.get("/runs/{run_id}/record", responses=_ERRORS, summary="Reproducibility record of one run")
def get_run_record(scope: ScopeDep, store: StoreDep, run_id: str) -> RunRecordResponse:
    record = store.ml.run_record(run_id)
    _visible(store, scope, f"run:{record['runId']}")
    return RunRecordResponse.model_validate(record)


@router.get("/approvals", responses=_ERRORS, summary="Approvals of a model, oldest first")
def get_approvals(
    scope: ScopeDep, store: StoreDep, node_id: NodeParam, version: VersionParam = None
) -> ApprovalCollectionResponse:
    _root(store, scope, node_id)
    return ApprovalCollectionResponse.model_validate(
        {"approvals": store.ml_for(scope).approvals(node_id, version)}
    )


@router.post(
    "/approvals",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    summary="Approve a model version (append-only; the approver is the authenticated user)",
)
def post_approval(_: EditorDep, user: GetUserDep, store: StoreDep, body: ApprovalRequest) -> ApprovedResponse:
    done = store.ml.approve(body.node_id, user.get_name(), body.reason, body.framework, body.version)
    return ApprovedResponse.model_validate(done)


@router.get(
    "/audit",
    responses={
        **_ERRORS,
        200: {"content": {"text/markdown": {}, "text/html": {}}, "description": "JSON, Markdown or HTML"},
    },
    summary="Audit report of a model version",
)
def get_audit(
    scope: ScopeDep,
    store: StoreDep,
    node_id: NodeParam,
    version: VersionParam = None,
    output: Annotated[Literal["json", "markdown", "html"], Query(alias="format")] = "json",
) -> Any:
    _root(store, scope, node_id)
    audit = clip(store.ml_for(scope).audit(node_id, version))
    if output == "json":
        return audit
    if output == "html":
        return Response(reports.audit_html(audit), media_type="text/html")
    return Response(reports.audit_markdown(audit), media_type="text/markdown")


@router.get("/verify", responses=_ERRORS, summary="Re-check the hash chain of the raw event log")
def get_verify(scope: ScopeDep, store: StoreDep) -> VerifyResponse:
    if not scope.unrestricted:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Forbidden: verifying the event log needs permission to read every DAG"
        )
    return VerifyResponse.model_validate(store.verify().to_dict())


@router.get(
    "/verify/artifacts",
    responses=_ERRORS,
    summary="Fingerprint again every artifact behind a dataset version: matches, changed, missing",
)
def get_verify_artifacts(
    scope: ScopeDep, store: StoreDep, node_id: NodeParam, version: VersionParam = None
) -> ArtifactsResponse:
    _root(store, scope, node_id)
    return ArtifactsResponse.model_validate(store.ml_for(scope).verify_artifacts(node_id, version))
