"""Schema facets from ``information_schema`` for tables a DB-API hook touched, on a real PostgreSQL server:
in real task runs (dag.test() of tests/capture/dags/capture_postgres.py) and through add_sql_lineage."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from sqlalchemy.engine import make_url

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.core.fingerprints import FACET
from airflow_lineage_provider.emit.budget import run_within_budget
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, load_dag_module, run_dag
from tests.capture.test_sql import lineage_of
from tests.cli.shell import cli
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres

DAG_ID = "capture_postgres"
NAMESPACE = "postgres://127.0.0.1:5432"


def fields(dataset: Any) -> list[tuple[str, str | None]]:
    found = dataset["facets"] if isinstance(dataset, dict) else dataset.facets
    return [(f["name"], f.get("type")) for f in found["schema"]["fields"]]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with fresh_postgres_database("lineage_capture_pg") as url:
        yield url


def connection_env(conn_id: str, url: str) -> dict[str, str]:
    parsed = make_url(url)
    fields = {"conn_type": "postgres", "host": parsed.host, "port": parsed.port or 5432}
    fields |= {"login": parsed.username, "password": parsed.password or "", "schema": parsed.database}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(fields)}


@pytest.fixture(scope="module")
def events(airflow_db: Any, database: str) -> Events:
    emitter = AccumulatingEmitter()
    dag_run = run_dag(
        "capture_postgres", "capture_postgres_dag", emitter, connection_env("capture_pg", database)
    )
    assert str(dag_run.state) == "success"
    return Events(emitter.dicts())


def test_tables_of_sql_operator_and_hook_tasks_carry_their_columns_from_information_schema(
    events: Events, database: str
) -> None:
    db = make_url(database).database
    create = events.one(f"{DAG_ID}.create", "COMPLETE")
    copy = events.one(f"{DAG_ID}.copy", "COMPLETE")

    (raw,) = create["outputs"]
    assert (raw["namespace"], raw["name"]) == (NAMESPACE, f"{db}.public.raw_orders")
    (read,) = copy["inputs"]
    (totals,) = copy["outputs"]
    # the operator's own OpenLineage method gave create's facet; the hook's tables get the same types
    assert fields(read) == fields(raw) == [("id", "int4"), ("customer", "text"), ("amount", "numeric")]
    assert read["facets"]["schema"]["_producer"] != raw["facets"]["schema"]["_producer"]
    assert (totals["name"], fields(totals)) == (
        f"{db}.mart.totals",
        [("customer", "text"), ("total", "numeric")],
    )
    assert "extractionError" not in copy["run"]["facets"]


def test_a_table_the_task_altered_is_read_again_and_one_only_read_comes_from_the_cache(
    events: Events,
) -> None:
    (altered,) = events.one(f"{DAG_ID}.held", "COMPLETE")["outputs"]
    (read,) = events.one(f"{DAG_ID}.read_only", "COMPLETE")["inputs"]

    assert fields(altered)[-1] == ("note", "varchar")
    assert fields(read) == [("id", "int4"), ("customer", "text"), ("amount", "numeric")]


def test_capture_makes_no_second_connection_where_the_hooks_own_is_open_or_none_is_needed(
    events: Events,
) -> None:
    module = load_dag_module("capture_postgres")

    # copy: the task's own (closed when hook.run ended) and capture's one, for both its tables
    assert module.CONNECTIONS["copy"] == 2
    # held: hook.run's and the one the task left open, which capture used and left open and idle
    assert module.CONNECTIONS["held"] == 2
    held = module.HELD["held"]
    assert held.closed == 0
    assert held.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    # read_only: the schema of the table it read was known already
    assert module.CONNECTIONS["read_only"] == 1


def test_a_table_written_through_a_hook_gets_its_row_count_in_the_same_connection(events: Events) -> None:
    (totals,) = events.one(f"{DAG_ID}.copy", "COMPLETE")["outputs"]
    (altered,) = events.one(f"{DAG_ID}.held", "COMPLETE")["outputs"]
    (read,) = events.one(f"{DAG_ID}.read_only", "COMPLETE")["inputs"]

    for written in (totals, altered):  # two customers
        found = written["facets"][FACET]
        assert (found["algorithm"], found["rows"], found["approximate"]) == ("rowcount", 2, True)
    assert FACET not in read["facets"]  # only what a task wrote, and no connection of its own for it


@pytest.fixture
def recorded(events: Events, store_url: str) -> str:
    """``store_url``, the DAG run's events recorded there."""
    store = LineageStore.from_url(store_url)
    try:
        store.record_many(events.all)
    finally:
        store.close()
    return store_url


def test_the_stored_tables_show_their_columns_on_a_sqlite_and_a_postgresql_store(
    database: str, recorded: str
) -> None:
    store = LineageStore.from_url(recorded)
    try:
        totals = store.describe(f"dataset:{NAMESPACE}:{make_url(database).database}.mart.totals")
    finally:
        store.close()

    # the latest writer (held, which added a column) wins
    assert [(f["name"], f.get("type")) for f in totals["fields"]] == [
        ("customer", "text"),
        ("total", "numeric"),
        ("note", "varchar"),
    ]


def test_a_transaction_the_task_left_open_is_not_touched(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(*connection_env("pg_open_tx", database).popitem())
    hook = PostgresHook(postgres_conn_id="pg_open_tx")
    conn = hook.get_conn()
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE open_tx (a bigint)")  # not committed

    lineage = lineage_of(hook, "INSERT INTO open_tx VALUES (1)")
    (table,) = lineage.outputs.values()

    # capture read through a connection of its own, which cannot see the uncommitted table
    assert "schema" not in table.facets and lineage.errors == []
    assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM open_tx")  # the task's work is still there
    conn.rollback()
    conn.close()


class DriverHook(DbApiHook):
    """A DbApiHook of no database this package knows, over a DB-API driver given to it."""

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = "warehouse_default"
    conn_type = "warehouse"

    def __init__(self, connect: Any, placeholder: str = "%s", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connect, self.made, self._placeholder = connect, 0, placeholder

    def get_conn(self) -> Any:
        self.made += 1
        return self.connect()


def test_any_db_api_hook_whose_database_has_an_information_schema_gets_schemas(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(database)
    monkeypatch.setenv("AIRFLOW_CONN_WH_PG", json.dumps({"conn_type": "warehouse", "host": "wh", "port": 1}))
    dsn = f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}"
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS wh_events (id bigint, at timestamptz)")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS wh")
        cursor.execute("CREATE TABLE IF NOT EXISTS wh.users (id bigint, name varchar(40))")
    conn.close()
    hook = DriverHook(lambda: psycopg2.connect(dsn), warehouse_conn_id="wh_pg")

    lineage = lineage_of(hook, "SELECT * FROM wh_events", "SELECT id FROM wh.users", default_db=url.database)

    events, users = (
        lineage.inputs[("warehouse://wh:1", name)]
        for name in (f"{url.database}.wh_events", f"{url.database}.wh.users")
    )
    assert fields(events) == [("id", "bigint"), ("at", "timestamp with time zone")]
    assert fields(users) == [("id", "bigint"), ("name", "character varying")]
    assert hook.made == 1  # one connection for every table of the connection


def test_a_database_without_information_schema_is_an_error_once_then_not_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WH_FILE", json.dumps({"conn_type": "warehouse", "host": "file"}))
    path = tmp_path / "wh.db"
    sqlite3.connect(path).execute("CREATE TABLE t (a INTEGER)").connection.close()
    hook = DriverHook(lambda: sqlite3.connect(path), "?", warehouse_conn_id="wh_file")

    first = lineage_of(hook, "SELECT a FROM t")
    second = lineage_of(hook, "SELECT a FROM t")

    assert [e["task"] for e in first.errors] == ["table schemas of warehouse://file (connection wh_file)"]
    assert "information_schema" in first.errors[0]["errorMessage"]
    assert second.errors == [] and hook.made == 1


def test_nothing_is_asked_once_the_capture_budget_is_spent(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(*connection_env("pg_budget", database).popitem())
    hook = PostgresHook(postgres_conn_id="pg_budget")
    made: list[Lineage] = []
    done = threading.Event()

    def work() -> None:  # runs under a budget of 0 s: its deadline has passed when it starts
        made.append(lineage_of(hook, "SELECT * FROM raw_orders"))
        done.set()

    run_within_budget(work, timeout=0.0, what="a test of the spent budget")
    assert done.wait(60)
    (lineage,) = made
    assert "schema" not in next(iter(lineage.inputs.values())).facets
    assert "capture budget was spent" in lineage.errors[0]["errorMessage"]
    assert getattr(hook, "conn", None) is None  # no connection was made


def test_verify_counts_a_postgres_table_again_through_an_airflow_connection(
    database: str, recorded: str
) -> None:
    store_url = recorded
    totals = f"dataset:{NAMESPACE}:{make_url(database).database}.mart.totals"
    env = connection_env("verify_pg", database)

    def verify(*extra: str) -> tuple[int, str]:
        done = cli("verify", "--artifacts", totals, "--store-url", store_url, *extra, env=env)
        shown = done.stdout.splitlines()
        lines = [text.strip() for text in shown if text.startswith("  ") and f"{totals} @ " in text]
        assert len(lines) == 1, done.stdout + done.stderr
        return done.returncode, lines[0]

    assert "NOT CHECKABLE" in verify()[1] and "needs a connection to count it (--conn-id)" in verify()[1]
    assert verify("--conn-id", "verify_pg") == (0, verify("--conn-id", "verify_pg")[1])
    assert verify("--conn-id", "verify_pg")[1].startswith("MATCHES")
    dsn = make_url(database).render_as_string(hide_password=False).replace("+psycopg2", "")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("INSERT INTO mart.totals (customer, total) VALUES ('cid', 1)")
    conn.close()
    try:
        code, line = verify("--conn-id", "verify_pg")
        assert code == 1 and line.startswith("CHANGED") and "recorded 2, now 3" in line, line
    finally:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
            cursor.execute("DELETE FROM mart.totals WHERE customer = 'cid'")
        conn.close()
