"""The shop pipeline's store, recorded once per test module for the read-only command tests."""

from __future__ import annotations

import pytest

from tests.cli.shell import shop_events


@pytest.fixture(scope="module")
def shop_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding the shop pipeline, recorded once for the read-only tests."""
    from airflow_lineage_provider import LineageStore

    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'shop-lineage.db'}"
    store = LineageStore.from_url(url)
    try:
        for event in shop_events():
            assert store.record(event)
    finally:
        store.close()
    return url
