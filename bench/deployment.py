"""One real Airflow deployment of ``bench.capture``: its environment, components and metadata.

Two executors, each set up as a user would:

* ``local``: the LocalExecutor, Airflow's metadata in SQLite, scheduler + dag-processor + api-server;
* ``celery``: the CeleryExecutor with Redis as the broker (its own queue and key prefix) and
  PostgreSQL for Airflow's metadata, the same three components plus one ``airflow celery worker``
  (prefork, concurrency 2), as ``tests/integration/cluster.py`` runs it.

Each mode gets a fresh ``AIRFLOW_HOME`` and a fresh metadata DB, cloned from one migrated once per
benchmark (a copy of the SQLite file; ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so every mode
starts from the same state. ``[core] parallelism`` is 2 (the machine's cores). Every process runs in
its own process group and is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import machine
from bench.processes import BenchError, airflow, free_port, healthy, start, stop, token, wait_for

REPO = Path(__file__).resolve().parent.parent
DAGS = Path(__file__).resolve().parent / "dags"
PLUGINS = Path(__file__).resolve().parent / "plugins"
DAG_ID = "bench_capture"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
COMPONENTS = {
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server", "--host", "127.0.0.1", "--workers", "1"],
}
# What a mode sets itself; inherited values would change what is measured.
_OWNED_PREFIXES = ("AIRFLOW__LINEAGE_PROVIDER__", "AIRFLOW__OPENLINEAGE__", "OPENLINEAGE", "BENCH_CAPTURE_")


@dataclass(frozen=True)
class TaskInstance:
    id: str  # uuid hex, as the supervisor logs it without dashes
    key: str  # run_id/task_id/try_number
    state: str | None
    start: datetime | None
    end: datetime | None


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def _admin_execute(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_pg(machine.POSTGRES_SERVER), connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def _database_url(name: str) -> str:
    return machine.POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def postgres_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database (a copy of ``template`` if given), dropped on exit; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield _database_url(name)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_environment(home: Path, executor: str, metadata_url: str | None, queue: str) -> dict[str, str]:
    """The environment every component of one mode's deployment shares (the mode adds its own)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWNED_PREFIXES)}
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,  # else task processes call the execution API on :8080
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),  # one secret for every component
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),  # 8793 may be taken
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # Airflow's default, stated: bench/workloadlog.py takes a late exit notice to be this long
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "5",
            "PYTHONPATH": os.pathsep.join(filter(None, (os.environ.get("PYTHONPATH"), str(REPO)))),
        }
    )
    if executor == "local":
        env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
    else:
        assert metadata_url is not None
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                "AIRFLOW__CELERY__BROKER_URL": REDIS,
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"{queue}:",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            }
        )
    return env


class Templates:
    """Airflow's metadata DB migrated once per benchmark; each mode gets a fresh copy of it."""

    def __init__(self, base: Path, executor: str, stack: contextlib.ExitStack) -> None:
        self.executor = executor
        self.stack = stack
        self.home = base / "template-home"
        self.home.mkdir()
        self.database: str | None = None
        metadata = None
        if executor == "celery":
            metadata = stack.enter_context(postgres_database("lineage_bench_template"))
            self.database = metadata.rsplit("/", 1)[1]
        env = base_environment(self.home, executor, metadata, "unused")
        airflow(env, "db", "migrate", timeout=600)

    def fresh(self, home: Path) -> str | None:
        """Give ``home`` its own copy of the metadata DB; its URL (None: SQLite in ``home``)."""
        home.mkdir(parents=True)
        if self.database is None:
            shutil.copy(self.home / "airflow.db", home / "airflow.db")
            return None
        return self.stack.enter_context(postgres_database("lineage_bench_airflow", template=self.database))


def start_components(
    env: Mapping[str, str], home: Path, logs: Path, queue: str, processes: list[subprocess.Popen[bytes]]
) -> str:
    """Start the deployment's components (appended to ``processes`` as they start, so the caller stops
    them even if a later one fails); wait until it is ready; an admin API token."""
    password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({"admin": password}))
    for name, args in COMPONENTS.items():
        processes.append(start(name, args, env, home, logs))
    if env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor":
        args = ["celery", "worker", "--queues", queue, "--concurrency", "2"]
        args += ["--celery-hostname", f"bench.{queue}@%h", "--without-mingle", "--without-gossip"]
        processes.append(start("worker", args, env, home, logs))
        log = logs / "worker.log"
        wait_for(
            "the Celery worker to be ready", lambda: " ready." in log.read_text(errors="replace"), 180, logs
        )
    base_url = env["AIRFLOW__API__BASE_URL"]
    wait_for("the api-server", lambda: healthy(base_url), 180, logs)
    return token(base_url, "admin", password)


def run_dag(api: Any, logs: Path, timeout: float = 600) -> str:
    """Wait until the DAG is parsed, unpause it, trigger a run, wait for it to end; its run id."""
    wait_for(
        f"{DAG_ID} to be parsed", lambda: api.get(f"/api/v2/dags/{DAG_ID}").status_code == 200, 180, logs
    )
    api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    triggered = api.post(f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    triggered.raise_for_status()
    run_id = str(triggered.json()["dag_run_id"])

    def finished() -> str | None:
        state = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        return str(state) if state in ("success", "failed") else None

    state = wait_for(f"run {run_id} to finish", finished, timeout, logs, every=0.5)
    if state != "success":
        raise BenchError(f"run {run_id} of {DAG_ID} ended {state}; logs in {logs}")
    return run_id


def task_instances(home: Path, metadata_url: str | None, run_ids: list[str]) -> list[TaskInstance]:
    """The task instances of the runs, from Airflow's metadata DB (read-only, after the runs)."""
    sql = (
        "SELECT id, run_id, task_id, try_number, state, start_date, end_date FROM task_instance "
        "WHERE dag_id = {m} AND run_id IN ({marks})"
    )
    if metadata_url is None:
        db = sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True)
        try:
            rows = db.execute(
                sql.format(m="?", marks=",".join("?" * len(run_ids))), [DAG_ID, *run_ids]
            ).fetchall()
        finally:
            db.close()
    else:
        import psycopg2

        conn = psycopg2.connect(_pg(metadata_url), connect_timeout=10)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql.format(m="%s", marks=",".join(["%s"] * len(run_ids))), [DAG_ID, *run_ids])
                rows = cursor.fetchall()
        finally:
            conn.close()
    return [
        TaskInstance(_uuid_hex(i), f"{run}/{task}/{tries}", state, _utc(began), _utc(ended))
        for i, run, task, tries, state, began, ended in rows
    ]


def _uuid_hex(value: Any) -> str:
    if isinstance(value, bytes) and len(value) == 16:
        return uuid.UUID(bytes=value).hex
    return uuid.UUID(str(value)).hex


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def forget_queue(queue: str) -> None:
    """Delete one Celery run's keys from Redis (its queue, bindings and bookkeeping)."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=5)
    try:
        for key in client.scan_iter(match=f"{queue}:*"):
            client.delete(key)
    finally:
        client.close()


__all__ = ["BenchError", "stop"]
