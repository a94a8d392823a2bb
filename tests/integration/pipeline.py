"""Shared by the capture integration tests: the pipeline DAG's environment and what its store must hold."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.core.naming import sqlite_namespace

DAG_ID = "capture_pipeline"
TASKS = ("load", "clean", "export")
SOURCE = Path(__file__).with_name("capture_pipeline.py")


def clean_environ() -> dict[str, str]:
    """This process's environment without Airflow or lineage settings (other tests set some)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LINEAGE_", "OPENLINEAGE"))}


def prepare(base: Path) -> dict[str, str]:
    """A dags folder holding the pipeline, its database, export file and lineage store under ``base``."""
    dags = base / "dags"
    dags.mkdir()
    shutil.copy(SOURCE, dags / "capture_pipeline.py")
    db = base / "pipeline.db"
    return {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": f"sqlite:///{base / 'lineage.db'}",
        "AIRFLOW_CONN_LINEAGE_IT_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(db)}),
        "LINEAGE_IT_DB": str(db),
        "LINEAGE_IT_EXPORT": str(base / "export.csv"),
        "AIRFLOW__LINEAGE_PROVIDER__DELIVERER_IDLE_TIMEOUT": "20",  # host deliverers a test starts end soon
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(base / "outbox"),  # never another test's events
    }


def stored_events(env: dict[str, str]) -> list[dict[str, Any]]:
    store = LineageStore.from_url(env["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"])
    try:
        return list(store.events())
    finally:
        store.close()


def summary(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(e["job"]["name"], e["eventType"]) for e in events}


def task_completes(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        e["job"]["name"].removeprefix(f"{DAG_ID}."): e
        for e in events
        if e["eventType"] == "COMPLETE" and e["job"]["name"] != DAG_ID
    }


def names(datasets: list[dict[str, Any]] | None) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets or []}


def assert_pipeline_lineage(env: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Every task's tables and files, and the store's upstream answer from the export file."""
    ns = sqlite_namespace(env["LINEAGE_IT_DB"])
    export = ("file", env["LINEAGE_IT_EXPORT"])
    completes = task_completes(events)

    assert names(completes["load"]["outputs"]) == {(ns, "raw_orders")}
    assert names(completes["clean"]["inputs"]) == {(ns, "raw_orders")}
    assert names(completes["clean"]["outputs"]) == {(ns, "clean_orders")}  # SQL table == Asset outlet
    assert names(completes["export"]["inputs"]) == {(ns, "clean_orders")}
    assert names(completes["export"]["outputs"]) == {export}
    (clean_orders,) = completes["clean"]["outputs"]
    assert set(clean_orders["facets"]["columnLineage"]["fields"]) == {"id", "customer", "amount"}

    store = LineageStore.from_url(env["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"])
    try:
        graph = store.lineage(f"dataset:file:{export[1]}", "upstream", 10)
    finally:
        store.close()
    assert {
        f"dataset:{ns}:raw_orders",
        f"dataset:{ns}:clean_orders",
        f"job:airflow:{DAG_ID}.load",
        f"job:airflow:{DAG_ID}.clean",
        f"job:airflow:{DAG_ID}.export",
    } <= graph.node_ids()
