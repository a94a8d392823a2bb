"""Example ETL on SQLite whose table and column lineage is captured with no lineage code in the DAG.

    load_raw_orders ──┐
                      ├─> build_clean_orders ──> build_order_report
    load_raw_customers┘

* ``load_raw_*`` and ``build_clean_orders`` are ``SQLExecuteQueryOperator`` tasks; the last one runs
  ``INSERT INTO clean_orders SELECT ... FROM raw_orders JOIN raw_customers``, so its column lineage
  (``clean_orders.customer_name <- raw_customers.name`` ...) is captured from the SQL.
* ``build_order_report`` is a Python ``@task`` that reads ``clean_orders`` and writes ``order_report``
  through ``SqliteHook`` (``get_records`` / ``run`` / ``insert_rows`` report hook lineage), so a
  Python task gets table lineage too.

Connection ``lineage_example_sqlite`` must point at a SQLite file; an environment variable is enough:

    export AIRFLOW_CONN_LINEAGE_EXAMPLE_SQLITE='{"conn_type":"sqlite","host":"/abs/path/example.db"}'

Every statement can be re-run (tables are dropped or emptied first). The lineage this DAG must
produce is in ``lineage_example_etl.expected.json`` next to this file; a test compares.
"""

from __future__ import annotations

import statistics

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.sdk import DAG, task

CONN_ID = "lineage_example_sqlite"

RAW_ORDERS = [
    # order_id, customer_id, amount, status, ordered_at
    (1, 1, 120.0, "shipped", "2026-01-02 09:15:00"),
    (2, 2, 35.5, "shipped", "2026-01-02 11:40:00"),
    (3, 1, 80.25, "cancelled", "2026-01-03 08:05:00"),
    (4, 3, 210.0, "shipped", "2026-01-03 16:20:00"),
    (5, 4, 15.75, "shipped", "2026-01-04 10:00:00"),
    (6, 2, 64.0, "returned", "2026-01-05 13:30:00"),
    (7, 5, 99.99, "shipped", "2026-01-05 18:45:00"),
    (8, 3, 42.1, "shipped", "2026-01-06 07:55:00"),
    (9, 5, 18.5, "shipped", "2026-01-07 12:10:00"),
]
RAW_CUSTOMERS = [
    # customer_id, name, country (untrimmed, mixed case: the cleaning step fixes it)
    (1, "Ada Lovelace", " gb"),
    (2, "Grace Hopper", "us "),
    (3, "Edsger Dijkstra", "NL"),
    (4, "Barbara Liskov", "us"),
    (5, "Tim Berners-Lee", "Gb"),
]


def _values(rows: list[tuple[object, ...]]) -> str:
    return ", ".join("(" + ", ".join(repr(v) for v in row) + ")" for row in rows)


with DAG(
    dag_id="lineage_example_etl",
    description="SQLite ETL: raw tables -> clean_orders (SQL) -> order_report (Python + SqliteHook)",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
    tags=["lineage-example"],
) as dag:
    load_raw_orders = SQLExecuteQueryOperator(
        task_id="load_raw_orders",
        conn_id=CONN_ID,
        sql=[
            "DROP TABLE IF EXISTS raw_orders",
            "CREATE TABLE raw_orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
            "amount REAL NOT NULL, status TEXT NOT NULL, ordered_at TEXT NOT NULL)",
            "INSERT INTO raw_orders (order_id, customer_id, amount, status, ordered_at) VALUES "
            + _values(RAW_ORDERS),
        ],
    )

    load_raw_customers = SQLExecuteQueryOperator(
        task_id="load_raw_customers",
        conn_id=CONN_ID,
        sql=[
            "DROP TABLE IF EXISTS raw_customers",
            "CREATE TABLE raw_customers (customer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT)",
            "INSERT INTO raw_customers (customer_id, name, country) VALUES " + _values(RAW_CUSTOMERS),
        ],
    )

    build_clean_orders = SQLExecuteQueryOperator(
        task_id="build_clean_orders",
        conn_id=CONN_ID,
        sql=[
            "DROP TABLE IF EXISTS clean_orders",
            "CREATE TABLE clean_orders (order_id INTEGER PRIMARY KEY, customer_name TEXT NOT NULL, "
            "country TEXT NOT NULL, amount REAL NOT NULL, ordered_on TEXT NOT NULL)",
            """
            INSERT INTO clean_orders (order_id, customer_name, country, amount, ordered_on)
            SELECT o.order_id AS order_id,
                   c.name AS customer_name,
                   upper(trim(c.country)) AS country,
                   round(o.amount, 2) AS amount,
                   date(o.ordered_at) AS ordered_on
            FROM raw_orders AS o
            JOIN raw_customers AS c ON o.customer_id = c.customer_id
            WHERE o.status = 'shipped'
            """,
        ],
    )

    @task
    def build_order_report() -> dict[str, int]:
        """Revenue per country, with a median the SQL dialect lacks, written back through the hook."""
        hook = SqliteHook(sqlite_conn_id=CONN_ID)
        amounts: dict[str, list[float]] = {}
        for country, amount in hook.get_records("SELECT country, amount FROM clean_orders"):
            amounts.setdefault(country, []).append(float(amount))
        report = [
            (
                country,
                len(values),
                round(sum(values), 2),
                round(statistics.fmean(values), 2),
                round(statistics.median(values), 2),
            )
            for country, values in sorted(amounts.items())
        ]
        hook.run(
            [
                "CREATE TABLE IF NOT EXISTS order_report (country TEXT PRIMARY KEY, orders INTEGER NOT NULL, "
                "revenue REAL NOT NULL, avg_order_value REAL NOT NULL, median_order_value REAL NOT NULL)",
                "DELETE FROM order_report",
            ]
        )
        hook.insert_rows(
            "order_report",
            report,
            target_fields=["country", "orders", "revenue", "avg_order_value", "median_order_value"],
        )
        return {"countries": len(report), "orders": sum(row[1] for row in report)}

    [load_raw_orders, load_raw_customers] >> build_clean_orders >> build_order_report()
