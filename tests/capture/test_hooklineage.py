"""The process-wide hook lineage collector: read it, and reset it at each task start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airflow.sdk.lineage import HookLineageCollector, get_hook_lineage_collector

from airflow_lineage_provider.capture import hooklineage
from airflow_lineage_provider.capture.lineage import Lineage


@pytest.fixture(autouse=True)
def _fresh_collector() -> Iterator[None]:
    get_hook_lineage_collector.cache_clear()
    yield
    get_hook_lineage_collector.cache_clear()


class FakeContext:
    """Stands in for the hook instance a collector entry is keyed by."""


def test_our_plugin_turns_hook_lineage_collection_on() -> None:
    assert type(get_hook_lineage_collector()) is HookLineageCollector


def test_nothing_is_collected_before_any_hook_reported() -> None:
    assert hooklineage.collected() is None
    assert get_hook_lineage_collector.cache_info().currsize == 0  # reading did not create one


def test_reset_gives_the_next_task_an_empty_collector() -> None:
    get_hook_lineage_collector().add_extra(context=FakeContext(), key="sql_job", value={"sql": "SELECT 1"})
    assert hooklineage.collected() is not None

    hooklineage.reset()

    assert hooklineage.collected() is None
    assert not get_hook_lineage_collector().has_collected


def test_hook_assets_are_inputs_and_outputs() -> None:
    collector = get_hook_lineage_collector()
    context = FakeContext()
    collector.add_input_asset(context=context, uri="s3://bucket/in.csv")
    collector.add_output_asset(context=context, uri="file:///data/out.csv")
    lineage = Lineage()

    hooklineage.add_hook_lineage(lineage)

    assert set(lineage.inputs) == {("s3://bucket", "in.csv")}
    assert set(lineage.outputs) == {("file", "/data/out.csv")}
