"""``airflow-lineage doctor`` against healthy and deliberately broken installations, in real Airflow."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.cli import doctor as doctor_module
from airflow_lineage_provider.get_provider_info import get_provider_info
from airflow_lineage_provider.store import schema
from tests.cli.shell import cli


def doctor(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run doctor in a fresh AIRFLOW_HOME; return its exit code and its checks by name."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__LINEAGE_PROVIDER__")}
    result = cli("doctor", "--json", *args, env={**clean, "AIRFLOW_HOME": str(home), **(env or {})}, cwd=home)
    report = json.loads(result.stdout)
    assert report["ok"] == (result.returncode == 0), result.stderr
    return result.returncode, {check["name"]: check for check in report["checks"]}


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "airflow-home"
    path.mkdir()
    return path


def test_a_healthy_installation_passes_every_check(home: Path) -> None:
    store = LineageStore.from_url(f"sqlite:///{home / 'lineage.db'}")
    store.upgrade()
    store.close()

    code, checks = doctor(home)

    assert code == 0
    options = get_provider_info()["config"]["lineage_provider"]["options"]
    assert statuses(checks) == {
        "airflow": "ok",
        "provider": "ok",
        "plugin": "ok",
        "capture": "ok",
        "hook lineage": "ok",
        **{f"config {option}": "ok" for option in options},
        "store": "ok",
        "schema": "ok",
        "outbox": "ok",
    }
    assert checks["outbox"]["detail"].startswith("empty (")
    assert checks["schema"]["detail"] == f"at the latest revision {schema.HEAD_REVISION}"
    assert (
        checks["config store_url"]["detail"]
        == f"sqlite:///{home / 'lineage.db'} (empty: the default) (from default)"
    )


def test_it_says_where_each_config_value_came_from(home: Path) -> None:
    (home / "airflow.cfg").write_text("[lineage_provider]\nnamespace = from-the-file\n", encoding="utf-8")

    _, checks = doctor(home, env={"AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "2.5"})

    assert checks["config namespace"]["detail"] == "from-the-file (from airflow.cfg)"
    assert checks["config emit_timeout"]["detail"] == "2.5 (from env AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT)"
    assert checks["config disabled"]["detail"] == "False (from default)"


def test_a_bad_config_value_fails_and_names_where_to_fix_it(home: Path) -> None:
    code, checks = doctor(home, env={"AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "soon"})

    assert code == 1
    assert checks["config emit_timeout"]["status"] == "fail"
    assert "'soon'" in checks["config emit_timeout"]["detail"]
    assert checks["config emit_timeout"]["fix"] == "fix it in env AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT"


def test_a_disabled_plugin_fails_capture_and_hook_lineage_with_the_setting_to_change(home: Path) -> None:
    code, checks = doctor(home, env={"AIRFLOW__LINEAGE_PROVIDER__DISABLED": "True"})

    assert code == 1
    assert checks["plugin"]["status"] == "ok"  # loaded, but registers nothing
    assert checks["capture"]["status"] == "fail"
    assert "disabled = False" in checks["capture"]["fix"]
    assert checks["hook lineage"]["status"] == "fail"
    assert checks["config disabled"]["detail"] == "True (from env AIRFLOW__LINEAGE_PROVIDER__DISABLED)"


def test_a_postgres_store_on_a_closed_port_is_unreachable(home: Path) -> None:
    from bench.processes import free_port

    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/lineage"

    code, checks = doctor(home, env={"AIRFLOW__LINEAGE_PROVIDER__STORE_URL": url})

    assert code == 1
    assert checks["store"]["status"] == "fail"
    assert "cannot reach the store" in checks["store"]["detail"] and "refused" in checks["store"]["detail"]
    assert "AIRFLOW__LINEAGE_PROVIDER__STORE_URL" in checks["store"]["fix"]
    assert "schema" not in checks


@pytest.mark.parametrize("where", ["under a regular file", "on a file system that takes no new files"])
def test_a_sqlite_store_that_cannot_be_created_fails(home: Path, where: str) -> None:
    if where == "under a regular file":
        (home / "not-a-dir").write_text("x", encoding="utf-8")
        path = home / "not-a-dir" / "lineage.db"
    else:
        path = Path("/proc/lineage-test/lineage.db")  # even root cannot create files in /proc

    code, checks = doctor(home, "--store-url", f"sqlite:///{path}")

    assert code == 1
    assert checks["store"]["status"] == "fail"
    assert "cannot be created there" in checks["store"]["detail"]
    assert "store_url" in checks["store"]["fix"]


def test_a_store_without_tables_warns_to_run_db_upgrade(home: Path) -> None:
    sqlite3.connect(home / "empty.db").close()

    code, checks = doctor(home, "--store-url", f"sqlite:///{home / 'empty.db'}")

    assert code == 0  # a warning, not a failure: the first captured task creates the tables
    assert checks["schema"]["status"] == "warn"
    assert checks["schema"]["fix"] == "run `airflow-lineage db upgrade`"


def test_a_store_written_by_a_newer_version_fails_and_says_to_upgrade_the_package(home: Path) -> None:
    url = f"sqlite:///{home / 'newer.db'}"
    store = LineageStore.from_url(url)
    store.upgrade()
    store.close()
    with sqlite3.connect(home / "newer.db") as conn:
        conn.execute(f"UPDATE {schema.VERSION_TABLE} SET version_num = '9999'")

    code, checks = doctor(home, "--store-url", url)

    assert code == 1
    assert checks["schema"]["status"] == "fail"
    assert "9999" in checks["schema"]["detail"]
    assert checks["schema"]["fix"].startswith("upgrade airflow-lineage-provider")


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_postgres_store_at_the_latest_schema_passes(home: Path, store_url: str) -> None:
    store = LineageStore.from_url(store_url)
    store.upgrade()
    store.close()

    code, checks = doctor(home, "--store-url", store_url)

    assert (checks["store"]["status"], checks["schema"]["status"]) == ("ok", "ok")
    assert code == 0


def test_the_table_names_the_fix_and_the_exit_code_is_1(home: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__LINEAGE_PROVIDER__")}
    result = cli(
        "doctor",
        env={**clean, "AIRFLOW_HOME": str(home), "AIRFLOW__LINEAGE_PROVIDER__DISABLED": "yes"},
        cwd=home,
    )

    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split() == ["status", "check", "detail", "fix"]
    capture = next(line for line in result.stdout.splitlines() if line.split()[1:2] == ["capture"])
    assert capture.startswith("FAIL") and "disabled = False" in capture
    assert result.stdout.splitlines()[-1].startswith("doctor: 2 failed")


def test_the_installed_airflow_is_checked_against_the_range_the_package_declares(home: Path) -> None:
    import airflow

    code, checks = doctor(home)

    assert doctor_module.declared_airflow() == ">=3.1,<3.5"
    expected = f"Airflow {airflow.__version__} is supported (tested on 3.1, 3.2 and 3.3)"
    assert (code, checks["airflow"]["detail"]) == (0, expected)


@pytest.mark.parametrize("version", ["3.0.6", "3.1.0rc1", "2.11.0", "3.5.0", "3.5.0rc1", "4.0.0"])
def test_an_airflow_outside_the_declared_range_fails_and_says_which_is_needed(version: str) -> None:
    check = doctor_module.airflow_support(version, ">=3.1,<3.5")

    assert check.status == "fail"
    assert check.detail.startswith(f"Airflow {version} is not supported: airflow-lineage-provider needs ")
    assert "apache-airflow>=3.1,<3.5" in check.detail and "apache-airflow>=3.1,<3.5" in check.fix


def test_the_next_minor_is_allowed_but_warned_as_untested() -> None:
    check = doctor_module.airflow_support("3.4.0", ">=3.1,<3.5")

    assert check.status == "warn" and "not yet tested" in check.detail


@pytest.mark.parametrize("version", ["3.1.0", "3.1.8", "3.2.0", "3.2.2", "3.3.2"])
def test_the_tested_minors_pass(version: str) -> None:
    assert doctor_module.airflow_support(version, ">=3.1,<3.5").status == "ok"
