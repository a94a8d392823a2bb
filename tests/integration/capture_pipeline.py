"""DAG file written into a temporary dags folder by the capture integration tests.

Three tasks over one SQLite database: SQL through SQLExecuteQueryOperator, SQL through SqliteHook in
a @task with an Asset outlet for the same table, and a file export with Asset inlet and outlet. The
DAG's tasks are owned by data-eng (default_args), but for export, owned by reporting.
Paths come from the environment the test sets: LINEAGE_IT_DB (database) and LINEAGE_IT_EXPORT (file).
"""

from __future__ import annotations

import os
import sqlite3

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.sdk import Asset, dag, task

DB = os.environ.get("LINEAGE_IT_DB", "/tmp/lineage_it.db")
EXPORT = os.environ.get("LINEAGE_IT_EXPORT", "/tmp/lineage_it_export.csv")
CLEAN = Asset(f"sqlite://{DB}/clean_orders")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "data-eng"},
)
def capture_pipeline() -> None:
    load = SQLExecuteQueryOperator(
        task_id="load",
        conn_id="lineage_it_sqlite",
        sql=[
            "DROP TABLE IF EXISTS raw_orders",
            "CREATE TABLE raw_orders (id INTEGER, customer TEXT, amount REAL)",
            "INSERT INTO raw_orders VALUES (1, 'ann', 10.0), (2, 'bob', -1.0), (3, 'cy', 7.5)",
        ],
    )

    @task(outlets=[CLEAN])
    def clean() -> None:
        hook = SqliteHook(sqlite_conn_id="lineage_it_sqlite")
        hook.run("DROP TABLE IF EXISTS clean_orders")
        hook.run("CREATE TABLE clean_orders (id INTEGER, customer TEXT, amount REAL)")
        hook.run(
            "INSERT INTO clean_orders SELECT id, lower(customer) AS customer, amount "
            "FROM raw_orders WHERE amount > 0"
        )

    @task(owner="reporting", inlets=[CLEAN], outlets=[Asset(f"file://{EXPORT}")])
    def export() -> None:
        with sqlite3.connect(DB) as conn, open(EXPORT, "w") as out:
            for row in conn.execute("SELECT id, customer, amount FROM clean_orders ORDER BY id"):
                out.write(",".join(map(str, row)) + "\n")

    load >> clean() >> export()


capture_pipeline()
