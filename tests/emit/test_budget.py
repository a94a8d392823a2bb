"""The time budget: work runs in a daemon thread; a failure or a timeout is one warning, never an error."""

from __future__ import annotations

import os
import threading
import time

import pytest

from airflow_lineage_provider.emit.budget import (
    budget_deadline,
    budget_seconds,
    inside_budget,
    run_within_budget,
)
from tests.emit.logs import LineageLog


def test_finished_work_returns_true_and_logs_nothing(lineage_log: LineageLog) -> None:
    done: list[str] = []

    assert run_within_budget(lambda: done.append(threading.current_thread().name), timeout=5, what="work")
    assert done == ["lineage: work"]
    assert lineage_log.warnings() == []


def test_failing_work_is_one_warning_line(lineage_log: LineageLog) -> None:
    def fail() -> None:
        raise ConnectionError("server gone\nreally gone")

    assert run_within_budget(fail, timeout=5, what="delivery") is False
    assert lineage_log.warnings() == ["lineage: delivery failed: ConnectionError: server gone really gone"]


def test_work_past_its_budget_is_abandoned_with_one_warning_and_its_late_failure_is_only_debug(
    lineage_log: LineageLog,
) -> None:
    release, finished = threading.Event(), threading.Event()

    def stuck() -> None:
        try:
            release.wait(30)
            raise TimeoutError("the lock was held")
        finally:
            finished.set()

    assert run_within_budget(stuck, timeout=0.05, what="locked store") is False
    release.set()
    finished.wait(30)

    assert lineage_log.warnings() == ["lineage: locked store gave up after its time budget of 0.1 s"]
    assert [m for m in lineage_log.debug() if "the lock was held" in m] == [
        "lineage: locked store failed: TimeoutError: the lock was held"
    ]


def test_budgets_do_not_nest_inner_work_runs_inline_under_the_outer_budget(lineage_log: LineageLog) -> None:
    seen: list[tuple[str, bool]] = []

    def inner() -> None:
        seen.append((threading.current_thread().name, inside_budget()))
        raise ValueError("inner")

    def outer() -> None:
        assert run_within_budget(inner, timeout=5, what="inner") is False

    assert run_within_budget(outer, timeout=5, what="outer")
    assert seen == [("lineage: outer", True)]
    assert lineage_log.warnings() == ["lineage: inner failed: ValueError: inner"]
    assert not inside_budget()


def test_a_bad_emit_timeout_falls_back_to_the_default_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT", "soon")

    assert budget_seconds() == 5.0
    assert len(lineage_log.warnings()) == 1


def test_work_knows_when_its_budget_ends_and_nested_work_keeps_the_outer_deadline() -> None:
    seen: dict[str, float | None] = {}

    def inner() -> None:
        seen["inner"] = budget_deadline()

    def outer() -> None:
        seen["outer"] = budget_deadline()
        run_within_budget(inner, timeout=100, what="inner work")

    before = time.monotonic()
    assert run_within_budget(outer, timeout=5, what="outer work")

    assert budget_deadline() is None
    assert seen["outer"] is not None and before + 5 <= seen["outer"] <= time.monotonic() + 5
    assert seen["inner"] == seen["outer"]


def _thread_of_work(timeout: float = 5) -> int:
    seen: list[int] = []
    assert run_within_budget(lambda: seen.append(threading.get_ident()), timeout=timeout, what="work")
    return seen[0]


def test_one_budget_thread_serves_budget_after_budget() -> None:
    first = _thread_of_work()
    running = threading.active_count()

    assert {_thread_of_work() for _ in range(20)} == {first}
    assert threading.active_count() == running
    assert first != threading.get_ident()


def test_a_thread_busy_with_abandoned_work_is_not_handed_out_until_it_finishes(
    lineage_log: LineageLog,
) -> None:
    release, stuck_in = threading.Event(), []

    def stuck() -> None:
        stuck_in.append(threading.get_ident())
        release.wait(30)

    assert run_within_budget(stuck, timeout=0.05, what="stuck") is False
    meanwhile = _thread_of_work()
    release.set()
    time.sleep(0.2)  # the stuck thread finishes and offers itself again

    assert meanwhile != stuck_in[0]
    assert {_thread_of_work() for _ in range(10)} <= {meanwhile, stuck_in[0]}


def test_callers_at_the_same_time_each_get_a_thread() -> None:
    both_in, idents = threading.Barrier(2, timeout=10), []

    def work() -> None:
        idents.append(threading.get_ident())
        both_in.wait()  # deadlocks (and times out) if the two budgets shared one thread

    callers = [threading.Thread(target=run_within_budget, args=(work,), kwargs={"timeout": 10, "what": "w"})]
    callers.append(
        threading.Thread(target=run_within_budget, args=(work,), kwargs={"timeout": 10, "what": "w"})
    )
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(15)

    assert len(set(idents)) == 2


def test_a_forked_child_runs_its_budgets_in_threads_of_its_own() -> None:
    parent = _thread_of_work()  # an idle thread in the parent's pool when it forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's idle thread does not exist here
        try:
            ok = run_within_budget(lambda: None, timeout=2, what="in the child")
            again = run_within_budget(lambda: None, timeout=2, what="in the child")
            os.write(write, b"ok" if ok and again else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.close(read)
    os.waitpid(pid, 0)

    assert answer == b"ok"
    assert _thread_of_work() == parent
