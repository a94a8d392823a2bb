"""Test DAG (airflow): SQL on a real PostgreSQL database through SQLExecuteQueryOperator and PostgresHook.

The connection ``capture_pg`` comes from the test's environment. ``CountingPostgresHook`` counts the
connections each task's hook makes (capture's included: it runs in the task, after the task's code).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import dag, task

CONNECTIONS: dict[str, int] = {}  # task id -> connections its hook made
HELD: dict[str, Any] = {}  # task id -> the connection the task left open


class CountingPostgresHook(PostgresHook):
    def __init__(self, counted: str, **kwargs: Any) -> None:
        super().__init__(postgres_conn_id="capture_pg", **kwargs)
        self.counted = counted

    def get_conn(self) -> Any:
        CONNECTIONS[self.counted] = CONNECTIONS.get(self.counted, 0) + 1
        return super().get_conn()


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_postgres() -> None:
    create = SQLExecuteQueryOperator(
        task_id="create",
        conn_id="capture_pg",
        sql=[
            "CREATE SCHEMA IF NOT EXISTS mart",
            "CREATE TABLE raw_orders (id integer NOT NULL, customer text, amount numeric(10, 2))",
            "INSERT INTO raw_orders VALUES (1, 'ann', 10.5), (2, 'bob', 3.25)",
        ],
    )

    @task
    def copy() -> None:  # the hook's connection is closed when the task ends: capture makes one
        hook = CountingPostgresHook("copy")
        hook.run(
            "CREATE TABLE mart.totals AS"
            " SELECT customer, sum(amount) AS total FROM raw_orders GROUP BY customer"
        )

    @task
    def held() -> None:  # the task leaves its hook's connection open and idle: capture uses it
        hook = CountingPostgresHook("held")
        hook.run("ALTER TABLE mart.totals ADD COLUMN note varchar(20)")
        HELD["held"] = hook.get_conn()

    @task
    def read_only() -> None:  # only reads a table whose schema is known: no connection for capture
        CountingPostgresHook("read_only").get_records("SELECT count(*) FROM raw_orders")

    create >> copy() >> held() >> read_only()


capture_postgres_dag = capture_postgres()
