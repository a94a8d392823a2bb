"""Probes of code, environment and hardware: absent when they cannot answer; the distribution list
is scanned once per installation, not once per task process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from airflow_lineage_provider.capture import machine


def test_a_file_outside_any_git_repository_has_no_git_record(tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    dag.write_text("x = 1\n")

    assert machine.git(str(dag)) is None
    assert machine.git(None) is None
    assert machine.file_hash(str(tmp_path / "missing.py")) is None


def repository_with_a_dag(path: Path) -> str:
    """A git repository at ``path`` whose one commit holds ``dag.py``; its commit id."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (path / "dag.py").write_text("x = 1\n")
    git("add", "dag.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    machine.forget_git()
    return git("rev-parse", "HEAD").strip()


def test_a_dirty_repository_is_recorded_with_the_hash_of_its_diff(tmp_path: Path) -> None:
    repository_with_a_dag(tmp_path)
    clean = machine.git(str(tmp_path / "dag.py"))
    (tmp_path / "dag.py").write_text("x = 2\n")
    machine.forget_git()  # a new process
    dirty = machine.git(str(tmp_path / "dag.py"))

    assert clean is not None and clean["dirty"] is False and clean["diffHash"] is None
    assert dirty is not None and dirty["dirty"] is True and len(dirty["diffHash"]) == 64
    assert dirty["commit"] == clean["commit"]


def test_at_start_the_git_probe_runs_in_the_background_and_the_final_record_has_its_answer(
    tmp_path: Path,
) -> None:
    head = repository_with_a_dag(tmp_path)

    machine.git(str(tmp_path / "dag.py"), wait=False)  # START: not waited for
    final = machine.git(str(tmp_path / "dag.py"))  # COMPLETE

    assert final == {"repository": str(tmp_path), "commit": head, "dirty": False, "diffHash": None}


def test_a_repository_without_commits_has_no_git_record(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dag.py").write_text("x = 1\n")
    machine.forget_git()

    assert machine.git(str(tmp_path / "dag.py")) is None


def test_a_new_process_reads_the_distributions_and_platform_from_the_per_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine.tempfile, "gettempdir", lambda: str(tmp_path))
    machine._installation.cache_clear()
    scanned = machine.distributions()
    (cache,) = (tmp_path / f"airflow-lineage-provider-{os.getuid()}").glob("installation-*.json")
    cache.write_text(json.dumps({"distributions": ["only-this==1"], "platform": "Plan9"}))  # a next process
    machine._installation.cache_clear()

    try:
        assert any(d.startswith("apache-airflow==") for d in scanned)
        assert machine.distributions() == ("only-this==1",)
        assert machine._installation()["platform"] == "Plan9"
        unrelated = tmp_path / "dags"
        unrelated.mkdir()
        (unrelated / "dag.py").write_text("")
        monkeypatch.syspath_prepend(str(unrelated))  # no distributions there: the same installation
        machine._installation.cache_clear()
        assert machine.distributions() == ("only-this==1",)
        extra = tmp_path / "site"
        (extra / "other-1.0.dist-info").mkdir(parents=True)
        (extra / "other-1.0.dist-info" / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"
        )
        (extra / "broken-2.0.dist-info").mkdir()  # no METADATA: skipped, never an error
        monkeypatch.syspath_prepend(str(extra))  # another installation: another key
        machine._installation.cache_clear()
        assert machine.distributions() == tuple(sorted({*scanned, "other==1.0"}))
    finally:
        machine._installation.cache_clear()


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
            machine._installation.cache_clear()
            assert any(d.startswith("apache-airflow==") for d in machine.distributions())
    finally:
        machine._installation.cache_clear()


def test_hardware_names_cpus_and_memory_and_no_gpu_without_nvidia_smi() -> None:
    found = machine.hardware()

    assert found["cpuCount"] == os.cpu_count()
    assert found["memoryBytes"] and found["memoryBytes"] > 0
    if not machine.shutil.which("nvidia-smi"):
        assert found["gpus"] == [] and found["gpuCount"] == 0
