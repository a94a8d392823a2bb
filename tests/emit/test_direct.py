"""The direct emitter records events in the configured store, within the budget, one store per process."""

from __future__ import annotations

import ast
import multiprocessing
from pathlib import Path

import pytest
from openlineage.client.serde import Serde

import airflow_lineage_provider
from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.emit.direct import DirectEmitter
from airflow_lineage_provider.exceptions import InvalidEventError
from tests.emit.conftest import run_event
from tests.emit.logs import LineageLog

PACKAGE = Path(airflow_lineage_provider.__file__).parent


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


def test_what_an_outbox_drain_delivers_is_validated_again(configured_store: str) -> None:
    """Outbox files can be written by anyone who can write the directory: the drain's delivery checks
    them (only an event this process just built and validated skips the second check)."""
    created = LineageStore.from_url(configured_store)
    created.upgrade()
    created.close()
    good = Serde.to_dict(run_event())
    bad = {**Serde.to_dict(run_event()), "eventTime": "not a time"}
    emitter = DirectEmitter()
    try:
        with pytest.raises(InvalidEventError) as raised:
            emitter.deliver([good, bad])
    finally:
        emitter.close()
    assert raised.value.index == 1 and raised.value.field == "eventTime"
    assert not Path(configured_store.removeprefix("sqlite:///")).exists() or not stored_run_ids(
        configured_store
    )


def _calls(name: str) -> list[tuple[str, str]]:
    """(module, enclosing function) of every call of a method or function ``name`` in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call):
                    called = (
                        node.func.attr
                        if isinstance(node.func, ast.Attribute)
                        else getattr(node.func, "id", "")
                    )
                    if called == name:
                        found.append((path.relative_to(PACKAGE).as_posix(), function.name))
    return found


def test_only_events_capture_just_validated_skip_the_stores_validation() -> None:
    """REST bodies, replayed outbox files and imported files all reach the store through record_many."""
    assert sorted(set(_calls("record_validated"))) == [
        ("emit/direct.py", "deliver_validated"),
        ("store/lineagestore.py", "record_many"),
    ]
    assert sorted(set(_calls("deliver_validated"))) == [("emit/durable.py", "_emit")]
