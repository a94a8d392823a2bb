"""What capture adds to a task's process: the same DAG run with capture on and off, the process's
modules compared right after each task's success hooks ran (ours included). Capture's path must not
import the store, SQLAlchemy, pydantic event models, jsonschema, openlineage-python or FastAPI:
validation and storage belong to long-lived processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("airflow_db")

# Top-level packages (and our modules) a task process must not import for lineage.
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "jsonschema",
    "fastapi",
    "starlette",
    "openlineage.client",
    "airflow_lineage_provider.store",
    "airflow_lineage_provider.api",
    "airflow_lineage_provider.core.events",
    "airflow_lineage_provider.emit.direct",
    "airflow_lineage_provider.emit.durable",
    "airflow_lineage_provider.emit.http",
)

DAG = """
from __future__ import annotations

import pendulum
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.sdk import Asset, dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def imports_probe():
    @task(outlets=[Asset("file:///tmp/imports-probe/out.csv")])
    def plain() -> int:
        return 1

    @task
    def sql() -> None:
        hook = SqliteHook(sqlite_conn_id="probe_sqlite")
        hook.run("CREATE TABLE IF NOT EXISTS src (id INTEGER, amount REAL)")
        hook.run("CREATE TABLE IF NOT EXISTS dst AS SELECT id, amount FROM src")

    plain() >> sql()


probe = imports_probe()
"""

# A plugin whose success hook runs after every other one (ours included) and writes the modules.
PLUGIN = """
import json, os, sys

import pluggy
from airflow.plugins_manager import AirflowPlugin

hookimpl = pluggy.HookimplMarker("airflow")


class Dump:
    @hookimpl(trylast=True)
    def on_task_instance_success(self, previous_state, task_instance):
        with open(os.environ["PROBE_MODULES"], "a") as out:
            out.write(json.dumps({"task": task_instance.task_id, "modules": sorted(sys.modules)}) + "\\n")


class DumpPlugin(AirflowPlugin):
    name = "imports_probe_dump"
    listeners = [Dump()]
"""

RUN = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("imports_probe_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.probe.test()
"""


def modules_after_each_task(tmp_path: Path, capture: bool) -> dict[str, set[str]]:
    work = tmp_path / ("on" if capture else "off")
    (work / "plugins").mkdir(parents=True)
    (work / "dags").mkdir()
    (work / "plugins" / "imports_probe_dump.py").write_text(PLUGIN)
    (work / "dags" / "imports_probe.py").write_text(textwrap.dedent(DAG))
    dump = work / "modules.jsonl"
    env = {
        **os.environ,
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(work / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
        "AIRFLOW__LINEAGE_PROVIDER__DISABLED": str(not capture),
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": f"sqlite:///{work / 'lineage.db'}",
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(work / "outbox"),
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "AIRFLOW_CONN_PROBE_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(work / "probe.db")}),
        "PROBE_MODULES": str(dump),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(work / "dags" / "imports_probe.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = [json.loads(line) for line in dump.read_text().splitlines()]
    return {entry["task"]: set(entry["modules"]) for entry in found}


def test_capture_adds_no_store_validation_or_client_modules_to_a_task(tmp_path: Path) -> None:
    off = modules_after_each_task(tmp_path, capture=False)
    on = modules_after_each_task(tmp_path, capture=True)

    assert set(on) == set(off) == {"plain", "sql"}
    added = on["sql"] - off["sql"]
    # capture really ran, SQL parsing included (a compiled parser: allowed), and wrote the outbox
    assert {"airflow_lineage_provider.capture.listener", "airflow_lineage_provider.emit.spool"} <= added
    assert "airflow_lineage_provider.capture.sql" in added
    assert (
        list((tmp_path / "on" / "outbox" / "pending").glob("*.json"))
        or (tmp_path / "on" / "lineage.db").exists()
    )
    heavy = sorted(m for m in added if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert heavy == [], f"capture imported into the task process: {heavy}"
    # SQL parsing and the information_schema reader are for tasks whose hooks ran SQL (and the reader
    # for databases other than SQLite only)
    sql_only = {"airflow_lineage_provider.capture.sql", "openlineage_sql"}
    assert sql_only & (on["plain"] - off["plain"]) == set()
    assert "airflow_lineage_provider.capture.dbschemas" not in on["plain"] | on["sql"]
