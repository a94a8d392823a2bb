from __future__ import annotations

import pytest

from airflow_lineage_provider.core.ids import NodeId, parse, splits
from airflow_lineage_provider.exceptions import InvalidNodeIdError


@pytest.mark.parametrize(
    ("text", "namespace", "name"),
    [
        (
            "dataset:postgres://db.example.com:5432:shop.public.orders",
            "postgres://db.example.com:5432",
            "shop.public.orders",
        ),
        ("dataset:postgres://db:shop.public.orders", "postgres://db", "shop.public.orders"),
        ("dataset:sqlite:///tmp/etl/w.db:report", "sqlite:///tmp/etl/w.db", "report"),
        ("dataset:file:/data/raw.csv", "file", "/data/raw.csv"),
        ("dataset:s3://bucket:path/to/key.parquet", "s3://bucket", "path/to/key.parquet"),
        ("job:airflow:etl.clean_orders", "airflow", "etl.clean_orders"),
        ("job:airflow:name:with:colons", "airflow", "name:with:colons"),
    ],
)
def test_parse_splits_url_namespaces_that_contain_colons(text, namespace, name):
    node = parse(text)
    assert (node.namespace, node.name) == (namespace, name)
    assert str(node) == text


def test_run_ids_are_normalised_uuids():
    node = parse("run:6E8E60B4-9CF5-4C86-8914-EB7B53B6E686")
    assert str(node) == "run:6e8e60b4-9cf5-4c86-8914-eb7b53b6e686"


def test_dataset_field_ids_keep_the_field_after_the_last_colon():
    node = parse("datasetField:postgres://db:5432:shop.public.orders:amount")
    assert (node.namespace, node.name, node.field) == ("postgres://db:5432", "shop.public.orders", "amount")
    assert str(node) == "datasetField:postgres://db:5432:shop.public.orders:amount"


def test_splits_lists_every_other_reading_of_the_same_text():
    readings = {(n.namespace, n.name) for n in splits(NodeId.dataset("a", "b:c"))}
    assert readings == {("a:b", "c")}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "node:x:y",
        "dataset",
        "dataset:x",
        "dataset::y",
        "run:not-a-uuid",
        "datasetField:ns:name",
        "dataset:ns:a\x00b",
    ],
)
def test_malformed_ids_name_what_is_wrong(text):
    with pytest.raises(InvalidNodeIdError):
        parse(text)
