"""The compatibility job: each tested Airflow minor in its own fresh venv, with the built wheel installed
by pip. The example ETL DAG runs in ``airflow dags test``, capture stores its lineage, the CLI reads it
back (``airflow-lineage upstream``) and ``airflow-lineage doctor`` finds the installation healthy (the
plugin, the listener and the hook lineage reader registered: on Airflow 3.1 through
:mod:`airflow_lineage_provider.compat`).

A smaller set than the full suite (which runs on the newest minor), so that it fits in CI's time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from airflow_lineage_provider.cli import doctor
from tests.conftest import REPO
from tests.integration.conftest import Dists
from tests.integration.venvs import clean_env, constraints, make_venv, run, venv_bin

pytestmark = pytest.mark.integration

AIRFLOW = {"3.1": "3.1.8", "3.2": "3.2.2", "3.3": "3.3.2"}  # the newest release of each tested minor
# Every other distribution is pinned to the suite's version, as Airflow's own constraints file pins a
# release's dependencies (pip alone picks the newest of each, and Airflow 3.2.2's execution API then
# fails: fastapi 0.165 / cadwyn 9 break its models, svcs 26 its lifespan), except Airflow itself and
# what that release needs differently (core 3.1.8 requires fastapi<0.118, with the starlette and cadwyn
# that go with it, aiosqlite<0.22 and universal-pathlib<0.3; core 3.2.2 requires aiosqlite<0.22).
UNPINNED = {
    "3.1": ("aiosqlite", "cadwyn", "fastapi", "starlette", "universal-pathlib"),
    "3.2": ("aiosqlite", "svcs"),
    "3.3": (),
}
HELD_BACK = {"3.1": [], "3.2": ["aiosqlite<0.22", "svcs<26"], "3.3": []}
CORE = ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk")
DAG = "lineage_example_etl"


def test_every_minor_doctor_calls_tested_is_tested_here() -> None:
    assert tuple(AIRFLOW) == tuple(UNPINNED) == tuple(HELD_BACK) == doctor.TESTED_AIRFLOW


@pytest.mark.parametrize("minor", list(AIRFLOW))
def test_the_example_dag_is_captured_and_read_back_on_airflow(
    minor: str, dists: Dists, tmp_path: Path
) -> None:
    version = AIRFLOW[minor]
    requirements = [str(dists.wheel), f"apache-airflow=={version}", *HELD_BACK[minor]]
    pinned = constraints(tmp_path / "constraints.txt", drop=CORE + UNPINNED[minor])
    python = make_venv(tmp_path / "venv", requirements, pinned)
    home, dags, db = tmp_path / "home", tmp_path / "dags", tmp_path / "example.db"
    home.mkdir()
    dags.mkdir()
    shutil.copy(REPO / "dags" / f"{DAG}.py", dags)
    env = {
        **clean_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": f"sqlite:///{tmp_path / 'lineage.db'}",
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(tmp_path / "outbox"),
        "AIRFLOW_CONN_LINEAGE_EXAMPLE_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(db)}),
        "LINEAGE_EXAMPLE_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)

    installed = run([str(python), "-c", "import airflow; print(airflow.__version__)"], home, 120, env)
    assert installed.strip() == version
    run([str(python), "-m", "airflow", "db", "migrate"], home, 600, env)
    run([str(python), "-m", "airflow", "dags", "test", DAG], home, 600, env)
    lineage = venv_bin(python, "airflow-lineage")
    upstream = run(
        [lineage, "upstream", f"dataset:sqlite://{db}:order_report", "--depth", "5"], home, 120, env
    )
    report = json.loads(run([lineage, "doctor", "--json"], home, 120, env))

    assert "[job] lineage_example_etl.build_clean_orders  (airflow)" in upstream
    assert "[dataset] raw_orders" in upstream and "[dataset] raw_customers" in upstream
    checks = {check["name"]: check for check in report["checks"]}
    assert report["ok"], report
    names = ("airflow", "provider", "plugin", "capture", "hook lineage")
    assert {name: checks[name]["status"] for name in names} == dict.fromkeys(names, "ok"), report
    assert checks["airflow"]["detail"].startswith(f"Airflow {version} is supported")
