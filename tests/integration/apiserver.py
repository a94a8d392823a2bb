"""A real ``airflow api-server`` for tests: SimpleAuthManager users with known passwords, its own
AIRFLOW_HOME and lineage store, on a free port, in its own process group, stopped by its pid; and
Airflow's REST API as the tests use it (log in, trigger a DAG, wait for its run)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.processes import free_port, healthy, stop, token, wait_for

USERS = {"admin": "admin", "viewer": "viewer"}


@dataclass(frozen=True)
class ApiServer:
    base_url: str
    env: dict[str, str]
    passwords: dict[str, str]
    tokens: dict[str, str]
    log: Path


def airflow_env(home: Path, dags_folder: Path, store_url: str, port: int) -> dict[str, str]:
    """The environment of every Airflow command of one test deployment."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url,
        "AIRFLOW__LINEAGE_PROVIDER__DELIVERER_IDLE_TIMEOUT": "20",  # host deliverers a test starts end soon
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    return env


def airflow(
    env: Mapping[str, str], *args: str, timeout: float = 300, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """Run one Airflow command in the deployment (with ``python``'s Airflow); fail the test with its
    output if it fails."""
    done = subprocess.run(
        [python, "-m", "airflow", *args],
        env=dict(env),
        cwd=env["AIRFLOW_HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(
            f"airflow {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def trigger(api: httpx.Client, dag_id: str, logs: Path) -> str:
    """Wait until the DAG is parsed, unpause it and trigger a run (logical_date null, as the UI does)."""
    wait_for(
        f"{dag_id} to be parsed", lambda: api.get(f"/api/v2/dags/{dag_id}").status_code == 200, 180, logs
    )
    api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
    triggered = api.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None})
    triggered.raise_for_status()
    return str(triggered.json()["dag_run_id"])


def finished_state(api: httpx.Client, dag_id: str, run_id: str, logs: Path, timeout: float = 300) -> str:
    """Wait for a DAG run to end; its final state."""

    def finished() -> str | None:
        state = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    return str(wait_for(f"run {run_id} of {dag_id} to finish", finished, timeout, logs))


@contextmanager
def running_api_server(
    tmp_path: Path,
    dags_folder: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    before_start: list[tuple[str, ...]] | None = None,
    python: str = sys.executable,
) -> Iterator[ApiServer]:
    """Migrate Airflow's DB, run ``before_start`` Airflow commands, start the api-server, log every
    user in (``POST /auth/token``); stop it on exit. ``python`` is the interpreter whose Airflow runs
    (another venv's, to test an installed wheel)."""
    home = tmp_path / "home"
    home.mkdir()
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    (home / "passwords.json").write_text(json.dumps(passwords))
    port = free_port()
    env = airflow_env(home, dags_folder or tmp_path / "dags", f"sqlite:///{tmp_path / 'lineage.db'}", port)
    env.update(extra_env or {})
    base_url = env["AIRFLOW__API__BASE_URL"]
    airflow(env, "db", "migrate", python=python)
    for command in before_start or []:
        airflow(env, *command, python=python)
    log_path = tmp_path / "api-server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [python, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", "1"],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while not healthy(base_url):
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"api-server did not come up:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        tokens = {user: token(base_url, user, password) for user, password in passwords.items()}
        yield ApiServer(base_url, env, passwords, tokens, log_path)
    finally:
        stop([server])
