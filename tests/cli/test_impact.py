"""``airflow-lineage impact NODE --summary``, run as a user runs it, on the world of the store's impact
tests (tests/store/test_impact.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_lineage_provider import LineageStore
from tests.cli.shell import cli
from tests.store.test_impact import RAW, W, world


@pytest.fixture
def url(tmp_path: Path) -> str:
    found = f"sqlite:///{tmp_path / 'impact.db'}"
    store = LineageStore.from_url(found)
    store.record_many(world())
    store.close()
    return found


def test_summary_prints_counts_by_type_namespace_dag_and_owner(url: str) -> None:
    result = cli("impact", RAW, "--summary", "--store-url", url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"impact of {RAW} (depth 20): 8 nodes downstream"
    assert "affected DAGs (2; 1 jobs of no DAG):" in lines
    assert any(line.split() == ["etl", "2", "jobs"] for line in lines)
    assert any(line.split() == ["job", "TASK", "3"] for line in lines)
    assert any(line.split() == [W, "2"] for line in lines)
    assert any(line.split() == ["carol", "2"] for line in lines)
    assert "by owner (3 nodes with none):" in lines


def test_summary_json_depth_and_as_of(url: str) -> None:
    result = cli("impact", RAW, "--summary", "--format", "json", "--depth", "2", "--store-url", url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 2

    result = cli("impact", RAW, "--summary", "--json", "--as-of", "2026-01-01T00:03:00Z", "--store-url", url)
    found = json.loads(result.stdout)
    assert found["total"] == 4 and [d["dagId"] for d in found["dags"]] == ["etl"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["impact", f"dataset:{W}:raww", "--summary"], 1, "no node dataset:"),
        (["impact", RAW, "--summary", "--depth", "101"], 2, "depth must be an integer from 0 to 100"),
        (["impact", RAW, "--summary", "--as-of", "yesterday"], 2, "as_of 'yesterday' is neither"),
        (["impact", RAW, "--depth", "3"], 2, "--depth go with --summary"),
        (["impact", RAW, "--summary", "--version", "v1"], 2, "--version is for model impact"),
    ],
)
def test_bad_input_gets_one_clear_error_line(url: str, args: list[str], code: int, message: str) -> None:
    result = cli(*args, "--store-url", url)

    assert result.returncode == code, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
