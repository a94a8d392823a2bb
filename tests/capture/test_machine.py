"""Probes of code, environment and hardware: absent when they cannot answer; the distribution list
is scanned once per installation, not once per task process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from airflow_lineage_provider.capture import machine
from tests.core.test_gitstate import repository_with_a_dag


def test_a_file_outside_any_git_repository_has_no_git_record(tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    dag.write_text("x = 1\n")

    assert machine.git(str(dag)) is None
    assert machine.git(None) is None
    assert machine.file_hash(str(tmp_path / "missing.py")) is None


def test_a_task_records_the_repository_and_the_commit_its_head_names_without_running_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repository_with_a_dag(tmp_path)
    (tmp_path / "dag.py").write_text("x = 2\n")  # dirty: told where the event is delivered, not here
    monkeypatch.setenv("PATH", "")  # no git to run

    assert machine.git(str(tmp_path / "dag.py")) == {"repository": str(tmp_path), "commit": head}


def test_a_repository_without_commits_has_no_git_record(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dag.py").write_text("x = 1\n")

    assert machine.git(str(tmp_path / "dag.py")) is None


def test_a_new_process_reads_the_distributions_and_platform_from_the_per_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine.tempfile, "gettempdir", lambda: str(tmp_path))
    machine.forget_installation()
    scanned = machine.distributions()
    (cache,) = (tmp_path / f"airflow-lineage-provider-{os.getuid()}").glob("installation-*.json")
    cache.write_text(json.dumps({"distributions": ["only-this==1"], "platform": "Plan9"}))  # a next process
    machine.forget_installation()

    try:
        assert any(d.startswith("apache-airflow==") for d in scanned)
        assert machine.distributions() == ("only-this==1",)
        assert machine._installation()["platform"] == "Plan9"
        unrelated = tmp_path / "dags"
        unrelated.mkdir()
        (unrelated / "dag.py").write_text("")
        monkeypatch.syspath_prepend(str(unrelated))  # no distributions there: the same installation
        machine.forget_installation()
        assert machine.distributions() == ("only-this==1",)
        extra = tmp_path / "site"
        (extra / "other-1.0.dist-info").mkdir(parents=True)
        (extra / "other-1.0.dist-info" / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"
        )
        (extra / "broken-2.0.dist-info").mkdir()  # no METADATA: skipped, never an error
        monkeypatch.syspath_prepend(str(extra))  # another installation: another key
        machine.forget_installation()
        assert machine.distributions() == tuple(sorted({*scanned, "other==1.0"}))
    finally:
        machine.forget_installation()


def test_a_process_reads_the_installation_again_only_when_a_directory_on_sys_path_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine.tempfile, "gettempdir", lambda: str(tmp_path))
    machine.forget_installation()
    try:
        first = machine.distributions()  # what a forking parent reads once
        (cache,) = (tmp_path / f"airflow-lineage-provider-{os.getuid()}").glob("installation-*.json")
        cache.write_text(json.dumps({"distributions": ["only-this==1"], "platform": "Plan9"}))

        assert machine.distributions() == first  # sys.path unchanged: its task processes only check
        bundle = tmp_path / "dags"
        bundle.mkdir()
        monkeypatch.syspath_prepend(str(bundle))  # a DAG bundle on sys.path: no distributions there
        assert machine.distributions() == first
        extra = tmp_path / "site"
        (extra / "other-1.0.dist-info").mkdir(parents=True)
        (extra / "other-1.0.dist-info" / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"
        )
        monkeypatch.syspath_prepend(str(extra))  # distributions came: read again
        assert machine.distributions() == tuple(sorted({*first, "other==1.0"}))
    finally:
        machine.forget_installation()


def test_an_unreadable_or_old_style_cache_is_ignored_and_rescanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine.tempfile, "gettempdir", lambda: str(tmp_path))
    directory = tmp_path / f"airflow-lineage-provider-{os.getuid()}"
    directory.mkdir(mode=0o700)
    machine._installation()  # writes the file, then each bad content is tried
    (cache,) = directory.glob("installation-*.json")
    try:
        for bad in ("{not json", json.dumps(["a==1"]), json.dumps({"distributions": [1], "platform": "x"})):
            cache.write_text(bad)
            machine.forget_installation()
            assert any(d.startswith("apache-airflow==") for d in machine.distributions())
    finally:
        machine.forget_installation()


def test_hardware_names_cpus_and_memory_and_no_gpu_without_nvidia_smi() -> None:
    found = machine.hardware()

    assert found["cpuCount"] == os.cpu_count()
    assert found["memoryBytes"] and found["memoryBytes"] > 0
    if not machine.shutil.which("nvidia-smi"):
        assert found["gpus"] == [] and found["gpuCount"] == 0
