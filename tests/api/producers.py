"""Events shaped as real producers send them (dbt, Spark, Flink), each with and without its optional
fields, the lenient forms Marquez accepts, and events that are truly unusable (with the field to name).

Written by hand after the producers' own integration-test events: namespaces, job names, facets and
numbers as they write them, no template placeholders.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
FACETS = "https://openlineage.io/spec/facets"


def _facet(producer: str, schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": f"{FACETS}/1-0-0/{schema}.json", **fields}


def _schema(producer: str, *columns: tuple[str, str]) -> dict[str, Any]:
    return _facet(producer, "SchemaDatasetFacet", fields=[{"name": n, "type": t} for n, t in columns])


def _header(producer: str, event_type: str, time: str, run_id: str, facets: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": producer,
        "schemaURL": f"{SPEC}#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": facets},
    }


def dbt(run_id: str) -> dict[str, Any]:
    p = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt"
    run_facets = {
        "parent": _facet(
            p,
            "ParentRunFacet",
            run={"runId": str(uuid.uuid4())},
            job={"namespace": "dbt", "name": "dbt-run-jaffle_shop"},
        ),
        "dbt_version": {"_producer": p, "_schemaURL": f"{FACETS}/x.json", "version": "1.8.3"},
    }
    return {
        **_header(p, "COMPLETE", "2024-11-05T09:30:12.551234+00:00", run_id, run_facets),
        "job": {
            "namespace": "dbt",
            "name": "jaffle_shop.main.jaffle_shop.orders",
            "facets": {
                "sql": _facet(
                    p, "SQLJobFacet", query="select * from {{ ref('stg_orders') }}", dialect="postgres"
                ),
                "jobType": _facet(
                    p, "JobTypeJobFacet", processingType="BATCH", integration="DBT", jobType="MODEL"
                ),
            },
        },
        "inputs": [
            {
                "namespace": "postgres://localhost:5432",
                "name": "jaffle_shop.main.stg_orders",
                "facets": {"schema": _schema(p, ("order_id", "integer"), ("amount", "numeric"))},
            }
        ],
        "outputs": [
            {
                "namespace": "postgres://localhost:5432",
                "name": "jaffle_shop.main.orders",
                "facets": {
                    "schema": _schema(p, ("order_id", "integer"), ("amount", "numeric")),
                    "dataSource": _facet(p, "DatasourceDatasetFacet", name="postgres://localhost:5432"),
                },
                "outputFacets": {
                    "outputStatistics": _facet(
                        p, "OutputStatisticsOutputDatasetFacet", rowCount=99, size=4096
                    )
                },
            }
        ],
    }


def spark(run_id: str) -> dict[str, Any]:
    p = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark"
    column = {
        "inputFields": [
            {
                "namespace": "s3a://warehouse",
                "name": "/raw/events",
                "field": "value",
                "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": False}],
            }
        ]
    }
    run_facets = {
        "spark_properties": {"_producer": p, "_schemaURL": f"{FACETS}/x.json", "properties": {}},
        "processing_engine": _facet(p, "ProcessingEngineRunFacet", version="3.5.1", name="spark"),
        "spark.logicalPlan": {
            "_producer": p,
            "_schemaURL": f"{FACETS}/x.json",
            "plan": [{"class": "InsertIntoHadoopFsRelationCommand", "num-children": 1, "ratio": 0.25}],
        },
    }
    return {
        **_header(p, "COMPLETE", "2024-11-05T09:31:44.1Z", run_id, run_facets),
        "job": {
            "namespace": "spark_integration",
            "name": "etl_app.execute_insert_into_hadoop_fs_relation_command",
        },
        "inputs": [
            {
                "namespace": "s3a://warehouse",
                "name": "/raw/events",
                "facets": {
                    "symlinks": _facet(
                        p,
                        "SymlinksDatasetFacet",
                        identifiers=[{"namespace": "hive", "name": "raw.events", "type": "TABLE"}],
                    )
                },
            }
        ],
        "outputs": [
            {
                "namespace": "s3a://warehouse",
                "name": "/clean/events",
                "facets": {
                    "columnLineage": _facet(p, "ColumnLineageDatasetFacet", fields={"value": column}),
                    "lifecycleStateChange": _facet(
                        p, "LifecycleStateChangeDatasetFacet", lifecycleStateChange="OVERWRITE"
                    ),
                },
            }
        ],
    }


def flink(run_id: str) -> dict[str, Any]:
    p = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/flink"
    run_facets = {"flink_job": {"_producer": p, "_schemaURL": f"{FACETS}/x.json", "jobId": "a1b2"}}
    return {
        **_header(p, "RUNNING", "2024-11-05T09:32:00.000+01:00", run_id, run_facets),
        "job": {
            "namespace": "flink-jobs",
            "name": "flink_examples_stateful",
            "facets": {
                "jobType": _facet(
                    p, "JobTypeJobFacet", processingType="STREAMING", integration="FLINK", jobType="JOB"
                )
            },
        },
        "inputs": [{"namespace": "kafka://kafka-host:9092", "name": "io.openlineage.flink.kafka.input1"}],
        "outputs": [{"namespace": "kafka://kafka-host:9092", "name": "io.openlineage.flink.kafka.output"}],
    }


def minimal(event: dict[str, Any]) -> dict[str, Any]:
    """The same event without any optional field: no facets, inputs, outputs or eventType."""
    kept = {
        k: copy.deepcopy(v)
        for k, v in event.items()
        if k in ("eventTime", "producer", "schemaURL", "run", "job")
    }
    kept["run"] = {"runId": event["run"]["runId"]}
    kept["job"] = {"namespace": event["job"]["namespace"], "name": event["job"]["name"]}
    return kept


def lenient(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The forms of ``event`` Marquez accepts and the spec does not."""
    no_url, naive, old_url = (copy.deepcopy(event) for _ in range(3))
    for variant in (no_url, naive, old_url):  # three runs: the same run key would be one event
        variant["run"]["runId"] = str(uuid.uuid4())
    del no_url["schemaURL"]
    naive["eventTime"] = naive["eventTime"][:19]
    old_url["schemaURL"] = "https://openlineage.io/spec/1-0-5/OpenLineage.json#/definitions/RunEvent"
    return [("no-schemaURL", no_url), ("time-without-zone", naive), ("1-0-5-definitions", old_url)]


def job_event() -> dict[str, Any]:
    """A JobEvent with a 1-0-x schemaURL that also carries an eventType (parsed as a RunEvent before)."""
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-11-05T09:40:00Z",
        "producer": "https://github.com/MarquezProject/marquez/tests",
        "schemaURL": f"{SPEC.replace('2-0-2', '1-0-5')}#/definitions/JobEvent",
        "job": {"namespace": "marquez-tests", "name": "static_job"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "public.static_in"}],
        "outputs": [{"namespace": "postgres://db:5432", "name": "public.static_out"}],
    }


def dataset_event() -> dict[str, Any]:
    return {
        "eventTime": "2024-11-05T09:41:00",
        "producer": "https://github.com/MarquezProject/marquez/tests",
        "dataset": {"namespace": "postgres://db:5432", "name": "public.static_ds", "facets": {}},
    }


def unusable(base: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(id, event, the field its rejection must name)."""
    no_job = {
        k: v for k, v in copy.deepcopy(base).items() if k not in ("job", "run", "eventType", "schemaURL")
    }
    bad_run = copy.deepcopy(base)
    bad_run["run"]["runId"] = "application_1699999999_0001"
    no_name = copy.deepcopy(base)
    del no_name["job"]["name"]
    no_time = copy.deepcopy(base)
    del no_time["eventTime"]
    return [
        ("no-job-or-dataset", no_job, "job"),
        ("run-id-not-uuid", bad_run, "run.runId"),
        ("job-without-name", no_name, "job.name"),
        ("no-event-time", no_time, "eventTime"),
    ]
