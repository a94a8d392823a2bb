"""The processes a benchmark or an integration test starts: free ports, Airflow commands with a
timeout, waiting with a deadline, stopping whole process groups by pid (never by name), and an
api-server's health and login.

The one home of these helpers for ``bench/`` and ``tests/`` alike (bench never imports tests; the
tests import from here). It lives in ``bench/`` because that is the repository's importable package of
tools (run as ``python -m bench.<name>`` from the root), outside the wheel and outside the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class BenchError(RuntimeError):
    """A benchmark or test step failed or timed out (the message carries the logs' tails)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tails(logs: Path, chars: int = 3000) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(logs.glob("*.log"))
    )


def wait_for(what: str, check: Callable[[], Any], timeout: float, logs: Path, every: float = 1.0) -> Any:
    """Poll ``check`` until it returns something true; :class:`BenchError` with the logs' tails after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails(logs)}")


def airflow(env: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    """Run one Airflow command; its stdout, or :class:`BenchError` with its output."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=dict(env),
            cwd=env["AIRFLOW_HOME"],
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"airflow {' '.join(args)} timed out after {timeout} s") from exc
    if done.returncode != 0:
        raise BenchError(
            f"airflow {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def start(
    name: str, args: list[str], env: Mapping[str, str], cwd: Path, logs: Path
) -> subprocess.Popen[bytes]:
    """``python -m airflow ARGS`` in its own process group, its output in ``logs/<name>.log``."""
    with open(logs / f"{name}.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_all(
    components: dict[str, list[str]], env: Mapping[str, str], home: Path, logs: Path
) -> list[subprocess.Popen[bytes]]:
    """:func:`start` for each named component (``{name: airflow args}``); all are stopped if one fails
    to start. Stop them with :func:`stop`."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in components.items():
            processes.append(start(name, args, env, home, logs))
    except BaseException:
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen[bytes]], grace: float = 30) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left after ``grace`` seconds."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # children of an exited leader may remain
        except ProcessLookupError:
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            pass


def stop_group(pid: int, grace: float = 30) -> None:
    """SIGTERM the process group led by ``pid`` (one we did not start as a Popen), SIGKILL what is left."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    os.killpg(pid, signal.SIGKILL)


def healthy(base_url: str) -> bool:
    """Whether the api-server at ``base_url`` answers its health check."""
    import httpx

    try:
        return httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def token(base_url: str, user: str, password: str) -> str:
    """An API token of a SimpleAuthManager user (``POST /auth/token``)."""
    import httpx

    login = httpx.post(f"{base_url}/auth/token", json={"username": user, "password": password}, timeout=30)
    login.raise_for_status()
    return str(login.json()["access_token"])
