"""Responses and requests of the model routes (``/api/v1/ml/...``); camelCase on the wire.

Nested objects are those of :class:`airflow_lineage_provider.store.ml.MLLineage` (documented there).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from airflow_lineage_provider.api.datamodels.catalog import JsonObject, JsonObjects, Model
from airflow_lineage_provider.core.frameworks import FRAMEWORKS
from airflow_lineage_provider.core.nesting import clip

Framework = Literal[FRAMEWORKS]  # type: ignore[valid-type]


class ModelSummary(Model):
    id: str
    namespace: str
    name: str
    current_version: str | None
    framework: str | None
    metrics: dict[str, Any] = Field(
        description="Metric values of the current version: logged naming the model, or in the run "
        "that wrote it when it wrote no other model (later values win)."
    )
    deployments: JsonObjects = Field(
        description="Deployments of the model's versions (ml.log_deployment), oldest first: deployment, "
        "modelVersion, target, environment, traffic, previousTraffic (the same version's share on the "
        "same target before; null the first time), deployedBy, deployedAt, runId."
    )
    updated_at: str | None


class ProvenanceResponse(Model):
    root: str
    type: str | None
    version: str
    steps: JsonObjects = Field(
        description="Runs, nearest first: runId, job, state, startedAt, endedAt, inputs "
        "[{id, type, version, producedBy, observedVersion?, origin?}], outputs [{id, type, version}]. "
        "observedVersion: the version a label no run wrote stood for (current when it was read); "
        "origin, when producedBy is null: source (no recorded run writes the dataset) or unproduced "
        "(runs write it, none that version before it was read) or restricted (a run the reader may "
        "not see wrote the version read: version and run are not shown)."
    )
    sources: list[str] = Field(description="Inputs no recorded run writes (raw sources).")
    unproduced_inputs: list[str] = Field(
        description="'<id> @ <version>' of inputs read at a version no recorded run produced, "
        "although recorded runs write the dataset."
    )
    unversioned_inputs: list[str]
    changed_before_read: list[str] = Field(
        [],
        description="'<id> @ <version>' of inputs read with another content fingerprint than their "
        "producer wrote (the data changed between the two tasks); each such input is marked "
        "changedBeforeRead with fingerprint (read) and writtenFingerprint.",
    )
    is_partial: bool


class ModelImpactResponse(Model):
    root: str
    version: str | None
    models: JsonObjects = Field(description="Model versions downstream: id, version, runId, job.")
    steps: JsonObjects
    is_partial: bool


class ReproducibleResponse(Model):
    model: str
    version: str
    run_id: str | None
    reproducible: bool
    checks: JsonObjects = Field(description="check, ok, required, detail (what is missing when not ok).")
    missing: list[str] = []


class DiffResponse(Model):
    run_a: JsonObject
    run_b: JsonObject
    identical: bool
    differences: Annotated[dict[str, list[dict[str, Any]]], AfterValidator(clip)] = Field(
        description="By section (inputs, code, params, environment, hardware, seeds, hyperparameters, "
        "metrics): [{key, a, b}], empty where the runs agree."
    )


class RunRecordResponse(Model):
    model_config = ConfigDict(
        extra="allow", alias_generator=Model.model_config.get("alias_generator"), populate_by_name=True
    )
    run_id: str
    job: str
    state: str
    recorded: bool

    @model_validator(mode="before")
    @classmethod
    def _clip(cls, data: Any) -> Any:
        return clip(data)


class ApprovalResponse(Model):
    version: str | None
    approved_by: str
    reason: str
    framework: str | None
    approved_at: str | None


class ApprovalCollectionResponse(Model):
    approvals: list[ApprovalResponse]


class ApprovalRequest(Model):
    model_config = ConfigDict(
        extra="forbid", alias_generator=Model.model_config.get("alias_generator"), populate_by_name=True
    )
    node_id: str = Field(min_length=1, max_length=4096, description="dataset:<namespace>:<name> of a model")
    reason: str = Field(min_length=1, max_length=10_000)
    framework: Framework | None = None
    version: str | None = Field(None, min_length=1, max_length=64, description="Default: the current version")


class ApprovedResponse(ApprovalResponse):
    model: str


class ArtifactsResponse(Model):
    root: str
    version: str
    ok: bool = Field(description="False when an artifact changed or is missing since it was recorded.")
    counts: dict[str, int] = Field(description="How many artifacts have each status.")
    artifacts: JsonObjects = Field(
        description="id, version, status (matches, changed, missing, not checkable), detail (the "
        "reason), recordedBy (which run read or wrote it), fingerprint (the one recorded)."
    )
    changed_before_read: list[str]
    is_partial: bool


class VerifyResponse(Model):
    ok: bool
    checked: int
    first_bad_event_id: int | None
    first_bad_event_key: str | None
    problem: str | None


class TraceResponse(Model):
    trace_id: str
    predictions: JsonObject = Field(description="dataset, count, batches, first, last")
    deployment: JsonObject | None = Field(
        description="The latest deployment of the model version to the target that served the predictions."
    )
    model: JsonObject | None = Field(description="id and version of the model version that served them.")
    training_run_id: str | None
    provenance: ProvenanceResponse = Field(
        description="From the latest predictions batch: the serving run, the deploying runs, the training "
        "run, down to the raw sources."
    )


class ModelCollectionResponse(Model):
    models: list[ModelSummary]
