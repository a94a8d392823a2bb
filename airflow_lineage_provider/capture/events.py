"""Build the OpenLineage run events of task attempts and DAG runs, as plain JSON dicts.

Each event is what openlineage-python's ``RunEvent`` serialises to (validated where it is
ingested, not here: see :mod:`airflow_lineage_provider.emit.spool`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.runinfo import DagRunInfo, TaskRunInfo

START, COMPLETE, FAIL, ABORT = "START", "COMPLETE", "FAIL", "ABORT"


def _time_facets(dag_run: DagRunInfo) -> dict[str, Any]:
    if dag_run.nominal_start is None:
        return {}
    return {"nominalTime": facets.nominal_time(dag_run.nominal_start, dag_run.nominal_end)}


def _ownership(owners: tuple[str, ...]) -> dict[str, Any]:
    return {"ownership": facets.ownership(owners)} if owners else {}


def _event(
    event_type: str,
    run: dict[str, Any],
    job: dict[str, Any],
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "eventTime": datetime.now(timezone.utc).isoformat(),
        "producer": facets.PRODUCER,
        "schemaURL": facets.RUN_EVENT_SCHEMA,
        "run": run,
        "job": job,
        "eventType": event_type,
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def task_event(
    info: TaskRunInfo,
    event_type: str,
    lineage: Lineage | None = None,
    error: BaseException | str | None = None,
) -> dict[str, Any]:
    """The event of one task attempt: job ``<dag_id>.<task_id>``, child of the DAG run."""
    lineage = lineage or Lineage()
    dag_run = info.dag_run
    run_facets: dict[str, Any] = {
        **lineage.all_run_facets(),
        "parent": facets.parent(dag_run.namespace, dag_run.dag_id, dag_run.run_uuid),
        **_time_facets(dag_run),
        "processing_engine": facets.processing_engine(),
        "airflowLineage_task": facets.task_facet(
            dag_run.dag_id,
            info.task_id,
            dag_run.run_id,
            info.try_number,
            info.map_index,
            info.operator,
            info.hostname,
        ),
    }
    if error is not None:
        run_facets["errorMessage"] = facets.error_message(error)
    job_facets = {**lineage.job_facets, "jobType": facets.job_type("TASK"), **_ownership(info.owners)}
    return _event(
        event_type,
        {"runId": info.run_uuid, "facets": run_facets},
        {"namespace": dag_run.namespace, "name": info.job_name, "facets": job_facets},
        lineage.input_datasets(),
        lineage.output_datasets(),
    )


def dag_event(info: DagRunInfo, event_type: str, message: str | None = None) -> dict[str, Any]:
    """The event of a DAG run: job ``<dag_id>``, parent of its task runs."""
    run_facets: dict[str, Any] = {**_time_facets(info), "processing_engine": facets.processing_engine()}
    if message is not None and event_type == FAIL:
        run_facets["errorMessage"] = facets.error_message(message)
    return _event(
        event_type,
        {"runId": info.run_uuid, "facets": run_facets},
        {
            "namespace": info.namespace,
            "name": info.job_name,
            "facets": {"jobType": facets.job_type("DAG"), **_ownership(info.owners)},
        },
    )
