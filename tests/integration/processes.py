"""Processes the integration tests start: a free port, waiting on them, and stopping whole process
groups by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, logs: Path) -> Any:
    """Poll ``check`` every second until it returns something true; fail with the logs' tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(logs.glob("*.log")))
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def start_components(
    components: dict[str, list[str]], env: dict[str, str], home: Path, logs: Path
) -> list[subprocess.Popen[bytes]]:
    """``python -m airflow <args>`` for each named component, in its own session, logging to
    ``logs/<name>.log``; stop them with :func:`stop`."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in components.items():
            with open(logs / f"{name}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "airflow", *args],
                        env=env,
                        cwd=home,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
    except BaseException:
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left after a grace period."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
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
        process.wait(10)


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
