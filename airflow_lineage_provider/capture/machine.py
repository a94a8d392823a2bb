"""Probes of the code, environment and hardware a task runs with, cached per process.

Each probe runs at most once per process (git: once per repository, in the background; a DAG file:
once per modification time and size), so a task attempt pays for them once, and a process that runs
many tasks (``dag.test()``, a long-lived worker) pays once in all. A probe that cannot answer (no git, not
a repository, no ``nvidia-smi``) answers None or an empty value: absent, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from typing import Any

from airflow_lineage_provider.core.digests import distributions_hash

_TIMEOUT = 5.0
_NAME = re.compile(r"[-_.]+")


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _run(args: list[str], cwd: str | None = None) -> str | None:
    """stdout of a command, or None when it is missing, fails or takes too long."""
    try:
        done = subprocess.run(
            args, cwd=cwd, capture_output=True, timeout=_TIMEOUT, check=False, env=_git_env()
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def _git_toplevel(directory: str) -> str | None:
    """The working tree holding ``directory`` (the nearest parent with a ``.git``), found without git."""
    current = os.path.abspath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


class _GitProbe:
    """``git status`` of one working tree, run in the background from the first event on.

    A task's START starts it and goes on; its COMPLETE (or FAIL) collects it, by when it has long
    finished. Only a dirty tree costs a second, synchronous ``git diff`` (for the diff hash)."""

    def __init__(self, toplevel: str) -> None:
        self.toplevel = toplevel
        self.result: dict[str, Any] | None = None
        self.done = False
        try:
            self._status: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
                cwd=toplevel,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_git_env(),
            )
        except OSError:  # no git
            self._status, self.done = None, True

    def collect(self, wait: bool) -> dict[str, Any] | None:
        if self.done or self._status is None or (not wait and self._status.poll() is None):
            return self.result
        try:
            out, _ = self._status.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._status.kill()
            self._status.communicate()
            out = b""
        code, self.done = self._status.returncode, True
        self.result = _parse_status(self.toplevel, out.decode("utf-8", "replace")) if code == 0 else None
        return self.result


def _parse_status(toplevel: str, text: str) -> dict[str, Any] | None:
    commit, dirty = None, False
    for line in text.splitlines():
        if line.startswith("# branch.oid "):
            commit = line.split(" ", 2)[2].strip()
        elif line[:2] in ("1 ", "2 ", "u "):  # a changed, renamed or unmerged tracked file
            dirty = True
    if commit is None or commit == "(initial)":  # a repository without commits
        return None
    diff = (_run(["git", "diff", "HEAD", "--binary"], cwd=toplevel) or "") if dirty else ""
    return {
        "repository": toplevel,
        "commit": commit,
        "dirty": dirty,
        "diffHash": hashlib.sha256(diff.encode()).hexdigest() if dirty else None,
    }


_probes: dict[str, _GitProbe] = {}


def git(path: str | None, wait: bool = True) -> dict[str, Any] | None:
    """Commit, dirty flag and diff hash of the git repository holding ``path`` (None: no repository,
    no git, or, with ``wait=False``, not known yet: the probe then runs on in the background)."""
    if not path:
        return None
    toplevel = _git_toplevel(os.path.dirname(os.path.abspath(path)))
    if toplevel is None or shutil.which("git") is None:
        return None
    probe = _probes.get(toplevel)
    if probe is None:
        probe = _probes[toplevel] = _GitProbe(toplevel)
    return probe.collect(wait)


def forget_git() -> None:
    """Probe git again at the next event (what a new process does)."""
    _probes.clear()


@functools.cache
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hash(path: str | None) -> str | None:
    """sha256 of a file's content (None when it cannot be read)."""
    if not path:
        return None
    try:
        stat = os.stat(path)
        return _file_hash(path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None


def _scan_distributions() -> tuple[str, ...]:
    found = set()
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"] if dist.metadata else None
        except (OSError, ValueError):  # a broken *.dist-info (no METADATA): not an installed distribution
            continue
        if name:
            found.add(f"{_NAME.sub('-', name).lower()}=={dist.version}")
    return tuple(sorted(found))


def _holds_distributions(path: str) -> bool:
    if os.path.basename(path) in ("site-packages", "dist-packages"):
        return True
    try:
        with os.scandir(path) as entries:
            return any(e.name.endswith((".dist-info", ".egg-info")) for e in entries)
    except OSError:
        return False


def _site_key() -> str:
    """What the installed set depends on: each directory on sys.path that holds distributions, with
    its modification time.

    Installing, upgrading or removing a distribution adds or removes its ``*.dist-info`` directory,
    which changes the modification time of the directory holding it. Directories that hold none (the
    DAGs folder, the working directory: their times change all the time) are left out.
    """
    parts = [sys.executable]
    for entry in sys.path:
        path = os.path.abspath(entry or ".")
        try:
            found = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(found.st_mode) and _holds_distributions(path):
            parts.append(f"{path}\x00{found.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cache_dir() -> str | None:
    """A directory only this user can write (None when there is none)."""
    path = os.path.join(tempfile.gettempdir(), f"airflow-lineage-provider-{os.getuid()}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        found = os.stat(path)
    except OSError:
        return None
    return path if found.st_uid == os.getuid() and not found.st_mode & 0o022 else None


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as stream:
            return stream.read().strip()
    except OSError:
        return ""


@functools.cache
def _installation() -> dict[str, Any]:
    """The installed distributions and the platform string, from a per-user cache file when it has them.

    Scanning the distributions costs a task process about 0.1 s and ``platform.platform()`` a few
    milliseconds, so both are kept in a file keyed by :func:`_site_key` (what is installed) and the
    boot id (the kernel the platform string names): a new process with the same installation on the
    same boot reads them instead."""
    directory = _cache_dir()
    key = hashlib.sha256(f"{_site_key()}\x00{_boot_id()}".encode()).hexdigest()[:32]
    path = None if directory is None else os.path.join(directory, f"installation-{key}.json")
    if path is not None:
        try:
            with open(path, encoding="utf-8") as stream:
                cached = json.load(stream)
            listed, name = cached["distributions"], cached["platform"]
            if isinstance(name, str) and isinstance(listed, list) and all(isinstance(d, str) for d in listed):
                return {"distributions": tuple(listed), "platform": name}
        except (OSError, ValueError, KeyError, TypeError):
            pass
    found = {"distributions": _scan_distributions(), "platform": platform.platform()}
    if path is not None:
        try:
            with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as out:
                json.dump({**found, "distributions": list(found["distributions"])}, out)
            os.replace(out.name, path)
        except OSError:
            pass
    return found


@functools.cache
def platform_name() -> str:
    """``platform.platform()``, read from the per-user cache when it has it (see :func:`_installation`).

    Cached per process on its own: the kernel does not change while a process runs."""
    name: str = _installation()["platform"]
    return name


def distributions() -> tuple[str, ...]:
    """Installed distributions as sorted ``name==version`` (names normalised as pip does)."""
    listed: tuple[str, ...] = _installation()["distributions"]
    return listed


@functools.cache
def environment() -> dict[str, Any]:
    """Python and the installed distributions (with their hash), without the image digest."""
    listed = distributions()
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform_name(),
        "distributionsHash": distributions_hash(listed),
        "distributionCount": len(listed),
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> list[dict[str, Any]]:
    if shutil.which("nvidia-smi") is None:
        return []
    out = _run(
        ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"]
    )
    gpus = []
    for line in (out or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            memory = int(parts[1]) if parts[1].isdigit() else None
            gpus.append({"name": parts[0], "memoryMiB": memory, "driver": parts[2]})
    return gpus


@functools.cache
def hardware() -> dict[str, Any]:
    """CPU model and count, memory, and GPUs (from ``nvidia-smi`` when it is installed)."""
    gpus = _gpus()
    return {
        "machine": platform.machine(),
        "cpuModel": _cpu_model(),
        "cpuCount": os.cpu_count(),
        "memoryBytes": _memory_bytes(),
        "gpuCount": len(gpus),
        "gpus": gpus,
    }
