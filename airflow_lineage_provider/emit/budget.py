"""The capture time budget: run work in a daemon thread and stop waiting for it after a timeout.

:func:`run_within_budget` is the one place in ``emit`` that catches every error. On a timeout or
an error it logs exactly one warning line and returns; the caller (a task, the scheduler loop)
carries on. Work that times out keeps running in its daemon thread; its late outcome is logged at
debug level only, so one problem is one warning line.

Budget threads are reused: a thread that finished its work waits for the next budget (starting a
thread for every event cost a task process more than the work it ran). A thread still busy with
abandoned work is not handed out until it finishes; callers at the same time get a thread each. A
forked child starts with no threads, so the pool is emptied in the child right after ``os.fork``.

Budgets do not nest: work started from inside a budget thread runs inline, covered by the outer
budget (one thread, one deadline, one warning).

A long-lived component (the scheduler, the API server) does not wait at all: :func:`hand_off` queues
the work for one writer thread and returns, so a scheduler loop pays for a queue put, not for an
outbox write. The queue is bounded (:data:`HAND_OFF_LIMIT`: past it, work is dropped with a warning)
and flushed, within the budget, when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from airflow_lineage_provider import conf
from airflow_lineage_provider.exceptions import ConfigError

DEFAULT_TIMEOUT = 5.0
HAND_OFF_LIMIT = 10_000  # work items a component's writer thread may be behind before new ones are dropped

log = logging.getLogger(__name__)

_state = threading.local()


def error_text(exc: BaseException) -> str:
    """``Type: message`` on one line (driver errors often span several)."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def budget_seconds() -> float:
    """``[lineage_provider] emit_timeout``; a bad value is reported once per call and the default used."""
    try:
        return conf.emit_timeout()
    except ConfigError as exc:
        log.warning("lineage: %s; using %.1f s", exc, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT


def inside_budget() -> bool:
    """True in a thread that already runs under a budget."""
    return bool(getattr(_state, "active", False))


def budget_deadline() -> float | None:
    """When the budget this thread runs under ends (``time.monotonic()``), or None outside one."""
    return getattr(_state, "deadline", None) if inside_budget() else None


class _Attempt:
    """One piece of work under a budget; whichever side finishes first reports the outcome."""

    def __init__(self, work: Callable[[], object], what: str, deadline: float) -> None:
        self.work = work
        self.what = what
        self.deadline = deadline
        self.ok = False
        self.abandoned = False
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def __call__(self) -> None:
        outer = inside_budget()
        outer_deadline = getattr(_state, "deadline", None)
        _state.active = True
        if not outer:
            _state.deadline = self.deadline
        try:
            self.work()
            self.ok = True
        except Exception as exc:  # the budget boundary: work never escapes into the caller
            with self.lock:
                late = self.abandoned
            level = logging.DEBUG if late else logging.WARNING
            log.log(level, "lineage: %s failed: %s", self.what, error_text(exc))
        finally:
            _state.active = outer
            _state.deadline = outer_deadline

    def abandon(self, timeout: float) -> None:
        with self.lock:
            self.abandoned = True
        log.warning("lineage: %s gave up after its time budget of %.1f s", self.what, timeout)


class _Worker:
    """A daemon thread that runs attempts handed to it, one at a time, and then offers itself again."""

    def __init__(self, pool: _Pool) -> None:
        self._pool = pool
        self._inbox: queue.SimpleQueue[_Attempt] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="lineage: budget", daemon=True)
        self._thread.start()

    def run(self, attempt: _Attempt) -> None:
        self._inbox.put(attempt)

    def _serve(self) -> None:
        thread = threading.current_thread()
        while True:
            attempt = self._inbox.get()
            thread.name = f"lineage: {attempt.what}"
            try:
                attempt()
            except BaseException:  # SystemExit and the like end this thread: it is not given back
                attempt.finished.set()
                raise
            self._pool.give_back(self)  # before the caller wakes, so its next budget finds it idle
            attempt.finished.set()


class _Pool:
    """Idle budget threads of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def take(self) -> _Worker:
        """An idle thread, or a new one (``RuntimeError`` when no thread can be started)."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self)

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def reset(self) -> None:
        """In a forked child: the parent's threads do not exist here (and its lock may be held)."""
        self._lock = threading.Lock()
        self._idle = []


_pool = _Pool()
os.register_at_fork(after_in_child=_pool.reset)


def run_within_budget(work: Callable[[], object], *, timeout: float, what: str) -> bool:
    """Run ``work`` for at most ``timeout`` seconds; return True when it finished without error.

    Never raises. Logs one warning line when the work fails or does not finish in time.
    """
    attempt = _Attempt(work, what, time.monotonic() + timeout)
    if inside_budget():
        attempt()
        return attempt.ok
    try:
        worker = _pool.take()
    except RuntimeError as exc:  # "can't start new thread": resources are exhausted, skip capture
        log.warning("lineage: %s skipped: %s", what, error_text(exc))
        return False
    worker.run(attempt)
    if not attempt.finished.wait(timeout):
        attempt.abandon(timeout)
        return False
    return attempt.ok


class _HandOff:
    """The writer thread of a long-lived component: runs the work handed to it in order, one at a time."""

    def __init__(self) -> None:
        self.reset()
        atexit.register(self.flush)

    def reset(self) -> None:
        """Also in a forked child: the parent's thread does not exist there (and its lock may be held)."""
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Attempt] = queue.Queue(HAND_OFF_LIMIT)
        self._thread: threading.Thread | None = None

    def put(self, attempt: _Attempt) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="lineage: hand-off", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(attempt)
        except queue.Full:
            log.warning("lineage: %s dropped: %d wait for a stuck writer", attempt.what, HAND_OFF_LIMIT)

    def _serve(self) -> None:
        while True:
            attempt = self._queue.get()
            try:
                attempt()
            finally:
                attempt.finished.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until what was handed off so far is done (at most ``timeout``, default the budget)."""
        if self._thread is None:
            return True
        timeout = budget_seconds() if timeout is None else timeout
        marker = _Attempt(lambda: None, "flushing lineage events", time.monotonic() + timeout)
        self.put(marker)
        return marker.finished.wait(timeout)


_hand_off = _HandOff()
os.register_at_fork(after_in_child=_hand_off.reset)


def hand_off(work: Callable[[], object], *, timeout: float, what: str) -> None:
    """For a long-lived component: run ``work`` in its writer thread, without waiting; errors are logged
    as by :func:`run_within_budget` (``timeout`` bounds what the work itself waits for)."""
    _hand_off.put(_Attempt(work, what, time.monotonic() + timeout))


def flush_hand_off(timeout: float | None = None) -> bool:
    """Wait for what :func:`hand_off` queued (tests; the process's exit does it by itself)."""
    return _hand_off.flush(timeout)
