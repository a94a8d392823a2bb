"""Rewrite the outputs in docs/tutorial.md, and the sample audit report, from real runs.

    .venv/bin/python docs/tutorial.py                # from a clean, committed tree (it refuses others)
    .venv/bin/python docs/tutorial.py --allow-dirty  # a draft: the runs record the uncommitted changes

It runs ``bash .ci/demo`` in a fresh ``/tmp/lineage-tutorial`` (the page's fixed home, so its paths
read naturally), stops the API server the demo leaves running, then goes through the page from top
to bottom, doing what its markup asks, and writes the page and ``docs/audit-sample.{md,html,json}``.
``IMAGE_DIGEST``, when set, is passed on and recorded as the image digest; other ``AIRFLOW*`` and
``LINEAGE*`` variables are not. The markup (HTML comments are invisible on the page):

* A ```` ```text ```` block whose first line starts with ``$ airflow-lineage`` is an output block:
  each ``$ `` line is run in the tutorial's environment and followed by what it printed (stdout and
  stderr; ``(exit status 1)`` after a failure; a usage error stops the generator).
* ``<!-- $ airflow-lineage ... -->`` lines right above an output block are its commands as written,
  with placeholders resolved against the store, and the block shows them resolved:
  ``{run:JOB_NODE#N}`` is ``run:<id>`` of the N-th run of a job, ``{version:DATASET_NODE#N}`` the
  N-th version of a dataset, both counted from the oldest.
* ``<!-- run -->`` right above a ```` ```bash ```` block: the block is run there (``bash -euo
  pipefail``, in the repository); what it changes under ``dags/`` is put back afterwards.
* ``<!-- audit-sample: ARGS -->``: there, ``airflow-lineage audit ARGS --format F`` writes the sample
  in each format.
* The line starting ``*Outputs made by `docs/tutorial.py``` says when and from what the outputs were
  made, with the sha256 of every part above and of the sample files: tests/test_docs.py recomputes
  it, so an output edited by hand, or a command changed without a rerun, fails the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
PAGE = DOCS / "tutorial.md"
HOME = Path("/tmp/lineage-tutorial")
MARK = HOME / ".made-by-docs-tutorial"
AUDIT_SAMPLES = {"markdown": "audit-sample.md", "html": "audit-sample.html", "json": "audit-sample.json"}
PROMPT = "$ airflow-lineage "
TEMPLATE = re.compile(r"<!-- (\$ airflow-lineage .+) -->")
RUN = "<!-- run -->"
AUDIT = re.compile(r"<!-- audit-sample: (.+) -->")
STAMP = re.compile(r"\*Outputs made by `docs/tutorial\.py`.*<!-- sha256 ([0-9a-f]{64}) -->")
PLACEHOLDER = re.compile(r"\{(run|version):([^{}#\s]+)#([1-9][0-9]*)\}")
TIMEOUT = 1800


@dataclass
class Part:
    """A part of the page the generator acts on: lines ``first`` to ``last`` (exclusive)."""

    kind: str  # "output", "run" or "audit"
    first: int
    last: int
    commands: list[str] = field(default_factory=list)  # output: as written; audit: its ARGS
    body: list[str] = field(default_factory=list)  # the lines inside the fence


def parts(lines: list[str]) -> list[Part]:
    """The parts of the page, in page order (see the module docstring)."""
    found: list[Part] = []
    i = 0
    while i < len(lines):
        audit = AUDIT.fullmatch(lines[i])
        if audit:
            found.append(Part("audit", i, i + 1, [audit.group(1)]))
        if not lines[i].startswith("```"):
            i += 1
            continue
        end = lines.index("```", i + 1)
        body = lines[i + 1 : end]
        if lines[i] == "```bash" and i > 0 and lines[i - 1] == RUN:
            found.append(Part("run", i - 1, end + 1, body=body))
        elif lines[i] == "```text" and body and body[0].startswith(PROMPT):
            first = i
            while first > 0 and TEMPLATE.fullmatch(lines[first - 1]):
                first -= 1
            written = [m.group(1) for m in map(TEMPLATE.fullmatch, lines[first:i]) if m]
            found.append(Part("output", first, end + 1, written or shown_commands(body), body))
        i = end + 1
    return found


def shown_commands(body: list[str]) -> list[str]:
    return [line for line in body if line.startswith(PROMPT)]


def digest(lines: list[str]) -> str:
    """sha256 of every part of the page and of the sample audit reports."""
    hashed = hashlib.sha256()
    for part in parts(lines):
        hashed.update("\n".join(lines[part.first : part.last]).encode() + b"\n\0")
    for name in AUDIT_SAMPLES.values():
        path = DOCS / name
        hashed.update((path.read_bytes() if path.exists() else b"") + b"\0")
    return hashed.hexdigest()


def stamped_digest(lines: list[str]) -> str | None:
    """The digest the stamp line records (None: the page has no stamp line)."""
    return next((m.group(1) for m in map(STAMP.fullmatch, lines) if m), None)


# -- running ------------------------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def _dirty() -> bool:
    """As the reproducibility record decides it: tracked files changed (untracked ones do not count)."""
    return bool(_git("status", "--porcelain", "--untracked-files=no").strip())


def environment() -> dict[str, str]:
    """The tutorial's environment: the exports at the top of the page, and nothing else of Airflow's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LINEAGE"))}
    return {
        **env,
        "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def _fail(message: str, output: str = "") -> SystemExit:
    return SystemExit(f"{output[-4000:]}\ntutorial: {message}".lstrip())


def run_demo(env: dict[str, str]) -> None:
    """``bash .ci/demo`` in a fresh HOME, then stop the API server it leaves running."""
    if HOME.exists():
        if any(HOME.iterdir()) and not MARK.exists():
            raise _fail(f"{HOME} is not empty and docs/tutorial.py did not make it; remove it first")
        shutil.rmtree(HOME)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    print(f"tutorial: bash .ci/demo (LINEAGE_DEMO_HOME={HOME})", file=sys.stderr)
    demo_env = {**env, "LINEAGE_DEMO_HOME": str(HOME), "LINEAGE_DEMO_PORT": str(port)}
    try:
        done = subprocess.run(
            ["bash", str(REPO / ".ci" / "demo")],
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        if HOME.exists():
            MARK.touch()
        _stop_server()
    if done.returncode != 0:
        raise _fail("bash .ci/demo failed", done.stdout + done.stderr)


def _stop_server() -> None:
    """Stop the demo's API server: its process group id is in HOME/api-server.pid."""
    pid_file = HOME / "api-server.pid"
    if not pid_file.exists():
        return
    group = int(pid_file.read_text().strip())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            time.sleep(0.2)
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return


def run_block(body: list[str], env: dict[str, str]) -> None:
    """Run a ``<!-- run -->`` block in the repository; put back what it changed under dags/."""
    dags = REPO / "dags"
    saved = {p: p.read_bytes() for p in dags.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    print("tutorial: running the bash block: " + body[0], file=sys.stderr)
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "\n".join(body)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        for path in dags.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path not in saved:
                path.unlink()
        for path, data in saved.items():
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
    if done.returncode != 0:
        raise _fail(f"the bash block starting {body[0]!r} failed", done.stdout + done.stderr)


def resolve(command: str) -> str:
    """The command with its placeholders replaced by the run ids and versions in the store."""
    from airflow_lineage_provider import LineageStore

    def one(match: re.Match[str]) -> str:
        kind, node, n = match.group(1), match.group(2), int(match.group(3))
        store = LineageStore.from_url(f"sqlite:///{HOME / 'lineage.db'}")
        try:
            found = store.describe(node)
        finally:
            store.close()
        if kind == "run":
            items = [f"run:{r['runId']}" for r in found.get("latestRuns", [])]
        else:
            items = [v["version"] for v in found.get("versions", [])]
        items.reverse()  # newest first in the store's answer
        if n > len(items):
            raise _fail(f"{match.group(0)}: {node} has {len(items)} {kind}(s)")
        return items[n - 1]

    return PLACEHOLDER.sub(one, command)


def run_command(command: str, env: dict[str, str], show_stderr: bool = True) -> tuple[str, list[str]]:
    """Run ``$ airflow-lineage ...`` with placeholders resolved: (the command, what it printed)."""
    shown = resolve(command)
    print(f"tutorial: {shown}", file=sys.stderr)
    done = subprocess.run(
        shlex.split(shown.removeprefix("$ ")),
        cwd=HOME,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if show_stderr else subprocess.PIPE,
        text=True,
        timeout=TIMEOUT,
    )
    if done.returncode == 2:
        raise _fail(f"the CLI rejected {shown}", done.stdout + (done.stderr or ""))
    printed = done.stdout.rstrip("\n").splitlines()
    if done.returncode != 0:
        printed.append(f"(exit status {done.returncode})")
    return shown, printed


def write_audit_samples(args: str, env: dict[str, str]) -> None:
    for fmt, name in AUDIT_SAMPLES.items():
        shown, printed = run_command(f"{PROMPT}audit {args} --format {fmt}", env, show_stderr=False)
        if printed and printed[-1].startswith("(exit status"):
            raise _fail(f"{shown} failed", "\n".join(printed))
        (DOCS / name).write_text("\n".join(printed) + "\n", encoding="utf-8")


def regenerate(lines: list[str], env: dict[str, str]) -> list[str]:
    """The page with every output block rewritten, doing each part in page order."""
    out: list[str] = []
    done = 0
    for part in parts(lines):
        out += lines[done : part.first]
        done = part.first
        if part.kind == "run":
            run_block(part.body, env)
        elif part.kind == "audit":
            write_audit_samples(part.commands[0], env)
        else:
            block: list[str] = []
            for command in part.commands:
                shown, printed = run_command(command, env)
                block += ([""] if block else []) + [shown, *printed]
            fence = lines.index("```text", part.first)
            out += [*lines[part.first : fence + 1], *block, "```"]
            done = part.last
    return out + lines[done:]


def stamp(lines: list[str], dirty: bool) -> list[str]:
    """The page with its stamp line saying how the outputs were made, and the digest of them."""
    today = datetime.now(timezone.utc).date().isoformat()
    tree = "a tree with uncommitted changes, a draft" if dirty else "a clean tree"
    text = (
        f"*Outputs made by `docs/tutorial.py` on {today} from commit `{_git('rev-parse', 'HEAD')[:12]}` "
        f"({tree}) of the repository at `{REPO}`, with Airflow "
        f"{importlib.metadata.version('apache-airflow')} and Python {platform.python_version()}.*"
    )
    index = next((i for i, line in enumerate(lines) if STAMP.fullmatch(line)), None)
    if index is None:
        raise _fail(f"{PAGE.name} has no line starting *Outputs made by `docs/tutorial.py`")
    lines = [*lines[:index], f"{text} <!-- sha256 {'0' * 64} -->", *lines[index + 1 :]]
    lines[index] = f"{text} <!-- sha256 {digest(lines)} -->"
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--allow-dirty", action="store_true", help="run from a tree with uncommitted changes")
    args = parser.parse_args(argv)
    dirty = _dirty()
    if dirty and not args.allow_dirty:
        raise _fail(
            "commit first: the runs record git's dirty flag ('code pinned and clean'); or --allow-dirty"
        )
    env = environment()
    run_demo(env)
    lines = regenerate(PAGE.read_text(encoding="utf-8").splitlines(), env)
    PAGE.write_text("\n".join(stamp(lines, dirty)) + "\n", encoding="utf-8")
    print(f"tutorial: wrote {PAGE.relative_to(REPO)} and docs/audit-sample.*", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
