"""Facets of the events we emit: OpenLineage standard facets and our ``airflowLineage_task``."""

from __future__ import annotations

import functools
import traceback
from datetime import datetime

import attr
from openlineage.client.facet_v2 import (
    RunFacet,
    error_message_run,
    extraction_error_run,
    job_type_job,
    nominal_time_run,
    parent_run,
    processing_engine_run,
)

from airflow_lineage_provider import __version__

PRODUCER = f"https://github.com/airflow-lineage-provider/airflow-lineage-provider/tree/{__version__}"

# Where our facet schemas live; the tag is the release in which a schema last changed (not the
# package version), so a facet keeps its schema URL until its schema changes.
SCHEMA_BASE = (
    "https://raw.githubusercontent.com/airflow-lineage-provider/airflow-lineage-provider/0.1.0/"
    "airflow_lineage_provider/schemas/"
)


@attr.define
class AirflowLineageTaskRunFacet(RunFacet):
    """``airflowLineage_task``: the Airflow task attempt behind a run."""

    dag_id: str
    task_id: str
    run_id: str
    try_number: int
    map_index: int
    operator: str | None = attr.field(default=None)
    hostname: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_BASE + "AirflowLineageTaskRunFacet.json#/$defs/AirflowLineageTaskRunFacet"


@functools.cache
def airflow_version() -> str:
    import airflow

    return str(getattr(airflow, "__version__", "unknown"))


def processing_engine() -> processing_engine_run.ProcessingEngineRunFacet:
    return processing_engine_run.ProcessingEngineRunFacet(
        version=airflow_version(), name="Airflow", openlineageAdapterVersion=__version__, producer=PRODUCER
    )


def nominal_time(start: datetime, end: datetime | None) -> nominal_time_run.NominalTimeRunFacet:
    return nominal_time_run.NominalTimeRunFacet(
        nominalStartTime=start.isoformat(),
        nominalEndTime=end.isoformat() if end is not None else None,
        producer=PRODUCER,
    )


def parent(namespace: str, dag_id: str, dag_run_uuid: str) -> parent_run.ParentRunFacet:
    """The DAG run as parent and root of a task run."""
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dag_run_uuid),
        job=parent_run.Job(namespace=namespace, name=dag_id),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=dag_run_uuid),
            job=parent_run.RootJob(namespace=namespace, name=dag_id),
        ),
        producer=PRODUCER,
    )


def job_type(kind: str) -> job_type_job.JobTypeJobFacet:
    """``jobType`` of an Airflow ``TASK`` or ``DAG``."""
    return job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="AIRFLOW", jobType=kind, producer=PRODUCER
    )


def error_message(error: BaseException | str) -> error_message_run.ErrorMessageRunFacet:
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    else:
        message, stack = str(error), None
    return error_message_run.ErrorMessageRunFacet(
        message=message, programmingLanguage="python", stackTrace=stack, producer=PRODUCER
    )


def extraction_error(
    total: int, errors: list[extraction_error_run.Error]
) -> extraction_error_run.ExtractionErrorRunFacet:
    return extraction_error_run.ExtractionErrorRunFacet(
        totalTasks=max(total, len(errors)), failedTasks=len(errors), errors=errors, producer=PRODUCER
    )


def failure(what: str, exc: BaseException, number: int | None = None) -> extraction_error_run.Error:
    """One extraction error: what was attempted and the exception it raised."""
    return extraction_error_run.Error(
        errorMessage=f"{type(exc).__name__}: {exc}",
        stackTrace="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        task=what,
        taskNumber=number,
    )
