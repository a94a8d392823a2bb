"""Fresh virtualenvs for tests that install the package as a user does: the built wheel, with real pip.

pip resolves the wheel's dependencies pinned to the versions of the test environment (so a fresh venv
gets what the suite was tested with, except what a caller overrides, such as another Airflow minor).
Every wheel pip downloads is kept in a wheelhouse outside the repository
(``LINEAGE_TEST_WHEELHOUSE``, default ``~/.cache/airflow-lineage-provider/wheelhouse``), so after the
first run a venv is installed offline from it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOT_PINNED = re.compile(r"^(airflow-lineage-provider|pip|setuptools)\b", re.I)


def wheelhouse() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airflow-lineage-provider"
    path = Path(os.environ.get("LINEAGE_TEST_WHEELHOUSE") or default / "wheelhouse")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a command; fail the test with the tail of its output when it fails."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        stderr = "\n".join(
            line for line in done.stderr.splitlines() if "is ignored: it is neither" not in line
        )
        pytest.fail(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{stderr[-3000:]}"
        )
    return done.stdout


def clean_env() -> dict[str, str]:
    """This process's environment without what would put the repository or the test venv in reach, and
    without Airflow or OpenLineage settings: session fixtures of other tests set some (the API tests'
    auth manager is a class in tests/, which a fresh venv cannot import)."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    settings = ("AIRFLOW", "OPENLINEAGE")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(settings)}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    return env


def constraints(path: Path, drop: tuple[str, ...] = ()) -> Path:
    """The test environment's versions as a pip constraints file, minus ``drop`` (distribution names)."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    dropped = {name.lower().replace("_", "-") for name in drop}
    lines = []
    for line in frozen:
        name = re.split(r"[=<>@ \[]", line, maxsplit=1)[0].strip().lower().replace("_", "-")
        if "==" in line and not NOT_PINNED.match(name) and name not in dropped:
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def make_venv(path: Path, requirements: list[str], constraints_file: Path, timeout: float = 900) -> Path:
    """A new venv at ``path`` with ``requirements`` installed by pip (offline from the wheelhouse when
    it has everything, else downloading into it first); returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    python = path / "bin" / "python"
    env = clean_env()
    house = wheelhouse()
    install = [str(python), "-m", "pip", "install", "-q", "--no-input", "-c", str(constraints_file)]
    offline = [*install, "--no-index", "--find-links", str(house), *requirements]
    done = subprocess.run(offline, cwd=path, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        download = [str(python), "-m", "pip", "download", "-q", "--no-input", "-d", str(house)]
        run([*download, "-c", str(constraints_file), *requirements], path, timeout, env)
        for ours in house.glob("airflow_lineage_provider-*"):  # a stale copy would answer for the new wheel
            ours.unlink()
        run(offline, path, timeout, env)
    return python


def venv_bin(python: Path, name: str) -> str:
    found = shutil.which(name, path=str(python.parent))
    assert found is not None, f"{name} is not installed in {python.parent}"
    return found
