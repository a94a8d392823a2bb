"""dag.test() of tests/capture/dags/capture_sql.py: tables, column lineage and SQL from real SQLite runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider.core.naming import sqlite_namespace
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, names, run_dag, sqlite_connection_env
from tests.spec import validate_event

DAG_ID = "capture_sql"


@pytest.fixture(scope="module")
def database(airflow_home: Path) -> Path:
    return airflow_home / "capture_sql.db"  # the path tests/capture/dags/capture_sql.py uses


@pytest.fixture(scope="module")
def events(airflow_db: Any, database: Path) -> Events:
    database.unlink(missing_ok=True)
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_sql", "capture_sql_dag", emitter, sqlite_connection_env(database))
    assert str(dag_run.state) == "success"
    return Events(emitter.dicts())


@pytest.fixture(scope="module")
def ns(database: Path) -> str:
    return sqlite_namespace(str(database))


def test_every_event_matches_the_openlineage_schema(events: Events) -> None:
    for event in events.all:
        validate_event(event)


def test_sql_operator_tables_become_inputs_and_outputs(events: Events, ns: str) -> None:
    complete = events.one(f"{DAG_ID}.copy", "COMPLETE")

    assert names(complete["inputs"]) == {(ns, "raw_orders")}  # "main.raw_orders" in the SQL
    assert names(complete["outputs"]) == {(ns, "orders")}
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_column_lineage_maps_each_output_column_to_its_input_columns(events: Events, ns: str) -> None:
    (orders,) = events.one(f"{DAG_ID}.copy", "COMPLETE")["outputs"]
    fields = orders["facets"]["columnLineage"]["fields"]

    assert {
        column: [(f["namespace"], f["name"], f["field"]) for f in v["inputFields"]]
        for column, v in fields.items()
    } == {
        "id": [(ns, "raw_orders", "id")],
        "customer": [(ns, "raw_orders", "customer")],
        "amount": [(ns, "raw_orders", "amount")],
    }
    assert fields["customer"]["inputFields"][0]["transformations"] == [{"type": "DIRECT"}]


def test_sql_job_facet_holds_the_statements_the_task_ran(events: Events) -> None:
    sql = events.one(f"{DAG_ID}.copy", "COMPLETE")["job"]["facets"]["sql"]

    assert sql["dialect"] == "sqlite"
    assert sql["query"] == (
        "CREATE TABLE orders (id INTEGER, customer TEXT, amount REAL);\n"
        "INSERT INTO orders SELECT id, upper(customer) AS customer, amount FROM main.raw_orders"
    )


def test_sqlite_hook_in_a_task_gives_tables_and_meets_its_asset_outlet_in_one_dataset(
    events: Events, ns: str
) -> None:
    complete = events.one(f"{DAG_ID}.summarize", "COMPLETE")
    (summary,) = complete["outputs"]

    assert names(complete["inputs"]) == {(ns, "orders")}
    assert (summary["namespace"], summary["name"]) == (ns, "summary")  # SQL table == Asset outlet
    assert set(summary["facets"]["columnLineage"]["fields"]) == {"customer", "total"}
    assert summary["facets"]["columnLineage"]["fields"]["total"]["inputFields"][0]["field"] == "amount"


def test_a_later_sql_task_does_not_see_the_sql_of_earlier_tasks(events: Events, ns: str) -> None:
    """dag.test() runs every task in one process, where hook lineage would otherwise accumulate."""
    copy = events.one(f"{DAG_ID}.copy", "COMPLETE")
    summarize = events.one(f"{DAG_ID}.summarize", "COMPLETE")

    assert (ns, "raw_orders") not in names(copy["outputs"])
    assert "raw_orders" not in copy["job"]["facets"]["sql"]["query"].split("FROM")[0]
    for dataset in (ns, "raw_orders"), (ns, "orders"):
        assert dataset not in names(summarize["outputs"])
    assert (ns, "raw_orders") not in names(summarize["inputs"])
    assert "raw_orders" not in summarize["job"]["facets"]["sql"]["query"]


def test_sql_the_parser_cannot_read_is_an_extraction_error_and_the_rest_still_counts(
    events: Events, ns: str
) -> None:
    complete = events.one(f"{DAG_ID}.unparsable", "COMPLETE")
    error = complete["run"]["facets"]["extractionError"]

    assert names(complete["outputs"]) == {(ns, "audit")}
    assert (error["totalTasks"], error["failedTasks"]) == (2, 1)
    assert error["errors"][0]["task"] == "REINDEX audit"
    assert error["errors"][0]["taskNumber"] == 1
    assert "REINDEX" in error["errors"][0]["errorMessage"]


def test_start_events_carry_no_sql_lineage_yet(events: Events) -> None:
    start = events.one(f"{DAG_ID}.copy", "START")

    assert start["inputs"] == [] and start["outputs"] == []
    assert "sql" not in start["job"]["facets"]


def test_sqlite_tables_carry_their_columns_as_a_schema_facet(events: Events) -> None:
    complete = events.one(f"{DAG_ID}.copy", "COMPLETE")
    (orders,) = complete["outputs"]
    (raw,) = complete["inputs"]

    assert [(f["name"], f["type"]) for f in orders["facets"]["schema"]["fields"]] == [
        ("id", "INTEGER"),
        ("customer", "TEXT"),
        ("amount", "REAL"),
    ]
    assert [f["name"] for f in raw["facets"]["schema"]["fields"]] == ["id", "customer", "amount"]
