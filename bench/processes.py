"""The processes a benchmark starts: free ports, Airflow commands with a timeout, waiting with a
deadline, and stopping whole process groups by pid (never by name)."""

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
    """A benchmark step failed or timed out (the message carries the logs' tails)."""


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
