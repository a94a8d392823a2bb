"""dag.test() of tests/capture/dags/capture_checks.py: common-sql's check operators report their results
as the official OpenLineage provider builds them (dataQualityAssertions on the checked table, else a
TestRunFacet), and the store shows them on the run, the version and the lineage answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider.core.naming import sqlite_namespace
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, run_dag, sqlite_connection_env
from tests.spec import validate_event

DAG_ID = "capture_checks"


@pytest.fixture(scope="module")
def database(airflow_home: Path) -> Path:
    return airflow_home / "capture_checks.db"


@pytest.fixture(scope="module")
def events(airflow_db: Any, database: Path) -> Events:
    database.unlink(missing_ok=True)
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_checks", "capture_checks_dag", emitter, sqlite_connection_env(database))
    assert str(dag_run.state) == "failed"  # the row count check fails
    return Events(emitter.dicts())


def test_check_results_are_reported_as_the_official_provider_builds_them(events: Events) -> None:
    tests = events.one(f"{DAG_ID}.columns", "COMPLETE")["run"]["facets"]["test"]["tests"]
    assert [(t["name"], t["status"], t["params"]["tested_table"]) for t in tests] == [
        ("id.null_check", "pass", "checked"),
        ("id.unique_check", "pass", "checked"),
    ]
    failed = events.one(f"{DAG_ID}.rows", "FAIL")["run"]["facets"]["test"]["tests"]
    assert [(t["name"], t["status"]) for t in failed] == [("row_count_check", "fail")]
    for event in events.all:
        validate_event(event)


def test_check_results_land_on_the_checked_version_the_run_and_the_lineage_answer(
    events: Events, database: Path, store: Any
) -> None:
    store.record_many(events.all)
    checked = f"dataset:{sqlite_namespace(str(database))}:checked"
    version = store.describe(checked)["currentVersion"]
    rows_run = events.one(f"{DAG_ID}.rows", "FAIL")["run"]["runId"]
    columns_run = events.one(f"{DAG_ID}.columns", "COMPLETE")["run"]["runId"]

    reports = {r["runId"]: r for r in store.describe(checked)["assertions"]}
    assert {run: (r["failing"], r["total"], r["version"]) for run, r in reports.items()} == {
        rows_run: (1, 1, version),
        columns_run: (0, 2, version),
    }
    assert reports[columns_run]["assertions"][0] == {
        "assertion": "not_null",
        "success": True,
        "column": "id",
        "name": "id.null_check",
        "severity": "error",
        "description": "Column-level statistical check against the configured threshold",
        "expected": "0",
        "actual": "0",
    }
    run = store.describe(f"run:{rows_run}")
    assert [(a["dataset"], a["failing"]) for a in run["assertions"]] == [(checked, 1)]
    assert [t["status"] for t in run["tests"]] == ["fail"]
    node = store.lineage(checked, "downstream", depth=1).node(checked)
    assert node.data["assertions"] == {"failing": 1, "total": 1, "runId": rows_run, "version": version}
