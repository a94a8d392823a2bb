"""Build the OpenLineage run events of task attempts and DAG runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.runinfo import DagRunInfo, TaskRunInfo


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _time_facets(dag_run: DagRunInfo) -> dict[str, Any]:
    if dag_run.nominal_start is None:
        return {}
    return {"nominalTime": facets.nominal_time(dag_run.nominal_start, dag_run.nominal_end)}


def task_event(
    info: TaskRunInfo,
    event_type: RunState,
    lineage: Lineage | None = None,
    error: BaseException | str | None = None,
) -> RunEvent:
    """The event of one task attempt: job ``<dag_id>.<task_id>``, child of the DAG run."""
    lineage = lineage or Lineage()
    dag_run = info.dag_run
    run_facets: dict[str, Any] = {
        **lineage.all_run_facets(),
        "parent": facets.parent(dag_run.namespace, dag_run.dag_id, dag_run.run_uuid),
        **_time_facets(dag_run),
        "processing_engine": facets.processing_engine(),
        "airflowLineage_task": facets.AirflowLineageTaskRunFacet(
            dag_id=dag_run.dag_id,
            task_id=info.task_id,
            run_id=dag_run.run_id,
            try_number=info.try_number,
            map_index=info.map_index,
            operator=info.operator,
            hostname=info.hostname,
            producer=facets.PRODUCER,
        ),
    }
    if error is not None:
        run_facets["errorMessage"] = facets.error_message(error)
    job_facets = {**lineage.job_facets, "jobType": facets.job_type("TASK")}
    return RunEvent(
        eventType=event_type,
        eventTime=_now(),
        run=Run(runId=info.run_uuid, facets=run_facets),
        job=Job(namespace=dag_run.namespace, name=info.job_name, facets=job_facets),
        inputs=lineage.input_datasets(),
        outputs=lineage.output_datasets(),
        producer=facets.PRODUCER,
    )


def dag_event(info: DagRunInfo, event_type: RunState, message: str | None = None) -> RunEvent:
    """The event of a DAG run: job ``<dag_id>``, parent of its task runs."""
    run_facets: dict[str, Any] = {**_time_facets(info), "processing_engine": facets.processing_engine()}
    if message is not None and event_type == RunState.FAIL:
        run_facets["errorMessage"] = facets.error_message(message)
    return RunEvent(
        eventType=event_type,
        eventTime=_now(),
        run=Run(runId=info.run_uuid, facets=run_facets),
        job=Job(namespace=info.namespace, name=info.job_name, facets={"jobType": facets.job_type("DAG")}),
        producer=facets.PRODUCER,
    )
