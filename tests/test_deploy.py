"""docker-compose.yaml, as a real Compose implementation resolves it (``docker compose config``, or
Debian's ``docker-compose``: both run without a Docker engine), names what the provider needs: the
image built with the provider, CeleryExecutor, a lineage store in its own database that airflow-init
creates and migrates, only options that Airflow and the provider declare, and health checks. The
init step itself runs here against a real PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from importlib.metadata import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.conftest import REPO, fresh_postgres_database

COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
INIT_SCRIPT = REPO / "deploy" / "lineage_store_init.py"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-cli",
}
LONG_RUNNING = AIRFLOW_SERVICES - {"airflow-init", "airflow-cli"} | {"postgres", "redis"}
OPTION = re.compile(r"^AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)$")


def compose_command() -> list[str]:
    """A Compose implementation that runs here: the Docker CLI's plugin, else docker-compose."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    message = "no Compose implementation: install Debian's docker-compose (.ci/setup does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The configuration Compose resolves from docker-compose.yaml and .env.example."""
    result = subprocess.run(
        [*compose_command(), "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},  # no stray variables
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # some implementations print KEY=VALUE lines
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_compose_accepts_the_file_with_every_service_of_the_deployment(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == AIRFLOW_SERVICES | {"postgres", "redis"}


def test_every_airflow_service_runs_the_image_built_with_the_provider(compose: dict[str, Any]) -> None:
    from airflow import __version__ as airflow_version

    services = compose["services"]
    images = {services[name]["image"] for name in AIRFLOW_SERVICES}
    builds = {
        (services[name]["build"]["dockerfile"], services[name]["build"]["args"]["AIRFLOW_IMAGE"])
        for name in AIRFLOW_SERVICES
    }

    assert images == {"airflow-lineage-provider:0.1.0"}
    assert builds == {("deploy/Dockerfile", f"apache/airflow:{airflow_version}")}  # the Airflow tested here
    assert f"ARG AIRFLOW_IMAGE=apache/airflow:{airflow_version}\n" in DOCKERFILE.read_text()


def test_the_image_is_built_from_files_that_exist_and_builds_the_ui_as_setup_does() -> None:
    dockerfile = DOCKERFILE.read_text()
    sources = [
        word
        for line in dockerfile.splitlines()
        if line.startswith("COPY") and "--from=" not in line
        for word in line.split()[1:-1]
        if not word.startswith("--")
    ]

    assert sources, "no COPY in deploy/Dockerfile"
    assert all((REPO / source).exists() for source in sources), sources
    assert "RUN npm ci" in dockerfile and "RUN npm run build" in dockerfile
    extras = set(re.findall(r"/opt/airflow-lineage/src\[([a-z,]+)\]", dockerfile)[0].split(","))
    declared = metadata("airflow-lineage-provider").get_all("Provides-Extra") or []
    assert {"postgres", "examples"} <= extras <= set(declared)  # examples: the mounted dags/ need it
    assert "npm ci" in (REPO / ".ci" / "setup").read_text()
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "**/node_modules", "airflow_lineage_provider/ui/dist"} <= set(ignored)


def test_every_lineage_provider_variable_is_an_option_the_provider_declares(compose: dict[str, Any]) -> None:
    from airflow_lineage_provider.get_provider_info import get_provider_info

    declared = set(get_provider_info()["config"]["lineage_provider"]["options"])
    used = {
        key.removeprefix("AIRFLOW__LINEAGE_PROVIDER__").lower()
        for service in compose["services"].values()
        for key in environment(service)
        if key.startswith("AIRFLOW__LINEAGE_PROVIDER__")
    }

    assert {"store_url", "emitter", "outbox_dir"} <= used
    assert used <= declared, used - declared


def test_every_airflow_variable_names_an_option_airflow_or_a_provider_declares(
    compose: dict[str, Any],
) -> None:
    from airflow.configuration import conf

    known = conf.configuration_description  # Airflow's own and every installed provider's options
    unknown = sorted(
        key
        for service in compose["services"].values()
        for key in environment(service)
        if (match := OPTION.match(key))
        and match[2].lower() not in (known.get(match[1].lower()) or {}).get("options", {})
    )

    assert not unknown


def test_the_executor_is_celery_on_the_compose_redis_and_postgres(compose: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        env = environment(compose["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:6379/"), name
        assert make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).host == "postgres", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert compose["services"]["airflow-worker"]["command"] in ("celery worker", ["celery", "worker"])


def test_the_store_is_its_own_database_that_init_creates_and_migrates(compose: dict[str, Any]) -> None:
    services = compose["services"]
    init = services["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        store = make_url(env["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"])
        metadata = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (store.host, store.database) == ("postgres", "lineage"), name
        assert store.database != metadata.database, name

    assert "airflow db migrate" in script
    assert f"python /opt/airflow-lineage/{INIT_SCRIPT.name}" in script
    assert f"COPY --chown=airflow:0 deploy/{INIT_SCRIPT.name} /opt/airflow-lineage/" in DOCKERFILE.read_text()
    for name in LONG_RUNNING - {"postgres", "redis"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_workers_write_the_store_they_share_a_network_with(compose: dict[str, Any]) -> None:
    worker = compose["services"]["airflow-worker"]
    env = environment(worker)

    # docker-compose.yaml's choice (docs/deploy.md): emitter = direct, as the worker already reaches
    # this PostgreSQL server for Celery's result backend; no API token to provision.
    assert env["AIRFLOW__LINEAGE_PROVIDER__EMITTER"] == "direct"
    assert make_url(env["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"]).host in worker["depends_on"]
    assert worker["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    outbox = env["AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR"]
    for name in ("airflow-worker", "airflow-apiserver"):  # the API server drains what workers left
        volumes = compose["services"][name]["volumes"]
        assert any((v["target"] if isinstance(v, dict) else v.split(":")[1]) == outbox for v in volumes)


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    missing = sorted(name for name in LONG_RUNNING if not services[name].get("healthcheck", {}).get("test"))

    assert not missing
    assert "/lineage/openapi.json" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])


def test_the_env_example_sets_only_variables_the_compose_file_reads() -> None:
    compose_text = COMPOSE_FILE.read_text()
    names = [
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert names
    assert [n for n in names if "${" + n not in compose_text] == []


@pytest.mark.postgres
def test_init_creates_the_lineage_database_once_and_migrates_it() -> None:
    from sqlalchemy import create_engine, inspect, text

    # A database on the test server (skipped without one, failed under CI=true); init creates another.
    with fresh_postgres_database("lineage_deploy_admin") as server:
        name = f"lineage_deploy_{uuid.uuid4().hex[:10]}"
        store_url = make_url(server).set(database=name).render_as_string(hide_password=False)
        env = {
            **os.environ,
            "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        try:
            init = [sys.executable, str(INIT_SCRIPT)]
            first, second = [
                subprocess.run(init, env=env, capture_output=True, text=True, timeout=120) for _ in range(2)
            ]
            engine = create_engine(store_url)
            try:
                tables = set(inspect(engine).get_table_names())
            finally:
                engine.dispose()
        finally:
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"created the lineage database {name}\n"), first.stdout
    assert "lineage store is at revision" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout  # it exists now: only migrated
    assert "lineage_alembic_version" in tables
