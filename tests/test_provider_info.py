"""Provider metadata: a bad dict breaks the whole Airflow CLI, so it is checked the way Airflow reads it."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.utils import canonicalize_name

import airflow_lineage_provider
from airflow_lineage_provider.get_provider_info import get_provider_info

AIRFLOW = Path(sys.executable).parent / "airflow"
OPTIONS = {
    "disabled",
    "store_url",
    "namespace",
    "emit_timeout",
    "emitter",
    "http_url",
    "http_token",
    "outbox_dir",
    "max_event_bytes",
    "fingerprint_max_bytes",
    "fingerprint_timeout",
    "outbox_drain_interval",
    "outbox_poll_interval",
    "deliverer_idle_timeout",
    "durability",
    "adjacency_index",
    "adjacency_index_max_edges",
    "reconcile_interval",
    "reconcile_grace",
    "retention_days",
}


def our_entry_point(group: str) -> importlib.metadata.EntryPoint:
    found = [
        ep
        for ep in importlib.metadata.entry_points(group=group)
        if ep.module.startswith("airflow_lineage_provider")
    ]
    assert len(found) == 1, f"expected one {group} entry point of ours, found {found}"
    return found[0]


def test_provider_info_is_valid_against_airflows_own_schema() -> None:
    import airflow

    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))

    jsonschema.validate(get_provider_info(), schema)


def test_package_name_is_the_canonical_distribution_name() -> None:
    entry_point = our_entry_point("apache_airflow_provider")

    assert entry_point.dist is not None
    assert get_provider_info()["package-name"] == canonicalize_name(entry_point.dist.name)
    assert entry_point.load() is get_provider_info


def test_provider_version_is_the_package_version() -> None:
    version = importlib.metadata.version("airflow-lineage-provider")

    assert get_provider_info()["versions"][0] == version == airflow_lineage_provider.__version__


def test_config_section_declares_the_four_options_with_string_defaults() -> None:
    options = get_provider_info()["config"]["lineage_provider"]["options"]

    assert set(options) == OPTIONS
    assert all(isinstance(option["default"], str) for option in options.values())


def test_plugin_is_registered_only_through_the_airflow_plugins_entry_point() -> None:
    assert "plugins" not in get_provider_info()  # declaring it twice makes duplicate-plugin import errors
    assert our_entry_point("airflow.plugins").value == "airflow_lineage_provider.plugin:LineageProviderPlugin"


# -- the Airflow CLI, as an operator meets the provider ----------------------------------------------


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__LINEAGE_PROVIDER__")}
    env["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("provider-info-home"))
    return env


def airflow(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(AIRFLOW), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**env, **(extra_env or {})},
        cwd=env["AIRFLOW_HOME"],  # not the repo: a stray *.egg-info there would register us twice
    )
    assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def json_rows(output: str) -> list[dict[str, Any]]:
    """The JSON list that ``--output json`` prints (after any log lines)."""
    start = output.index("[")
    rows: list[dict[str, Any]] = json.loads(output[start:])
    return rows


def test_airflow_providers_list_shows_the_provider(airflow_env: dict[str, str]) -> None:
    rows = json_rows(airflow(airflow_env, "providers", "list", "--output", "json"))

    ours = [row for row in rows if row["package_name"] == "airflow-lineage-provider"]
    assert len(ours) == 1
    assert ours[0]["version"] == airflow_lineage_provider.__version__


def test_airflow_plugins_shows_the_plugin_once_with_its_listener(airflow_env: dict[str, str]) -> None:
    rows = json_rows(airflow(airflow_env, "plugins", "--output", "json"))

    ours = [row for row in rows if row["name"] == "airflow_lineage_provider"]
    assert len(ours) == 1
    assert ours[0]["listeners"], "the plugin registers no listener"
    assert "airflow-lineage-provider==" in ours[0]["source"]


def test_airflow_config_lists_the_section_with_its_four_options(airflow_env: dict[str, str]) -> None:
    output = airflow(airflow_env, "config", "list", "--section", "lineage_provider")

    assert "[lineage_provider]" in output
    listed = {line.lstrip("# ").split(" =")[0] for line in output.splitlines() if " =" in line}
    assert listed == OPTIONS


def test_namespace_defaults_to_airflow_and_env_overrides_it(airflow_env: dict[str, str]) -> None:
    default = airflow(airflow_env, "config", "get-value", "lineage_provider", "namespace")
    overridden = airflow(
        airflow_env,
        "config",
        "get-value",
        "lineage_provider",
        "namespace",
        extra_env={"AIRFLOW__LINEAGE_PROVIDER__NAMESPACE": "prod-airflow"},
    )

    assert default.strip().splitlines()[-1] == "airflow"
    assert overridden.strip().splitlines()[-1] == "prod-airflow"


def test_readme_documents_every_option_with_its_type_and_default() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("`"): cells
        for cells in ([c.strip() for c in line.split("|")[1:-1]] for line in section.splitlines())
        if cells and cells[0].startswith("`")
    }

    for name, option in get_provider_info()["config"]["lineage_provider"]["options"].items():
        default = f"`{option['default']}`" if option["default"] else "empty"
        assert rows[name][1:4] == [f"`AIRFLOW__LINEAGE_PROVIDER__{name.upper()}`", option["type"], default], (
            name
        )
    assert set(rows) == OPTIONS
