"""Facets of the events we emit, as plain JSON dicts: OpenLineage standard facets and ours.

A task process builds its events as plain data (no openlineage-python, pydantic or jsonschema on
capture's path: importing them cost a fresh task process more than the rest of capture). Each
builder returns exactly the dict openlineage-python's facet class serialises to (``None`` fields left
out, the same ``_schemaURL``); ``tests/capture/test_facets.py`` holds every builder to its class.
Events are validated where they are ingested.
"""

from __future__ import annotations

import functools
import traceback
from datetime import datetime
from typing import Any

from airflow_lineage_provider import __version__

PRODUCER = f"https://github.com/airflow-lineage-provider/airflow-lineage-provider/tree/{__version__}"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

# Where our facet schemas live; the tag is the release in which a schema last changed (not the
# package version), so a facet keeps its schema URL until its schema changes.
SCHEMA_BASE = (
    "https://raw.githubusercontent.com/airflow-lineage-provider/airflow-lineage-provider/0.1.0/"
    "airflow_lineage_provider/schemas/"
)
_SPEC = "https://openlineage.io/spec/facets/"

# The schema of each standard facet we build: the version openlineage-python's class names.
SCHEMAS = {
    "ParentRunFacet": "1-2-0",
    "NominalTimeRunFacet": "1-0-1",
    "ProcessingEngineRunFacet": "1-1-1",
    "JobTypeJobFacet": "2-0-4",
    "OwnershipJobFacet": "1-0-1",
    "ErrorMessageRunFacet": "1-0-1",
    "ExtractionErrorRunFacet": "1-1-2",
    "SQLJobFacet": "1-1-0",
    "ColumnLineageDatasetFacet": "1-2-0",
    "OutputStatisticsOutputDatasetFacet": "1-0-2",
    "SchemaDatasetFacet": "1-2-0",
    "DatasetTypeDatasetFacet": "1-0-1",
    "DatasetVersionDatasetFacet": "1-0-1",
}


def schema_url(name: str) -> str:
    """``_schemaURL`` of the standard facet ``name`` (a key of :data:`SCHEMAS`)."""
    return f"{_SPEC}{SCHEMAS[name]}/{name}.json#/$defs/{name}"


def facet(schema: str, /, **fields: Any) -> dict[str, Any]:
    """A facet dict: ``_producer``, ``_schemaURL`` (a full URL) and the fields that are not None."""
    return {
        "_producer": PRODUCER,
        "_schemaURL": schema,
        **{key: value for key, value in fields.items() if value is not None},
    }


def standard(facet_name: str, /, **fields: Any) -> dict[str, Any]:
    """The standard OpenLineage facet ``facet_name`` with ``fields``."""
    return facet(schema_url(facet_name), **fields)


def ours(facet_name: str, schema_file: str, /, **fields: Any) -> dict[str, Any]:
    """One of our ``airflowLineage_*`` facets: its schema is ``$defs/<facet_name>`` of ``schema_file``."""
    return facet(f"{SCHEMA_BASE}{schema_file}#/$defs/{facet_name}", **fields)


def task_facet(
    dag_id: str,
    task_id: str,
    run_id: str,
    try_number: int,
    map_index: int,
    operator: str | None,
    hostname: str | None,
) -> dict[str, Any]:
    """``airflowLineage_task``: the Airflow task attempt behind a run."""
    name = "AirflowLineageTaskRunFacet"
    return ours(
        name,
        f"{name}.json",
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        try_number=try_number,
        map_index=map_index,
        operator=operator,
        hostname=hostname,
    )


@functools.cache
def airflow_version() -> str:
    import airflow

    return str(getattr(airflow, "__version__", "unknown"))


def processing_engine() -> dict[str, Any]:
    return standard(
        "ProcessingEngineRunFacet",
        version=airflow_version(),
        name="Airflow",
        openlineageAdapterVersion=__version__,
    )


def nominal_time(start: datetime, end: datetime | None) -> dict[str, Any]:
    return standard(
        "NominalTimeRunFacet",
        nominalStartTime=start.isoformat(),
        nominalEndTime=end.isoformat() if end is not None else None,
    )


def parent(namespace: str, dag_id: str, dag_run_uuid: str) -> dict[str, Any]:
    """The DAG run as parent and root of a task run."""
    run, job = {"runId": dag_run_uuid, "facets": {}}, {"namespace": namespace, "name": dag_id, "facets": {}}
    return standard("ParentRunFacet", run=run, job=job, root={"run": dict(run), "job": dict(job)})


def job_type(kind: str) -> dict[str, Any]:
    """``jobType`` of an Airflow ``TASK`` or ``DAG``."""
    return standard("JobTypeJobFacet", processingType="BATCH", integration="AIRFLOW", jobType=kind)


def owners(owner: object) -> tuple[str, ...]:
    """The names in Airflow's comma-separated ``owner`` string (a task's ``owner``, a DAG's
    ``owner``), stripped, each once, sorted; none for anything but a string."""
    if not isinstance(owner, str):
        return ()
    return tuple(sorted({name.strip() for name in owner.split(",")} - {""}))


def ownership(names: tuple[str, ...]) -> dict[str, Any]:
    """``ownership`` of a job: each owner by name (no ``type``: Airflow's owner has none, and the
    official OpenLineage provider sends none either)."""
    return standard("OwnershipJobFacet", owners=[{"name": name} for name in names])


def error_message(error: BaseException | str) -> dict[str, Any]:
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    else:
        message, stack = str(error), None
    return standard("ErrorMessageRunFacet", message=message, programmingLanguage="python", stackTrace=stack)


def extraction_error(total: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return standard(
        "ExtractionErrorRunFacet", totalTasks=max(total, len(errors)), failedTasks=len(errors), errors=errors
    )


def error(
    message: str, task: str | None = None, number: int | None = None, stack: str | None = None
) -> dict[str, Any]:
    """One entry of ``extractionError``: what was attempted and what went wrong."""
    found = {"errorMessage": message, "stackTrace": stack, "task": task, "taskNumber": number}
    return {key: value for key, value in found.items() if value is not None}


def failure(what: str, exc: BaseException, number: int | None = None) -> dict[str, Any]:
    """One extraction error: what was attempted and the exception it raised."""
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return error(f"{type(exc).__name__}: {exc}", what, number, stack)


def sql(query: str, dialect: str | None) -> dict[str, Any]:
    return standard("SQLJobFacet", query=query, dialect=dialect)


def column_lineage(fields: dict[str, Any]) -> dict[str, Any]:
    """``columnLineage`` of an output: ``fields`` maps a column to ``{"inputFields": [...]}``."""
    return standard("ColumnLineageDatasetFacet", fields=fields, dataset=[])


def output_statistics(row_count: int) -> dict[str, Any]:
    return standard("OutputStatisticsOutputDatasetFacet", rowCount=row_count)


def schema(columns: list[tuple[str, str | None]]) -> dict[str, Any]:
    """``schema`` of a dataset from (name, type) pairs."""
    fields = [{"name": name, **({"type": kind} if kind else {}), "fields": []} for name, kind in columns]
    return standard("SchemaDatasetFacet", fields=fields)


def dataset_type(kind: str) -> dict[str, Any]:
    return standard("DatasetTypeDatasetFacet", datasetType=kind)


def dataset_version(version: str) -> dict[str, Any]:
    return standard("DatasetVersionDatasetFacet", datasetVersion=version)
