"""Build hook: every wheel and sdist carries the built web UI (``airflow_lineage_provider/ui/dist``).

The metadata is in pyproject.toml; this file only adds one step to ``build_py`` (wheels, editable
installs) and ``sdist``: when the bundle is missing or older than its sources, run
``npm ci && npm run build`` in ``airflow_lineage_provider/ui`` from the committed package-lock.json.
A hash of the sources in ``ui/dist/.sources.sha256`` says whether the bundle is current, so a build
from an sdist (which carries the bundle and its hash) needs no Node.js.

``python setup.py --ui-only`` does just that step (the set-up command ``.ci/setup`` uses it).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

UI = Path(__file__).resolve().parent / "airflow_lineage_provider" / "ui"
DIST = UI / "dist"
STAMP = DIST / ".sources.sha256"
SOURCES = ["package.json", "package-lock.json", "index.html", "vite.config.ts", "tsconfig.json", "src"]


def sources_hash() -> str:
    """sha256 over the names and contents of every file the bundle is built from."""
    digest = hashlib.sha256()
    for name in SOURCES:
        path = UI / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(UI).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def build_ui() -> None:
    """Build the bundle unless it is there and current; fail clearly when it cannot be built."""
    built = (DIST / "index.html").is_file()
    if not (UI / "package-lock.json").is_file():  # not a checkout or sdist: nothing to build from
        if built:
            return
        raise SystemExit(f"error: {UI} has neither the built UI (dist/) nor its sources")
    want = sources_hash()
    if built and STAMP.is_file() and STAMP.read_text().strip() == want:
        return
    npm = shutil.which("npm")
    if npm is None:
        if built:
            print(f"warning: npm not found; using the existing UI bundle in {DIST}", file=sys.stderr)
            return
        raise SystemExit(
            f"error: building airflow-lineage-provider needs npm to build its web UI into {DIST} "
            "(apt-get install -y nodejs npm), or a wheel or sdist that already carries it"
        )
    print(f"building the web UI: npm ci && npm run build in {UI}", file=sys.stderr)
    for command in ([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], [npm, "run", "build"]):
        # npm's output goes to stderr: pip shows it when the build fails
        subprocess.run(command, cwd=UI, check=True, stdout=sys.stderr)
    if not (DIST / "index.html").is_file():
        raise SystemExit(f"error: npm run build made no {DIST / 'index.html'}")
    STAMP.write_text(want + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--ui-only"]:
    build_ui()
    sys.exit(0)

from setuptools import setup  # noqa: E402  (not needed by --ui-only)
from setuptools.command.build_py import build_py  # noqa: E402
from setuptools.command.sdist import sdist  # noqa: E402


class BuildPyWithUI(build_py):
    def run(self) -> None:
        build_ui()
        super().run()


class SdistWithUI(sdist):
    def run(self) -> None:
        build_ui()
        super().run()


setup(cmdclass={"build_py": BuildPyWithUI, "sdist": SdistWithUI})
