"""Airflow Assets as datasets: by URI, so an Asset and the SQL writing the same table meet."""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_lineage_provider.capture import assets


def key(asset: object) -> tuple[str, str] | None:
    found = assets.dataset(asset)
    return None if found is None else (found.namespace, found.name)


def test_file_and_object_store_assets_follow_openlineage_naming() -> None:
    assert key(Asset("file:///data/raw.csv")) == ("file", "/data/raw.csv")
    assert key(Asset("s3://bucket/path/part.parquet")) == ("s3://bucket", "path/part.parquet")


def test_a_sqlite_asset_survives_airflows_uri_normalisation() -> None:
    asset = Asset("sqlite:///data/shop.db/orders")
    assert asset.uri == "sqlite:/data/shop.db/orders"  # what Airflow stores: the authority is gone

    assert key(asset) == ("sqlite:///data/shop.db", "orders")


def test_a_postgres_asset_names_database_schema_table() -> None:
    assert key(Asset("postgres://db.example/sales/public/orders")) == (
        "postgres://db.example:5432",
        "sales.public.orders",
    )


def test_aliases_and_name_only_references_are_not_datasets() -> None:
    assert key(AssetAlias("an-alias")) is None
    assert key(Asset.ref(name="by-name")) is None
    assert assets.datasets([AssetAlias("a"), Asset("file:///x")]) == [assets.dataset(Asset("file:///x"))]


def test_assets_attached_at_run_time_through_an_alias_are_outlets() -> None:
    outlet_events = OutletEventAccessors()
    outlet_events[AssetAlias("daily")].add(Asset("s3://bucket/2026-01-01.parquet"))

    found = [(d.namespace, d.name) for d in assets.runtime_outlets({"outlet_events": outlet_events})]

    assert found == [("s3://bucket", "2026-01-01.parquet")]


def test_no_outlet_events_means_no_runtime_outlets() -> None:
    assert list(assets.runtime_outlets({})) == []
    assert list(assets.runtime_outlets({"outlet_events": OutletEventAccessors()})) == []
