"""The capture time budget: run work in a daemon thread and stop waiting for it after a timeout.

:func:`run_within_budget` is the one place in ``emit`` that catches every error. On a timeout or
an error it logs exactly one warning line and returns; the caller (a task, the scheduler loop)
carries on. Work that times out keeps running in its daemon thread; its late outcome is logged at
debug level only, so one problem is one warning line.

Budgets do not nest: work started from inside a budget thread runs inline, covered by the outer
budget (one thread, one deadline, one warning).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from airflow_lineage_provider import conf
from airflow_lineage_provider.exceptions import ConfigError

DEFAULT_TIMEOUT = 5.0

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


def run_within_budget(work: Callable[[], object], *, timeout: float, what: str) -> bool:
    """Run ``work`` for at most ``timeout`` seconds; return True when it finished without error.

    Never raises. Logs one warning line when the work fails or does not finish in time.
    """
    attempt = _Attempt(work, what, time.monotonic() + timeout)
    if inside_budget():
        attempt()
        return attempt.ok
    thread = threading.Thread(target=attempt, name=f"lineage: {what}", daemon=True)
    try:
        thread.start()
    except RuntimeError as exc:  # "can't start new thread": resources are exhausted, skip capture
        log.warning("lineage: %s skipped: %s", what, error_text(exc))
        return False
    thread.join(timeout)
    if thread.is_alive():
        attempt.abandon(timeout)
        return False
    return attempt.ok
