"""Probes of the code, environment and hardware a task runs with, cached per process.

Each probe runs at most once per process (a DAG file: once per modification time and size; git:
two or three small file reads per event, no git process), so a task attempt pays for them once, and a
process that runs many tasks (``dag.test()``, a long-lived worker) pays once in all. A probe that
cannot answer (no git, not a repository, no ``nvidia-smi``) answers None or an empty value: absent,
never an error.
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

from airflow_lineage_provider.core import gitstate
from airflow_lineage_provider.core.digests import distributions_hash

_TIMEOUT = 5.0


def _run(args: list[str], cwd: str | None = None) -> str | None:
    """stdout of a command, or None when it is missing, fails or takes too long."""
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


@functools.lru_cache(maxsize=64)
def _toplevel(directory: str) -> str | None:
    return gitstate.toplevel(directory)


def git(path: str | None) -> dict[str, Any] | None:
    """The repository holding ``path`` and the commit its ``HEAD`` names (None: no repository, or one
    without commits), read from ``.git`` without running git. Whether the tree is dirty is added
    where the event is delivered (:func:`airflow_lineage_provider.core.gitstate.complete`)."""
    if not path:
        return None
    tree = _toplevel(os.path.dirname(os.path.abspath(path)))
    if tree is None:
        return None
    commit = gitstate.head_commit(tree)
    return None if commit is None else {"repository": tree, "commit": commit}


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
            found.add(f"{re.sub(r'[-_.]+', '-', name).lower()}=={dist.version}")
    return tuple(sorted(found))


def _holds_distributions(path: str) -> bool:
    if os.path.basename(path) in ("site-packages", "dist-packages"):
        return True
    try:
        with os.scandir(path) as entries:
            return any(e.name.endswith((".dist-info", ".egg-info")) for e in entries)
    except OSError:
        return False


def _site_key(times: frozenset[tuple[str, int]], holding: frozenset[str]) -> str:
    """What the installed set depends on: each directory on sys.path that holds distributions, with
    its modification time (``times``: sys.path's directories, :func:`_path_times`; ``holding``: those
    that hold distributions).

    Installing, upgrading or removing a distribution adds or removes its ``*.dist-info`` directory,
    which changes the modification time of the directory holding it. Directories that hold none (the
    DAGs folder, the working directory: their times change all the time) are left out.
    """
    parts = [sys.executable]
    parts += [f"{path}\x00{mtime}" for path, mtime in sorted(times) if path in holding]
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


def _read_installation(site_key: str) -> dict[str, Any]:
    """The installed distributions and the platform string, from a per-user cache file when it has them.

    Scanning the distributions costs a task process about 0.1 s and ``platform.platform()`` a few
    milliseconds, so both are kept in a file keyed by :func:`_site_key` (what is installed) and the
    boot id (the kernel the platform string names): a new process with the same installation on the
    same boot reads them instead."""
    directory = _cache_dir()
    key = hashlib.sha256(f"{site_key}\x00{_boot_id()}".encode()).hexdigest()[:32]
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


class _Known:
    """The installation as last read, with what it was read under (slotted: see ``runinfo``)."""

    __slots__ = ("times", "holding", "installation")

    def __init__(
        self, times: frozenset[tuple[str, int]], holding: frozenset[str], installation: dict[str, Any]
    ) -> None:
        self.times = times  # each directory on sys.path with its modification time
        self.holding = holding  # those of them that hold distributions
        self.installation = installation


_known: _Known | None = None


def _path_times() -> frozenset[tuple[str, int]]:
    """Each directory on sys.path with its modification time: a few ``stat`` calls."""
    found = set()
    for entry in sys.path:
        path = os.path.abspath(entry or ".")
        try:
            times = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(times.st_mode):
            found.add((path, times.st_mtime_ns))
    return frozenset(found)


def _still_holds(known: _Known, times: frozenset[tuple[str, int]]) -> bool:
    """True when what :func:`_site_key` describes cannot have changed since ``known`` was read: no
    directory holding distributions changed or left sys.path, and none that came (a DAG bundle
    Airflow put on sys.path, a directory whose time changed) holds any."""
    if not known.holding <= {path for path, _ in times}:
        return False
    return not any(path in known.holding or _holds_distributions(path) for path, _ in times - known.times)


def forget_installation() -> None:
    """Read the installation again at the next event (what a new process does)."""
    global _known
    _known = None


def _installation() -> dict[str, Any]:
    """The installation, read once per process (or once in the process this one was forked from: a
    forking parent reads it, see :func:`airflow_lineage_provider.capture.extractors.prepare`), and
    again only when a directory on sys.path that holds distributions changed."""
    global _known
    times = _path_times()
    if _known is not None and (_known.times == times or _still_holds(_known, times)):
        _known.times = times
        return _known.installation
    holding = frozenset(path for path, _ in times if _holds_distributions(path))
    found = _read_installation(_site_key(times, holding))
    _known = _Known(times, holding, found)
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


@functools.lru_cache(maxsize=4)
def _hash_of(listed: tuple[str, ...]) -> str:
    return distributions_hash(listed)


def environment(listed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Python and the installed distributions (with their hash), without the image digest
    (``listed``: :func:`distributions`, when the caller has it)."""
    if listed is None:
        listed = distributions()
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform_name(),
        "distributionsHash": _hash_of(listed),
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
