"""Test DAG (airflow): common-sql's check operators on SQLite, one passing and one failing check."""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
)
from airflow.sdk import dag


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_checks() -> None:
    load = SQLExecuteQueryOperator(
        task_id="load",
        conn_id="capture_sqlite",
        sql=[
            "CREATE TABLE checked (id INTEGER, amount REAL)",
            "INSERT INTO checked VALUES (1, 10.0), (2, NULL)",
        ],
    )
    columns = SQLColumnCheckOperator(
        task_id="columns",
        conn_id="capture_sqlite",
        table="checked",
        column_mapping={"id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}}},
    )
    rows = SQLTableCheckOperator(
        task_id="rows",
        conn_id="capture_sqlite",
        table="checked",
        checks={"row_count_check": {"check_statement": "COUNT(*) = 3"}},
    )
    load >> columns >> rows


capture_checks_dag = capture_checks()
