"""`airflow dags test` in a real subprocess: the plugin loads from its entry point, events reach the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.pipeline import (
    DAG_ID,
    TASKS,
    assert_pipeline_lineage,
    clean_environ,
    prepare,
    stored_events,
    summary,
)
from tests.spec import validate_event

pytestmark = pytest.mark.integration


def test_dags_test_records_every_task_and_the_dag_run_in_the_store(airflow_db: Path, tmp_path: Path) -> None:
    env = prepare(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID],
        env={
            **clean_environ(),
            "AIRFLOW_HOME": str(airflow_db),  # the session's home, its metadata DB migrated
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "lineage:" not in result.stdout + result.stderr  # capture logged no warning

    events = stored_events(env)

    for event in events:
        validate_event(event)
    assert summary(events) == {
        *((f"{DAG_ID}.{task}", kind) for task in TASKS for kind in ("START", "COMPLETE")),
        (DAG_ID, "COMPLETE"),  # dags test never reports the DAG run as started: no DAG START
    }
    assert len(events) == 2 * len(TASKS) + 1
    assert_pipeline_lineage(env, events)
