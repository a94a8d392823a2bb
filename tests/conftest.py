"""Test set-up shared by the whole suite.

Airflow reads AIRFLOW_HOME when it is first imported, so the environment is set here, before any
test module imports Airflow: every test session gets a fresh temporary AIRFLOW_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO / "tests" / "openlineage_spec"  # vendored, with its licence and origin (README.md there)

_HOME = Path(tempfile.mkdtemp(prefix="lineage-test-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ.setdefault("AIRFLOW__CORE__PARALLELISM", "2")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.pop("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", None)
os.environ.pop("AIRFLOW__LINEAGE_PROVIDER__DISABLED", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _own_outbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own outbox: events one test could not deliver never reach another's store."""
    from airflow_lineage_provider import conf

    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR", str(tmp_path_factory.mktemp("outbox")))
    conf.reload()
    yield
    conf.reload()


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """Airflow's own metadata DB, migrated once per session (needed by dag.test())."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        cwd=_HOME,  # not the repo: a stray *.egg-info there would register the plugin twice
        timeout=300,
    )
    return airflow_home


def postgres_server_url() -> str | None:
    """The PostgreSQL server for tests, or None; under CI=true a missing server is a failure."""
    url = os.environ.get("LINEAGE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but LINEAGE_TEST_POSTGRES_URL is not set: PostgreSQL tests are required in CI"
            )
        return None
    return url


def _required_or_skip(message: str) -> NoReturn:
    """Skip a test that needs a missing server, except under CI=true, where it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def redis_server_url() -> str:
    """The Redis server for tests (LINEAGE_TEST_REDIS_URL), answering a ping; else skip (fail under CI)."""
    url = os.environ.get("LINEAGE_TEST_REDIS_URL")
    if not url:
        _required_or_skip(
            "LINEAGE_TEST_REDIS_URL is not set: the Celery tests need Redis (the test command sets it)"
        )
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        _required_or_skip(f"Redis at {url} is unreachable: {exc}")
    finally:
        client.close()
    return str(url)


@contextmanager
def fresh_postgres_database(prefix: str = "lineage_test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped on exit; skip (fail under CI) without a server."""
    server = postgres_server_url()
    if server is None:
        pytest.skip("PostgreSQL not available: set LINEAGE_TEST_POSTGRES_URL (the test command sets it)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        _required_or_skip(f"PostgreSQL at {server} is unreachable: {exc}")
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this session, dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty lineage store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lineage.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as conn:  # a clean schema per test
        schema = f"t_{uuid.uuid4().hex[:10]}"
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    yield f"{base}?options=-csearch_path%3D{schema}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    from airflow_lineage_provider import LineageStore

    lineage_store = LineageStore.from_url(store_url)
    yield lineage_store
    lineage_store.close()
