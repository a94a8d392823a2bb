"""The plugin: the one wiring point, loaded by Airflow from the entry point, off when disabled."""

from __future__ import annotations

import subprocess
import sys

import pytest
from airflow.sdk.lineage import HookLineageReader

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture.listener import LineageListener
from airflow_lineage_provider.emit.direct import DirectEmitter
from airflow_lineage_provider.plugin import LineageProviderPlugin, get_listener


def test_enabled_plugin_registers_the_listener_and_the_hook_lineage_reader() -> None:
    plugin = LineageProviderPlugin()

    assert plugin.name == "airflow_lineage_provider"
    assert plugin.listeners == [get_listener()]
    assert isinstance(get_listener(), LineageListener)
    assert plugin.hook_lineage_readers == [HookLineageReader]


@pytest.mark.parametrize("value", ["True", "true", "1"])
def test_disabled_plugin_registers_nothing(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__DISABLED", value)
    conf.reload()
    plugin = LineageProviderPlugin()

    assert plugin.listeners == []
    assert plugin.hook_lineage_readers == []


def test_a_bad_disabled_value_turns_capture_off_instead_of_breaking_airflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__DISABLED", "maybe")
    conf.reload()

    assert LineageProviderPlugin().listeners == []


def test_the_listener_delivers_to_the_direct_emitter_unless_a_test_swaps_it() -> None:
    listener = LineageListener(emitter_factory=lambda: DirectEmitter())

    assert isinstance(listener.emitter, DirectEmitter)
    assert listener.emitter is listener.emitter


def test_airflow_loads_the_plugin_once_from_its_entry_point() -> None:
    from airflow import plugins_manager

    info = plugins_manager.get_plugin_info(attrs_to_dump=["name", "source", "listeners"])
    ours = [p for p in info if p["name"] == "airflow_lineage_provider"]

    assert len(ours) == 1
    assert "airflow-lineage-provider" in str(ours[0]["source"])
    assert ours[0]["listeners"] == ["airflow_lineage_provider.capture.listener.LineageListener"]


def test_importing_the_plugin_builds_and_imports_nothing_of_capture_emit_or_store() -> None:
    code = (
        "import sys, airflow_lineage_provider.plugin as p; p.LineageProviderPlugin(); "
        "print(sorted(m for m in sys.modules if m.startswith(('airflow_lineage_provider.capture', "
        "'airflow_lineage_provider.emit', 'airflow_lineage_provider.store', 'openlineage'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.strip() == "[]"
