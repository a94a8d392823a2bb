"""The plugin mounts the API at /lineage, lazily: a task process never imports FastAPI or our api."""

from __future__ import annotations

import subprocess
import sys

from airflow_lineage_provider.api.app import cached_app
from airflow_lineage_provider.plugin import LineageProviderPlugin
from tests.api.conftest import lineage_app


def test_the_plugin_offers_one_app_at_lineage_built_once_per_process():
    first, second = LineageProviderPlugin().fastapi_apps, LineageProviderPlugin().fastapi_apps
    assert [(a["url_prefix"], a["name"]) for a in first] == [("/lineage", "Lineage Provider API")]
    assert first[0]["app"] is second[0]["app"] is cached_app()


def test_airflow_mounts_the_plugin_app(airflow_client):
    assert lineage_app(airflow_client) is cached_app()


def test_loading_the_plugin_as_a_task_process_does_not_import_fastapi():
    code = (
        "import sys; from airflow_lineage_provider.plugin import LineageProviderPlugin as P; "
        "p = P(); p.listeners; p.hook_lineage_readers; "
        "print(sorted(m for m in sys.modules "
        "if m == 'fastapi' or m.startswith('airflow_lineage_provider.api')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_schema_of_the_api_has_a_name_of_its_own():
    # two response models of one name get module-qualified OpenAPI names (a__b__ImpactResponse)
    names = list(cached_app().openapi()["components"]["schemas"])

    assert names and not [name for name in names if "__" in name]
