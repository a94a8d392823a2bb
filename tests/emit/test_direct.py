"""The direct emitter records events in the configured store, within the budget, one store per process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.emit.direct import DirectEmitter
from tests.emit.conftest import run_event
from tests.emit.logs import LineageLog


@pytest.fixture
def configured_store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", store_url)
    return store_url


def stored_run_ids(url: str) -> set[str]:
    store = LineageStore.from_url(url)
    try:
        return {e["run"]["runId"] for e in store.events()}
    finally:
        store.close()


def test_events_are_recorded_in_the_configured_store(configured_store: str, lineage_log: LineageLog) -> None:
    emitter = DirectEmitter()
    first, second = run_event(), run_event()
    try:
        emitter.emit(first)
        emitter.emit(second)
        emitter.emit(first)  # a duplicate is not an error
    finally:
        emitter.close()

    assert stored_run_ids(configured_store) == {first.run.runId, second.run.runId}
    assert lineage_log.warnings() == []


def test_a_store_error_is_one_warning_and_emit_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", f"sqlite:///{blocker}/lineage.db")
    emitter = DirectEmitter()

    emitter.emit(run_event())
    emitter.close()

    assert len(lineage_log.warnings()) == 1
    assert lineage_log.warnings()[0].startswith(
        "lineage: recording COMPLETE of dag.task in the lineage store failed"
    )


def _emit_in_child(emitter: DirectEmitter) -> None:
    emitter.emit(run_event("from.child"))


def test_a_forked_child_builds_its_own_store_and_its_events_land(configured_store: str) -> None:
    emitter = DirectEmitter()
    try:
        emitter.emit(run_event("from.parent"))  # the parent's store (and its connections) exist now
        child = multiprocessing.get_context("fork").Process(target=_emit_in_child, args=(emitter,))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        emitter.emit(run_event("after.fork"))  # the parent's store still works
    finally:
        emitter.close()

    store = LineageStore.from_url(configured_store)
    try:
        jobs = sorted(e["job"]["name"] for e in store.events())
    finally:
        store.close()
    assert jobs == ["after.fork", "from.child", "from.parent"]
