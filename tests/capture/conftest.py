"""Capture tests: test DAGs under tests/capture/dags, run with dag.test() against an in-memory emitter."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_lineage_provider import conf
from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.emit.logs import lineage_log

__all__ = ["Events", "lineage_log", "names", "run_dag", "sqlite_connection_env"]

DAGS = Path(__file__).resolve().parent / "dags"
BUNDLE = "capture-test-dags"


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    conf.reload()
    yield
    conf.reload()


class Events:
    """Emitted events as dicts, with lookups by job name and event type."""

    def __init__(self, dicts: list[dict[str, Any]]) -> None:
        self.all = dicts

    def of(self, job: str, event_type: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.all
            if e["job"]["name"] == job and (event_type is None or e["eventType"] == event_type)
        ]

    def one(self, job: str, event_type: str) -> dict[str, Any]:
        found = self.of(job, event_type)
        assert len(found) == 1, f"expected one {event_type} of {job}, got {len(found)}: {self.summary()}"
        return found[0]

    def summary(self) -> list[tuple[str, str]]:
        return [(e["job"]["name"], e["eventType"]) for e in self.all]


def names(datasets: list[dict[str, Any]] | None) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets or []}


def load_dag_module(name: str) -> ModuleType:
    """Import tests/capture/dags/<name>.py once per session."""
    module_name = f"capture_test_dags_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, DAGS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def sqlite_connection_env(path: Path) -> dict[str, str]:
    return {"AIRFLOW_CONN_CAPTURE_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(path)})}


def run_dag(module_name: str, dag_attr: str, emitter: Emitter, env: dict[str, str] | None = None) -> Any:
    """dag.test() a test DAG with ``emitter`` at the listener's seam; its own DAG bundle serves the file.

    The bundle list keeps ``dags-folder`` so the example DAGs' bundle stays configured for other tests.
    """
    from airflow_lineage_provider.plugin import get_listener

    bundles = [
        {
            "name": BUNDLE,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(DAGS), "refresh_interval": 0},
        },
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {},
        },
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        conf.reload()
        dag = getattr(load_dag_module(module_name), dag_attr)
        previous = get_listener().use_emitter(emitter)
        try:
            return dag.test()
        finally:
            get_listener().use_emitter(previous)
            conf.reload()


@pytest.fixture
def emitted() -> Iterator[AccumulatingEmitter]:
    """An AccumulatingEmitter installed at the listener's emitter seam for one test."""
    from airflow_lineage_provider.plugin import get_listener

    emitter = AccumulatingEmitter()
    previous = get_listener().use_emitter(emitter)
    yield emitter
    get_listener().use_emitter(previous)
