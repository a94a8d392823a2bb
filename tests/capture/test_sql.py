"""SQL extras parsed into datasets, with the dataset identity taken from the hook's connection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.sqlite.hooks.sqlite import SqliteHook

from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.sql import add_sql_lineage


def lineage_of(hook: Any, *statements: str, **extra: Any) -> Lineage:
    lineage = Lineage()
    add_sql_lineage(lineage, [({"sql": sql, **extra}, hook) for sql in statements])
    return lineage


class WarehouseHook(DbApiHook):
    """A DbApiHook of a database this package has no rule for."""

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = "warehouse_default"
    conn_type = "warehouse"


class TrinoLikeHook(WarehouseHook):
    """A hook that describes its database for OpenLineage, as provider hooks do."""

    def get_openlineage_database_info(self, connection: Any) -> Any:
        from airflow.providers.openlineage.sqlparser import DatabaseInfo

        return DatabaseInfo(scheme="trino", authority=f"{connection.host}:{connection.port}", database="hive")

    def get_openlineage_database_dialect(self, connection: Any) -> str:
        return "trino"


def connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def test_sqlite_tables_live_in_the_database_file_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    connection(monkeypatch, "db_file", conn_type="sqlite", host="/data/shop.db")
    lineage = lineage_of(SqliteHook(sqlite_conn_id="db_file"), "INSERT INTO main.b SELECT x FROM a")

    assert set(lineage.inputs) == {("sqlite:///data/shop.db", "a")}
    assert set(lineage.outputs) == {("sqlite:///data/shop.db", "b")}
    assert lineage.job_facets["sql"]["dialect"] == "sqlite"


def test_postgres_tables_are_database_schema_table_on_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    connection(monkeypatch, "pg", conn_type="postgres", host="db.example", port=5433, schema="sales")
    hook = PostgresHook(postgres_conn_id="pg")
    lineage = lineage_of(hook, "INSERT INTO mart.totals SELECT id, amount FROM Orders", row_count=7)

    assert set(lineage.inputs) == {("postgres://db.example:5433", "sales.public.orders")}
    assert set(lineage.outputs) == {("postgres://db.example:5433", "sales.mart.totals")}
    totals = lineage.outputs[("postgres://db.example:5433", "sales.mart.totals")]
    assert totals.io_facets["outputStatistics"]["rowCount"] == 7
    assert set(totals.facets["columnLineage"]["fields"]) == {"id", "amount"}
    assert lineage.job_facets["sql"]["dialect"] == "postgres"


def test_postgres_default_schema_of_the_extra_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    connection(monkeypatch, "pg", conn_type="postgres", host="db.example", schema="sales")
    lineage = lineage_of(PostgresHook(postgres_conn_id="pg"), "SELECT * FROM t", default_schema="staging")

    assert set(lineage.inputs) == {("postgres://db.example:5432", "sales.staging.t")}


def test_other_hooks_use_their_openlineage_database_info(monkeypatch: pytest.MonkeyPatch) -> None:
    connection(monkeypatch, "wh", conn_type="warehouse", host="trino.example", port=8080)
    lineage = lineage_of(TrinoLikeHook(warehouse_conn_id="wh"), "SELECT * FROM raw.events")

    assert set(lineage.inputs) == {("trino://trino.example:8080", "hive.raw.events")}
    assert lineage.job_facets["sql"]["dialect"] == "trino"


def test_hooks_without_database_info_fall_back_to_conn_type_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection(monkeypatch, "wh", conn_type="warehouse", host="wh.example", port=9000)
    lineage = lineage_of(
        WarehouseHook(warehouse_conn_id="wh"), "SELECT * FROM events", default_db="analytics"
    )

    assert set(lineage.inputs) == {("warehouse://wh.example:9000", "analytics.events")}


def test_a_hook_whose_connection_cannot_be_read_is_an_extraction_error_not_an_exception() -> None:
    lineage = lineage_of(SqliteHook(sqlite_conn_id="no_such_connection"), "SELECT * FROM a")

    assert lineage.inputs == {}
    assert len(lineage.errors) == 1
    assert lineage.errors[0]["task"] == "SELECT * FROM a"
    assert "no_such_connection" in lineage.errors[0]["errorMessage"]
    assert lineage.job_facets["sql"]["query"] == "SELECT * FROM a"  # what ran is still recorded


def test_statements_writing_one_table_merge_their_column_lineage(monkeypatch: pytest.MonkeyPatch) -> None:
    connection(monkeypatch, "db_file", conn_type="sqlite", host="/data/shop.db")
    lineage = lineage_of(
        SqliteHook(sqlite_conn_id="db_file"),
        "INSERT INTO t SELECT a AS x FROM s1",
        "INSERT INTO t SELECT b AS x FROM s2",
        row_count=2,
    )
    target = lineage.outputs[("sqlite:///data/shop.db", "t")]

    assert [f["name"] for f in target.facets["columnLineage"]["fields"]["x"]["inputFields"]] == ["s1", "s2"]
    assert target.io_facets["outputStatistics"]["rowCount"] == 4
    assert lineage.job_facets["sql"]["query"].count("INSERT INTO t") == 2
