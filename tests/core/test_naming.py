from __future__ import annotations

import pytest

from airflow_lineage_provider.core.naming import (
    dataset_from_uri,
    postgres_table_name,
    sqlite_namespace,
    sqlite_table_name,
)
from airflow_lineage_provider.core.runids import dag_run_id, task_run_id


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///data/raw.csv", ("file", "/data/raw.csv")),
        ("file://host1/data/raw.csv", ("file://host1", "/data/raw.csv")),
        ("s3://bucket/path/key.parquet", ("s3://bucket", "path/key.parquet")),
        ("postgres://db:5432/shop/public/orders", ("postgres://db:5432", "shop.public.orders")),
        ("postgresql://db/shop/public/orders", ("postgres://db:5432", "shop.public.orders")),
        ("sqlite:///tmp/etl/w.db/report", ("sqlite:///tmp/etl/w.db", "report")),
        ("sqlite:/tmp/etl/w.db/report", ("sqlite:///tmp/etl/w.db", "report")),
        ("my_asset_name", ("asset", "my_asset_name")),
    ],
)
def test_asset_uris_map_to_openlineage_names(uri, expected):
    assert dataset_from_uri(uri) == expected


def test_sqlite_names_strip_main_and_make_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sqlite_namespace("w.db") == f"sqlite://{tmp_path}/w.db"
    assert sqlite_table_name("main.orders") == "orders"
    assert sqlite_table_name('"orders"') == "orders"


def test_postgres_names_are_database_schema_table():
    assert postgres_table_name("orders", "shop") == "shop.public.orders"
    assert postgres_table_name("Sales.Orders", "shop") == "shop.sales.orders"
    assert postgres_table_name("x.y.z", "shop") == "x.y.z"


def test_run_ids_are_deterministic_and_differ_per_try_and_map_index():
    first = task_run_id("d", "t", "manual__1", 1, -1)
    assert first == task_run_id("d", "t", "manual__1", 1, -1)
    assert (
        len({first, task_run_id("d", "t", "manual__1", 2, -1), task_run_id("d", "t", "manual__1", 1, 0)}) == 3
    )
    assert dag_run_id("d", "manual__1") != dag_run_id("e", "manual__1")
