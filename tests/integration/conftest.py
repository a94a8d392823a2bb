"""Fixtures of the integration tests: the sdist and wheel, built once per session as a release is."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.venvs import clean_env, run

PACKAGE = "airflow_lineage_provider"


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path
    checkout: Path

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as wheel:
            return wheel.namelist()

    def wheel_text(self, name: str) -> str:
        with zipfile.ZipFile(self.wheel) as wheel:
            return wheel.read(name).decode()


def clean_checkout(into: Path) -> Path:
    """The working tree as a fresh clone has it: tracked and new files, nothing .gitignore ignores."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not there
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    return into


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    checkout = clean_checkout(tmp_path_factory.mktemp("checkout"))
    assert not (checkout / PACKAGE / "ui" / "dist").exists()
    assert not (checkout / PACKAGE / "ui" / "node_modules").exists()
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), "."], checkout, 900, clean_env())
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Dists(wheel, sdist, checkout)
