"""A small lineage world for API tests: two DAGs and a Spark job around awkward names.

    postgres://db:5432 public.src -> job airflow dag_a.extract -> postgres://db:5432 a/b:c
    postgres://db:5432 a/b:c      -> job airflow dag_b.transform -> postgres://db:5432 public.b_only
    postgres://db:5432 public.b_only -> job spark nightly -> s3://bucket spark/out

``a/b:c`` has a schema and column lineage (id <- public.src.id, total <- public.src.amount).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.store.events import PRODUCER, ds, new_run, run_event

PG = "postgres://db:5432"
SRC, ODD, B_ONLY = "public.src", "a/b:c", "public.b_only"
S3 = "s3://bucket"
ODD_ID = f"dataset:{PG}:{ODD}"
SRC_ID = f"dataset:{PG}:{SRC}"
B_ONLY_ID = f"dataset:{PG}:{B_ONLY}"
SPARK_OUT_ID = f"dataset:{S3}:spark/out"
EXTRACT_ID, TRANSFORM_ID, SPARK_ID = (
    "job:airflow:dag_a.extract",
    "job:airflow:dag_b.transform",
    "job:spark:nightly",
)


def segment(name: str) -> str:
    """A name as one percent-encoded path segment, as Marquez clients send it."""
    return quote(name, safe="")


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/X.json", **fields}


def _odd_output() -> dict[str, Any]:
    lineage = {
        "id": {"inputFields": [{"namespace": PG, "name": SRC, "field": "id", "transformations": []}]},
        "total": {
            "inputFields": [
                {
                    "namespace": PG,
                    "name": SRC,
                    "field": "amount",
                    "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION", "description": "sum"}],
                }
            ]
        },
    }
    schema = _facet(fields=[{"name": "id", "type": "INTEGER"}, {"name": "total", "type": "NUMERIC"}])
    return ds(ODD, PG, schema=schema, columnLineage=_facet(fields=lineage))


def events() -> list[dict[str, Any]]:
    dag_type = {"jobType": _facet(processingType="BATCH", integration="AIRFLOW", jobType="DAG")}
    extract, transform, spark = new_run(), new_run(), new_run()
    return [
        run_event("COMPLETE", "dag_a", new_run(), minute=0, job_facets=dag_type),
        run_event("START", "dag_a.extract", extract, minute=1, inputs=[ds(SRC, PG)]),
        run_event(
            "COMPLETE", "dag_a.extract", extract, minute=2, inputs=[ds(SRC, PG)], outputs=[_odd_output()]
        ),
        run_event(
            "COMPLETE",
            "dag_b.transform",
            transform,
            minute=10,
            inputs=[ds(ODD, PG)],
            outputs=[ds(B_ONLY, PG)],
        ),
        run_event(
            "COMPLETE",
            "nightly",
            spark,
            minute=20,
            namespace="spark",
            inputs=[ds(B_ONLY, PG)],
            outputs=[ds("spark/out", S3)],
        ),
    ]
