"""A real distributed Airflow on this machine, as docker-compose.yaml runs it in containers.

CeleryExecutor with Redis as the broker; PostgreSQL as Airflow's metadata DB and as the lineage
store (two fresh databases, dropped afterwards); ``airflow db migrate`` and ``airflow-lineage db
upgrade`` as airflow-init does; then api-server, scheduler and dag-processor processes, and Celery
workers started and stopped separately (``airflow celery worker``), each with its own hostname
(``[core] hostname_callable``). Runs never collide: a Celery queue and a Redis key prefix of their
own, free ports, a temporary AIRFLOW_HOME. Every process is stopped by its process group.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.processes import free_port, healthy, start, stop, token, wait_for
from tests.conftest import REPO, fresh_postgres_database, redis_server_url
from tests.integration.apiserver import USERS, airflow, airflow_env
from tests.integration.test_capture_scheduler import COMPONENTS

BIN = Path(sys.executable).parent
DAGS = REPO / "dags"
EXAMPLE_CONN = "AIRFLOW_CONN_LINEAGE_EXAMPLE_SQLITE"


@dataclass(frozen=True)
class Cluster:
    base_url: str
    env: dict[str, str]
    home: Path
    logs: Path
    store_url: str
    queue: str
    example_db: Path
    data_dir: Path
    admin_token: str
    worker_pids: dict[str, int] = field(default_factory=dict)  # while running_workers runs

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)


def _forget(broker: str, prefix: str) -> None:
    """Delete this run's keys from Redis (the queue, Celery's bindings and bookkeeping)."""
    import redis

    client = redis.Redis.from_url(broker)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@contextmanager
def running_cluster(base: Path) -> Iterator[Cluster]:
    """Databases, Redis namespace, migrations, then api-server, scheduler and dag-processor."""
    broker = redis_server_url()
    with ExitStack() as stack:
        metadata_url = stack.enter_context(fresh_postgres_database("lineage_it_airflow"))
        store_url = stack.enter_context(fresh_postgres_database("lineage_it_store"))
        home, logs = base / "home", base / "logs"
        home.mkdir()
        logs.mkdir()
        passwords = {user: uuid.uuid4().hex for user in USERS}
        (home / "passwords.json").write_text(json.dumps(passwords))
        port = free_port()
        run = f"lineage_it_{uuid.uuid4().hex[:10]}"
        env = airflow_env(home, DAGS, store_url, port)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{env['AIRFLOW__API__BASE_URL']}/execution/",
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"{run}:",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": run,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(home / "outbox"),
                EXAMPLE_CONN: json.dumps({"conn_type": "sqlite", "host": str(base / "example.db")}),
                "LINEAGE_EXAMPLE_DATA_DIR": str(base / "data"),
            }
        )
        stack.callback(_forget, broker, f"{run}:")  # runs after stop() below: an ExitStack unwinds backwards
        airflow(env, "db", "migrate")
        upgraded = subprocess.run(
            [str(BIN / "airflow-lineage"), "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        processes: list[subprocess.Popen[bytes]] = []
        stack.callback(stop, processes)
        for name, args in COMPONENTS.items():
            processes.append(start(name, args, env, home, logs))
        base_url = env["AIRFLOW__API__BASE_URL"]
        wait_for("the api-server", lambda: healthy(base_url), 180, logs)
        yield Cluster(
            base_url=base_url,
            env=env,
            home=home,
            logs=logs,
            store_url=store_url,
            queue=run,
            example_db=base / "example.db",
            data_dir=base / "data",
            admin_token=token(base_url, "admin", passwords["admin"]),
        )


@contextmanager
def running_workers(
    cluster: Cluster, names: list[str], extra_env: Mapping[str, str]
) -> Iterator[dict[str, Path]]:
    """One ``airflow celery worker`` per name (concurrency 1, its own hostname, log port and outbox),
    ready to take tasks from the cluster's queue; yields each worker's outbox directory. Their
    processes (Celery's main process of each) are in ``cluster.worker_pids`` meanwhile."""
    processes: list[subprocess.Popen[bytes]] = []
    outboxes = {name: cluster.home / f"outbox-{name}" for name in names}
    try:
        for name in names:
            env = {
                **cluster.env,
                "PYTHONPATH": str(REPO),  # for tests.integration.workerhost
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.integration.workerhost.hostname",
                "LINEAGE_IT_HOSTNAME": name,
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(outboxes[name]),
                **extra_env,
            }
            args = ["celery", "worker", "--queues", cluster.queue, "--concurrency", "1"]
            args += [
                "--celery-hostname",
                f"{name}.{cluster.queue}@%h",
                "--without-mingle",
                "--without-gossip",
            ]
            processes.append(start(f"worker-{name}", args, env, cluster.home, cluster.logs))
        for name in names:
            log = cluster.logs / f"worker-{name}.log"
            wait_for(
                f"worker {name} to be ready", lambda log=log: " ready." in log.read_text(), 180, cluster.logs
            )
        cluster.worker_pids.update(zip(names, (process.pid for process in processes), strict=True))
        yield outboxes
    finally:
        cluster.worker_pids.clear()
        stop(processes)
