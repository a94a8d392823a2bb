"""Celery's worker loads capture once, before it forks (``capture/prefork.py``): through Celery's own
``celery.commands`` entry points and its ``worker_init`` signal, only in Airflow's worker and only
with capture on. Each case runs in a fresh interpreter: what a process has imported is the subject.
The real ``airflow celery worker`` is checked in ``tests/integration/test_celery_distributed.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from tests.conftest import REPO

PROBE = """
import json, sys
{before}
from celery import signals
from celery.bin.celery import celery  # Celery's command line: loads the celery.commands entry points
signals.worker_init.send(sender=None)  # what a worker sends before it starts its pool
print(json.dumps({{
    "listener": "airflow_lineage_provider.capture.listener" in sys.modules,
    "sql": "openlineage_sql" in sys.modules,
    "commands": sorted(celery.commands),
}}))
"""
AIRFLOW_WORKER = "import airflow.providers.celery.executors.celery_executor_utils"


def probe(before: str, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_the_package_declares_its_celery_entry_point() -> None:
    found = {e.name: e.value for e in entry_points(group="celery.commands")}
    assert found.get("airflow-lineage") == "airflow_lineage_provider.capture.prefork:command"


def test_airflows_celery_worker_loads_capture_before_it_starts_its_pool() -> None:
    found = probe(AIRFLOW_WORKER)
    assert found["listener"] is True
    assert found["sql"] is True
    assert "airflow-lineage" in found["commands"]  # loaded, not a broken command


def test_another_celery_application_loads_nothing_of_capture() -> None:
    found = probe("")
    assert found == {"listener": False, "sql": False, "commands": found["commands"]}
    assert "airflow-lineage" in found["commands"]


def test_nothing_is_loaded_when_capture_is_off() -> None:
    found = probe(AIRFLOW_WORKER, AIRFLOW__LINEAGE_PROVIDER__DISABLED="True")
    assert found["listener"] is False
    assert found["sql"] is False


@pytest.mark.parametrize(("disabled", "says"), [("False", "capture is on"), ("True", "capture is off")])
def test_the_command_says_whether_a_worker_preloads_capture(disabled: str, says: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "airflow-lineage"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AIRFLOW__LINEAGE_PROVIDER__DISABLED": disabled},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert says in result.stdout
