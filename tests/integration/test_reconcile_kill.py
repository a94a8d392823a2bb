"""A task process SIGKILLed between Airflow's state change and our hook: the API server's reconciler
closes its run from Airflow's record (scheduler, dag-processor and api-server, LocalExecutor).

The kill plugin (reconcile_plugin.py) kills ``killed_in_success`` in its success listener, after the
task runner reported success to the supervisor but before our COMPLETE, and ``killed_in_running``
in its running listener, before our START.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_lineage_provider.core import runids
from bench.processes import healthy, wait_for
from tests.integration.apiserver import finished_state, trigger
from tests.integration.pipeline import clean_environ, stored_events
from tests.integration.test_capture_scheduler import COMPONENTS, Deployment
from tests.spec import validate_event

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
DAG_ID = "reconcile_kill"
KILLED = ("killed_in_success", "killed_in_running")
RECONCILED = "airflowLineage_reconciled"


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    import secrets
    import subprocess
    import sys

    from bench.processes import free_port, start_all, stop

    home, logs, dags, plugins = (tmp_path / name for name in ("home", "logs", "dags", "plugins"))
    for folder in (home, logs, dags, plugins):
        folder.mkdir()
    shutil.copy(HERE / "reconcile_dag.py", dags / "reconcile_dag.py")
    shutil.copy(HERE / "reconcile_plugin.py", plugins / "reconcile_plugin.py")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **clean_environ(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": f"sqlite:///{tmp_path / 'lineage.db'}",
        "AIRFLOW__LINEAGE_PROVIDER__RECONCILE_INTERVAL": "2",
        "AIRFLOW__LINEAGE_PROVIDER__RECONCILE_GRACE": "1",
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DRAIN_INTERVAL": "2",
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    processes = start_all(COMPONENTS, env, home, logs)
    try:
        pids = {name: process.pid for name, process in zip(COMPONENTS, processes, strict=True)}
        yield Deployment(base_url, env, home, logs, pids)
    finally:
        stop(processes)


def _task_states(api: httpx.Client, run_id: str) -> dict[str, dict[str, Any]]:
    found = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    return {ti["task_id"]: ti for ti in found}


def _events_of(events: list[dict[str, Any]], task_id: str) -> list[dict[str, Any]]:
    return sorted(
        (e for e in events if e["job"]["name"] == f"{DAG_ID}.{task_id}"), key=lambda e: e["eventTime"]
    )


def _closed(deployment: Deployment) -> list[dict[str, Any]] | None:
    events = stored_events(deployment.env)
    terminal = {"COMPLETE", "FAIL", "ABORT"}
    done = all(
        {"START"} <= {e["eventType"] for e in _events_of(events, t)}
        and terminal & {e["eventType"] for e in _events_of(events, t)}
        for t in (*KILLED, "survives")
    )
    return events if done else None


def test_runs_of_killed_task_processes_are_closed_from_airflows_record(deployment: Deployment) -> None:
    wait_for("the api-server", lambda: healthy(deployment.base_url), 180, deployment.logs)
    with deployment.client() as api:
        run_id = trigger(api, DAG_ID, deployment.logs)
        finished_state(api, DAG_ID, run_id, deployment.logs)
        tis = wait_for(
            "every task instance to end",
            lambda: (
                (s := _task_states(api, run_id))
                and all(ti["state"] not in (None, "running", "queued", "scheduled") for ti in s.values())
                and s
            ),
            120,
            deployment.logs,
        )
        events = wait_for("the killed runs to be closed", lambda: _closed(deployment), 120, deployment.logs)
        # what the REST API shows for the run of the task killed after Airflow recorded its success
        success_ti = tis["killed_in_success"]
        run_uuid = runids.task_run_id(DAG_ID, "killed_in_success", run_id, success_ti["try_number"], -1)
        rest_run = api.get(f"/lineage/api/v1/jobs/runs/{run_uuid}").json()

    states = {task: ti["state"] for task, ti in tis.items()}
    print("Airflow recorded:", states)  # the finding this test pins (-s shows it)
    assert states == {"killed_in_success": "success", "killed_in_running": "failed", "survives": "success"}
    for event in events:
        validate_event(event)

    survives = _events_of(events, "survives")
    assert [e["eventType"] for e in survives] == ["START", "COMPLETE"]
    assert not any("airflowLineage_reconciled" in e["run"]["facets"] for e in survives)

    # killed after Airflow recorded success: our START is there, the COMPLETE comes from Airflow's record
    in_success = _events_of(events, "killed_in_success")
    assert [e["eventType"] for e in in_success] == ["START", "COMPLETE"]
    assert "airflowLineage_reconciled" not in in_success[0]["run"]["facets"]
    complete = in_success[1]
    reconciled = complete["run"]["facets"]["airflowLineage_reconciled"]
    assert (reconciled["source"], reconciled["airflow_state"]) == ("airflow_metadata_db", "success")
    assert complete["eventTime"] == _same_time(tis["killed_in_success"]["end_date"], complete["eventTime"])
    assert complete["run"]["runId"] == run_uuid
    assert rest_run["state"] == "COMPLETED"

    # killed before our START: both events come from Airflow's record
    in_running = _events_of(events, "killed_in_running")
    kinds = [e["eventType"] for e in in_running]
    print("killed_in_running:", [(e["eventType"], RECONCILED in e["run"]["facets"]) for e in in_running])
    assert kinds == ["START", "FAIL"]  # nothing else (not the scheduler) wrote a FAIL for it
    assert all(RECONCILED in e["run"]["facets"] for e in in_running)
    start = in_running[0]
    assert start["run"]["facets"]["airflowLineage_reconciled"]["airflow_state"] == "failed"
    assert start["eventTime"] == _same_time(tis["killed_in_running"]["start_date"], start["eventTime"])


def _same_time(airflow_time: str, event_time: str) -> str:
    """``event_time`` when both name the same instant, else ``airflow_time`` (so the assert shows both)."""
    from datetime import datetime

    same = datetime.fromisoformat(airflow_time.replace("Z", "+00:00")) == datetime.fromisoformat(
        event_time.replace("Z", "+00:00")
    )
    return event_time if same else airflow_time
