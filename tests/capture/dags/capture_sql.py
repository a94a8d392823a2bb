"""Test DAG (airflow): SQL through SQLExecuteQueryOperator and through SqliteHook in a @task."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.sdk import Asset, dag, task

DB = os.path.join(os.environ.get("AIRFLOW_HOME", "/tmp"), "capture_sql.db")
SUMMARY = Asset(f"sqlite://{DB}/summary")  # sqlite://<absolute path of the db>/<table>


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_sql() -> None:
    create = SQLExecuteQueryOperator(
        task_id="create",
        conn_id="capture_sqlite",
        sql=[
            "CREATE TABLE raw_orders (id INTEGER, customer TEXT, amount REAL)",
            "INSERT INTO raw_orders VALUES (1, 'ann', 10.0), (2, 'bob', 5.5)",
        ],
    )
    copy = SQLExecuteQueryOperator(
        task_id="copy",
        conn_id="capture_sqlite",
        sql=[
            "CREATE TABLE orders (id INTEGER, customer TEXT, amount REAL)",
            "INSERT INTO orders SELECT id, upper(customer) AS customer, amount FROM main.raw_orders",
        ],
    )

    @task(outlets=[SUMMARY])
    def summarize() -> None:
        hook = SqliteHook(sqlite_conn_id="capture_sqlite")
        hook.run("CREATE TABLE summary (customer TEXT, total REAL)")
        hook.run("INSERT INTO summary SELECT customer, sum(amount) AS total FROM orders GROUP BY customer")

    @task
    def unparsable() -> None:
        hook = SqliteHook(sqlite_conn_id="capture_sqlite")
        hook.run("CREATE TABLE IF NOT EXISTS audit (note TEXT)")
        hook.run("REINDEX audit")  # valid SQLite that openlineage-sql cannot parse

    create >> copy >> summarize() >> unparsable()


capture_sql_dag = capture_sql()
