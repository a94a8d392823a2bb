"""The repository tracks sources only: no dependency trees, build outputs or caches, nothing it ignores."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Path parts that are never sources, whatever .gitignore says about them.
FORBIDDEN = re.compile(
    r"(^|/)(node_modules|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.venv|[^/]+\.egg-info)(/|$)"
    r"|^airflow_lineage_provider/ui/dist(/|$)"
    r"|^(build|dist)/"
    r"|\.py[co]$"
)


def git(*args: str) -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def test_no_tracked_file_is_ignored_by_gitignore() -> None:
    ignored = git("ls-files", "--cached", "--ignored", "--exclude-standard")

    assert ignored == [], f"{len(ignored)} tracked files match .gitignore, e.g. {ignored[:5]}"


def test_no_dependency_tree_build_output_or_cache_is_tracked() -> None:
    found = [path for path in git("ls-files") if FORBIDDEN.search(path)]

    assert found == [], f"{len(found)} tracked files are not sources, e.g. {found[:5]}"


@pytest.mark.parametrize(
    "path",
    [
        "airflow_lineage_provider/ui/node_modules/react/index.js",
        "airflow_lineage_provider/ui/dist/index.html",
        "airflow_lineage_provider/ui/dist/assets/index-abc.js",
        "airflow_lineage_provider.egg-info/PKG-INFO",
        "tests/__pycache__/conftest.cpython-311.pyc",
        "dist/airflow_lineage_provider-0.1.0-py3-none-any.whl",
        "build/lib/airflow_lineage_provider/__init__.py",
    ],
)
def test_the_forbidden_patterns_catch_what_they_are_for(path: str) -> None:
    assert FORBIDDEN.search(path)


@pytest.mark.parametrize(
    "path",
    [
        "airflow_lineage_provider/ui/src/App.tsx",
        "airflow_lineage_provider/ui/package-lock.json",
        "airflow_lineage_provider/build.py",
        "docs/distribution.md",
    ],
)
def test_the_forbidden_patterns_leave_sources_alone(path: str) -> None:
    assert not FORBIDDEN.search(path)
