"""Marquez API v1 objects: namespaces, datasets and their versions, jobs, runs, search, events.

Field names are Marquez's (camelCase on the wire); the store fills them
(:mod:`airflow_lineage_provider.store.marquez`). Values we do not track carry Marquez's empty value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from airflow_lineage_provider.core.nesting import clip

# Free-form JSON from stored events, held to the nesting limit every response shares (core.nesting).
JsonObject = Annotated[dict[str, Any], AfterValidator(clip)]
JsonList = Annotated[list[Any], AfterValidator(clip)]
JsonObjects = Annotated[list[dict[str, Any]], AfterValidator(clip)]


class Model(BaseModel):
    """Base of every response model: snake_case in Python, camelCase in JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class NamespaceResponse(Model):
    name: str
    created_at: str | None
    updated_at: str | None
    owner_name: str | None
    description: str | None
    is_hidden: bool = False


class NamespaceCollectionResponse(Model):
    namespaces: list[NamespaceResponse]
    total_count: int


class DatasetId(Model):
    namespace: str
    name: str


class DatasetVersionId(DatasetId):
    version: str | None


class JobId(DatasetId):
    pass


class JobVersionId(DatasetId):
    version: str | None


class FieldResponse(Model):
    name: str
    type: str | None
    tags: list[str] = []
    description: str | None


class DatasetResponse(Model):
    id: DatasetId
    type: str
    name: str
    physical_name: str
    created_at: str | None
    updated_at: str | None
    namespace: str
    source_name: str
    fields: list[FieldResponse]
    tags: list[str]
    last_modified_at: str | None
    last_lifecycle_state: str | None
    description: str | None
    current_version: str | None
    column_lineage: JsonObjects | None
    facets: JsonObject
    deleted: bool
    restricted: bool = Field(
        False,
        description="Something stored about this dataset came from runs you may not read: facets, "
        "fields, versions and current version are those of the runs you may read only.",
    )


class DatasetCollectionResponse(Model):
    total_count: int
    datasets: list[DatasetResponse]


class DatasetVersionRef(Model):
    dataset_version_id: DatasetVersionId
    facets: JsonObject


class RunResponse(Model):
    id: str
    created_at: str | None
    updated_at: str | None
    nominal_start_time: str | None
    nominal_end_time: str | None
    state: str = Field(description="NEW, RUNNING, COMPLETED, FAILED or ABORTED")
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    args: JsonObject
    job_version: JobVersionId | None
    input_dataset_versions: list[DatasetVersionRef]
    output_dataset_versions: list[DatasetVersionRef]
    parent_run_id: str | None
    context: JsonObject
    facets: JsonObject
    normalised: JsonObjects = Field(
        [], description="What ingest read leniently in this run's events: eventType, eventTime, field, note."
    )
    assertions: JsonObjects = Field(
        [],
        description="Data quality assertions the run reported (dataQualityAssertions), per dataset: "
        "dataset, runId, version, time, failing, total, assertions.",
    )
    tests: JsonObjects = Field([], description="The run's test results (TestRunFacet's tests).")
    root: JsonObject | None = Field(
        None, description="The root run of this run's hierarchy (ParentRunFacet 1-2-0): runId, job."
    )
    parameters: JsonObjects = Field(
        [], description="Execution parameters (ExecutionParametersRunFacet): key, name, value, ..."
    )


class RunCollectionResponse(Model):
    total_count: int
    runs: list[RunResponse]


class DatasetVersionResponse(Model):
    id: DatasetVersionId
    type: str
    name: str
    physical_name: str
    created_at: str | None
    version: str
    namespace: str
    source_name: str
    fields: list[FieldResponse]
    tags: list[str]
    lifecycle_state: str | None
    description: str | None
    created_by_run_uuid: str | None
    created_by_run: RunResponse | None
    facets: JsonObject
    assertions: JsonObjects = Field(
        [],
        description="Data quality assertions reported on this version (dataQualityAssertions), newest "
        "first: runId, version, time, failing, total, assertions.",
    )
    column_lineage: JsonObjects | None
    fingerprint: JsonObject | None = Field(
        None, description="The content fingerprint the version was written with (airflowLineage_fingerprint)."
    )
    unchanged: bool | None = Field(
        None,
        description="True when the fingerprint equals the previous version's, false when it differs, "
        "null when they cannot be compared.",
    )
    changed_before_read: list[str] = Field(
        [], description="Runs that read this version with another fingerprint (changed between the tasks)."
    )


class DatasetVersionCollectionResponse(Model):
    total_count: int
    versions: list[DatasetVersionResponse]


class JobResponse(Model):
    id: JobId
    type: Literal["BATCH", "STREAM", "SERVICE"]
    job_type: str | None = Field(description="OpenLineage jobType facet: TASK, DAG, QUERY, ...")
    name: str
    simple_name: str
    parent_job_name: str | None
    parent_job_uuid: str | None
    created_at: str | None
    updated_at: str | None
    namespace: str
    inputs: list[DatasetId]
    outputs: list[DatasetId]
    location: str | None
    description: str | None
    latest_run: RunResponse | None
    latest_runs: list[RunResponse]
    facets: JsonObject
    current_version: str | None
    labels: list[str]
    tags: list[str]


class JobCollectionResponse(Model):
    total_count: int
    jobs: list[JobResponse]


class SearchResult(Model):
    type: Literal["DATASET", "JOB", "RUN"] = Field(
        description="RUN (our extension): the text is the id of a run, e.g. a served prediction's trace id; "
        "name and namespace are its job's."
    )
    name: str
    updated_at: str | None
    namespace: str
    node_id: str


class SearchResultCollectionResponse(Model):
    total_count: int
    results: list[SearchResult]


class LineageEventCollectionResponse(Model):
    total_count: int
    events: list[JsonObject] = Field(description="Raw OpenLineage events, as received.")
    normalised: JsonObjects = Field(
        [],
        description="What ingest read leniently in the events of this page: index (in events), field, note.",
    )
