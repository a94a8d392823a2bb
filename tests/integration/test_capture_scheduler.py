"""A real deployment: scheduler, dag-processor and api-server with the LocalExecutor, a DAG triggered
through the REST API. Only the scheduler reports a DAG run as started, and each task's events come
from its own task process."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.processes import free_port, healthy, start_all, stop, wait_for
from tests.integration.apiserver import finished_state, trigger
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

COMPONENTS = {
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server", "--host", "127.0.0.1", "--workers", "1"],
}


@dataclass
class Deployment:
    base_url: str
    env: dict[str, str]
    home: Path
    logs: Path
    pids: dict[str, int]

    def client(self) -> httpx.Client:
        password = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())[
            "admin"
        ]
        response = httpx.post(f"{self.base_url}/auth/token", json={"username": "admin", "password": password})
        response.raise_for_status()
        token = response.json()["access_token"]
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    home, logs = tmp_path / "home", tmp_path / "logs"
    home.mkdir()
    logs.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **clean_environ(),
        **prepare(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,  # else task processes call the execution API on :8080
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),  # one secret for every component
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),  # 8793 may be taken
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    processes = start_all(COMPONENTS, env, home, logs)
    try:
        pids = {name: process.pid for name, process in zip(COMPONENTS, processes, strict=True)}
        yield Deployment(base_url, env, home, logs, pids)
    finally:
        stop(processes)


def trigger_and_wait(api: httpx.Client, deployment: Deployment) -> str:
    """Unpause and trigger the DAG; wait for success."""
    run_id = trigger(api, DAG_ID, deployment.logs)
    assert finished_state(api, DAG_ID, run_id, deployment.logs) == "success"
    return run_id


def test_a_triggered_run_records_dag_start_and_each_tasks_events_from_task_processes(
    deployment: Deployment,
) -> None:
    wait_for("the api-server", lambda: healthy(deployment.base_url), 180, deployment.logs)
    with deployment.client() as api:
        run_id = trigger_and_wait(api, deployment)
    expected = {
        (DAG_ID, "START"),  # only the scheduler calls on_dag_run_running
        (DAG_ID, "COMPLETE"),
        *((f"{DAG_ID}.{task}", kind) for task in TASKS for kind in ("START", "COMPLETE")),
    }
    events = wait_for(
        "the events in the store",
        lambda: (found := stored_events(deployment.env)) and summary(found) >= expected and found,
        60,
        deployment.logs,
    )

    for event in events:
        validate_event(event)
    assert summary(events) == expected
    dag_start = next(e for e in events if (e["job"]["name"], e["eventType"]) == (DAG_ID, "START"))
    assert "nominalTime" in dag_start["run"]["facets"]  # logical_date is None here: run_after is used
    # Extracted inputs and outputs exist only where the real operator ran: in each task process.
    assert_pipeline_lineage(deployment.env, events)
    # The scheduler loaded capture (SQL parsing included) before it forked the LocalExecutor's workers,
    # so its task processes start with it instead of importing it each.
    assert "openlineage_sql" in Path(f"/proc/{deployment.pids['scheduler']}/maps").read_text()
    task_facets = [e["run"]["facets"]["airflowLineage_task"] for e in events if e["job"]["name"] != DAG_ID]
    assert {(f["task_id"], f["run_id"]) for f in task_facets} == {(task, run_id) for task in TASKS}
    # The scheduler's DAG-run events name the owners of its serialized DAG; each task's, its task's.
    owners = {
        (e["job"]["name"], e["eventType"]): [o["name"] for o in e["job"]["facets"]["ownership"]["owners"]]
        for e in events
    }
    assert owners[(DAG_ID, "START")] == owners[(DAG_ID, "COMPLETE")] == ["data-eng", "reporting"]
    assert owners[(f"{DAG_ID}.load", "START")] == owners[(f"{DAG_ID}.clean", "COMPLETE")] == ["data-eng"]
    assert owners[(f"{DAG_ID}.export", "START")] == owners[(f"{DAG_ID}.export", "COMPLETE")] == ["reporting"]
