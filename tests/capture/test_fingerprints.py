"""Content fingerprints in real tasks (dag.test() of tests/capture/dags/capture_files.py), read back
from a real store (SQLite and PostgreSQL): a file written is fingerprinted at COMPLETE and read at START
with the same digest; a file changed between the two tasks flags its reader; a rerun with the same
bytes is unchanged; a large file is sampled; a table written through SQL gets its row count; an
unreadable file costs an extraction error, never the task; ``verify --artifacts`` tells matches,
changed and missing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.core.fingerprints import FACET
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, load_dag_module, run_dag, sqlite_connection_env
from tests.cli.shell import cli
from tests.spec import validate_event

pytestmark = pytest.mark.usefixtures("airflow_db")

DAG_ID = "capture_files"
CONTENT = "id,x\n1,2\n3,4\n"
TAMPERED = "id,x\n1,2\n3,999\n"


def paths() -> Any:
    return load_dag_module(DAG_ID)


def features_id() -> str:
    return f"dataset:file:{paths().FEATURES}"


def summary_id() -> str:
    return f"dataset:file:{paths().SUMMARY}"


def run(**env: str) -> Events:
    """One dag.test() of the DAG, its events as the listener emitted them."""
    emitter = AccumulatingEmitter()
    database = Path(paths().DIR) / "tables.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    settings = {"CAPTURE_FILES_CONTENT": CONTENT, **sqlite_connection_env(database), **env}
    dag_run = run_dag(DAG_ID, "capture_files_dag", emitter, settings)
    assert str(dag_run.state) == "success"
    return Events(emitter.dicts())


def dataset(event: dict[str, Any], side: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in event[side] if d["name"] == name]
    return found


def fingerprint(event: dict[str, Any], side: str, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = dataset(event, side, name)["facets"].get(FACET)
    return found


@pytest.fixture(scope="module")
def first(airflow_db: Any) -> Events:
    return run()


@pytest.fixture(scope="module")
def history(first: Events) -> list[Events]:
    """Three runs: the same bytes twice, then a file changed between its writer and its reader."""
    return [first, run(), run(CAPTURE_FILES_TAMPER=TAMPERED)]


@pytest.fixture
def store(store_url: str, history: list[Events]) -> Iterator[LineageStore]:
    lineage_store = LineageStore.from_url(store_url)
    for events in history:
        lineage_store.record_many(events.all)
    yield lineage_store
    lineage_store.close()


def test_a_file_written_is_fingerprinted_at_complete_and_read_at_start_with_its_digest(first: Events) -> None:
    features = paths().FEATURES
    written = fingerprint(first.one(f"{DAG_ID}.write", "COMPLETE"), "outputs", features)
    read = fingerprint(first.one(f"{DAG_ID}.read", "START"), "inputs", features)

    expected = xxhash.xxh3_128(CONTENT.encode()).hexdigest()
    assert written is not None and read is not None
    assert (written["algorithm"], written["digest"], written["size"]) == ("xxh3_128", expected, len(CONTENT))
    assert (read["algorithm"], read["digest"]) == ("xxh3_128", expected)
    assert "sampled" not in written and written["mtime"].endswith("+00:00")
    # reads only at START, writes only at COMPLETE: the bytes known to be the ones used
    assert fingerprint(first.one(f"{DAG_ID}.write", "START"), "outputs", features) is None
    for event in first.of(f"{DAG_ID}.write") + first.of(f"{DAG_ID}.read"):
        validate_event(event)


def test_a_table_written_through_sql_gets_its_row_count_marked_approximate(first: Events) -> None:
    complete = first.one(f"{DAG_ID}.table", "COMPLETE")
    found = fingerprint(complete, "outputs", "scores")

    assert found is not None
    assert (found["algorithm"], found["rows"], found["digest"], found["approximate"]) == (
        "rowcount",
        3,
        "3",
        True,
    )
    validate_event(complete)


def test_an_unreadable_file_costs_an_extraction_error_never_the_task(first: Events) -> None:
    start = first.one(f"{DAG_ID}.unreadable", "START")

    assert fingerprint(start, "inputs", paths().UNREADABLE) is None
    errors = start["run"]["facets"]["extractionError"]["errors"]
    assert any(
        e["task"] == f"fingerprint of file/{paths().UNREADABLE}" and "OSError" in e["errorMessage"]
        for e in errors
    ), errors
    assert first.one(f"{DAG_ID}.unreadable", "COMPLETE")  # the task succeeded


def test_a_file_over_the_size_limit_is_sampled_and_a_spent_time_limit_is_an_error() -> None:
    sampled = run(AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_MAX_BYTES="4")
    found = fingerprint(sampled.one(f"{DAG_ID}.write", "COMPLETE"), "outputs", paths().FEATURES)
    assert found is not None and found["sampled"] is True and found["size"] == len(CONTENT)
    assert found["digest"] != xxhash.xxh3_128(CONTENT.encode()).hexdigest()

    late = run(AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_TIMEOUT="0.000000001")
    complete = late.one(f"{DAG_ID}.write", "COMPLETE")
    assert fingerprint(complete, "outputs", paths().FEATURES) is None
    errors = complete["run"]["facets"]["extractionError"]["errors"]
    assert any("TimeoutError" in e["errorMessage"] for e in errors), errors


def test_a_version_with_the_same_bytes_as_the_one_before_is_unchanged(
    store: LineageStore, history: list[Events]
) -> None:
    versions = store.describe(features_id())["versions"]  # newest first

    assert [v["unchanged"] for v in versions] == [True, True, None]  # the writer wrote CONTENT each time
    assert versions[0]["fingerprint"]["digest"] == xxhash.xxh3_128(CONTENT.encode()).hexdigest()
    summaries = store.describe(summary_id())["versions"]
    assert [v["unchanged"] for v in summaries] == [True, True, None]  # "3 lines" each time


def test_a_reader_of_a_file_changed_after_its_writer_is_flagged(
    store: LineageStore, history: list[Events]
) -> None:
    tampered_read = history[2].one(f"{DAG_ID}.read", "START")["run"]["runId"]
    answer = store.ml.provenance(summary_id())
    (step,) = [s for s in answer["steps"] if s["runId"] == tampered_read]
    (item,) = step["inputs"]

    assert item["changedBeforeRead"] is True
    assert item["fingerprint"]["digest"] == xxhash.xxh3_128(TAMPERED.encode()).hexdigest()
    assert item["writtenFingerprint"]["digest"] == xxhash.xxh3_128(CONTENT.encode()).hexdigest()
    assert answer["changedBeforeRead"] == [f"{features_id()} @ {item['version']}"]
    newest = store.describe(features_id())["versions"][0]
    tampered_train = history[2].one(f"{DAG_ID}.train", "COMPLETE")["run"]["runId"]
    assert newest["changedBeforeRead"] == sorted([tampered_read, tampered_train])
    # the runs before read what was written: nothing flagged
    earlier = store.ml.provenance(summary_id(), store.describe(summary_id())["versions"][1]["version"])
    assert earlier["changedBeforeRead"] == []


def test_verify_artifacts_tells_matches_then_changed_then_missing(store_url: str, airflow_db: Any) -> None:
    events = run()
    lineage_store = LineageStore.from_url(store_url)
    try:
        lineage_store.record_many(events.all)
    finally:
        lineage_store.close()

    def verify() -> tuple[int, dict[str, str], str]:
        done = cli("verify", "--artifacts", summary_id(), "--store-url", store_url)
        statuses = {}
        for line in done.stdout.splitlines()[2:]:
            status, _, rest = line.strip().partition("  ")
            statuses[rest.strip().split(" @ ")[0]] = status
        return done.returncode, statuses, done.stdout

    code, statuses, out = verify()
    assert code == 0, out
    assert statuses == {features_id(): "MATCHES", summary_id(): "MATCHES"}, out
    assert out.splitlines()[0].startswith("hash chain verified")

    Path(paths().FEATURES).write_text("id,x\nedited by hand\n")
    code, statuses, out = verify()
    assert code == 1 and statuses[features_id()] == "CHANGED" and statuses[summary_id()] == "MATCHES", out

    os.remove(paths().SUMMARY)
    code, statuses, out = verify()
    assert code == 1 and statuses[summary_id()] == "MISSING", out
    assert f"no file at {paths().SUMMARY}" in out


def test_without_xxhash_the_digest_is_sha256_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_lineage_provider.core import fingerprints

    path = tmp_path / "data.bin"
    path.write_bytes(b"abc" * 1000)
    monkeypatch.setitem(__import__("sys").modules, "xxhash", None)  # import xxhash raises ImportError

    found = fingerprints.file_fingerprint(str(path), 1 << 20)

    assert (found["algorithm"], found["digest"]) == ("sha256", hashlib.sha256(b"abc" * 1000).hexdigest())


def test_an_input_logged_through_the_ml_sdk_is_fingerprinted_at_complete(first: Events) -> None:
    complete = first.one(f"{DAG_ID}.train", "COMPLETE")
    read = fingerprint(complete, "inputs", paths().FEATURES)
    model = fingerprint(complete, "outputs", paths().MODEL)

    assert read is not None and read["digest"] == xxhash.xxh3_128(CONTENT.encode()).hexdigest()
    assert model is not None and model["size"] == len(Path(paths().MODEL).read_bytes())


def test_reproducible_checks_the_inputs_are_still_byte_identical(store: LineageStore) -> None:
    model = f"dataset:file:{paths().MODEL}"
    # the current version of the model was trained on TAMPERED (changed before its run read it)
    Path(paths().FEATURES).write_text(CONTENT)
    before = {c["check"]: c for c in store.ml.reproducible(model)["checks"]}
    assert before["inputs still byte-identical"]["required"] is True
    assert before["inputs still byte-identical"]["ok"] is False
    assert "changed" in before["inputs still byte-identical"]["detail"]

    Path(paths().FEATURES).write_text(TAMPERED)
    after = {c["check"]: c for c in store.ml.reproducible(model)["checks"]}
    assert after["inputs still byte-identical"]["ok"] is True, after
    assert after["inputs still byte-identical"]["detail"] == "1 of 1 inputs match what was read"


def test_the_rest_route_and_the_audit_give_the_verdict_of_the_command_line(store: LineageStore) -> None:
    model = f"dataset:file:{paths().MODEL}"
    Path(paths().FEATURES).write_text(TAMPERED)

    verified = store.ml.verify_artifacts(model)
    audit = store.ml.audit(model)

    assert audit["artifacts"]["artifacts"] == verified["artifacts"]
    assert {a["id"]: a["status"] for a in verified["artifacts"]}[features_id()] == "matches"
