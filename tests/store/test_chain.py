"""The raw event log is hash-chained: verify passes on what was stored and names the first tampered row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine, select, text

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import chain, schema, tables
from tests.store.events import ds, etl_events, new_run, run_event


def _ids(store_url: str) -> list[int]:
    engine = create_engine(store_url)
    with engine.connect() as conn:
        ids = [int(i) for i in conn.execute(text("SELECT id FROM lineage_events ORDER BY id")).scalars()]
    engine.dispose()
    return ids


def _execute(store_url: str, sql: str, **params: object) -> None:
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def test_a_store_that_was_only_written_through_the_api_verifies(store):
    store.record_many(etl_events())
    store.record(run_event("START", "solo", new_run(), inputs=[ds("raw_a")]))

    result = store.verify()

    assert result.ok and result.checked == 7 and result.first_bad_id is None


def test_replaying_events_adds_nothing_to_the_chain(store):
    events = etl_events()
    store.record_many(events)
    store.record_many(events)

    assert store.verify().checked == len(events)


def test_a_hand_edited_event_row_is_reported_as_the_first_bad_record(store, store_url):
    store.record_many(etl_events())
    ids = _ids(store_url)
    target = ids[2]
    payload = store_url.startswith("postgresql")
    sql = (
        "UPDATE lineage_events SET payload = jsonb_set(payload, '{producer}', '\"forged\"') WHERE id = :id"
        if payload
        else "UPDATE lineage_events SET payload = json_set(payload, '$.producer', 'forged') WHERE id = :id"
    )
    _execute(store_url, sql, id=target)

    result = store.verify()

    assert not result.ok
    assert result.first_bad_id == target
    assert result.checked == 2
    assert f"event {target}" in (result.problem or "")


def test_a_deleted_event_in_the_middle_breaks_the_chain_at_the_next_one(store, store_url):
    store.record_many(etl_events())
    ids = _ids(store_url)
    _execute(store_url, "DELETE FROM lineage_events WHERE id = :id", id=ids[1])

    assert store.verify().first_bad_id == ids[2]


def test_deleting_the_newest_event_is_detected_by_the_chain_head(store, store_url):
    store.record_many(etl_events())
    ids = _ids(store_url)
    _execute(store_url, "DELETE FROM lineage_events WHERE id = :id", id=ids[-1])

    result = store.verify()

    assert not result.ok and result.first_bad_id == ids[-1] and "removed" in (result.problem or "")


def test_the_canonical_form_does_not_depend_on_key_order_or_number_spelling():
    a = chain.canonical("k", {"b": 1.0, "a": [1e23, {"y": 2e-7, "x": "é"}]})
    b = chain.canonical("k", {"a": [100000000000000000000000, {"x": "é", "y": 0.0000002}], "b": 1})

    assert a == b
    assert chain.link(chain.GENESIS, "k", {"a": 1}) != chain.link(chain.GENESIS, "k", {"a": 2})
    assert chain.canonical("k", {"a": 1}) != chain.canonical("k", {"a": "1"})
    assert chain.canonical("k", {"a": True}) != chain.canonical("k", {"a": 1})


def test_upgrading_a_0001_store_chains_the_events_it_already_holds(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO lineage_events (event_key, kind, event_time, payload, received_at) "
                    "VALUES (:key, 'dataset', '2026-01-01 00:00:00', :payload, '2026-01-01 00:00:00')"
                ),
                {"key": f"k{n}", "payload": f'{{"n": {n}}}'},
            )
    engine.dispose()
    store = LineageStore.from_url(url)

    assert store.upgrade() == schema.HEAD_REVISION
    store.record_many(etl_events())
    result = store.verify()
    store.close()

    assert result.ok and result.checked == 3 + 6


def test_numbers_keep_their_chain_hash_through_the_database(store):
    run_id = new_run()
    store.record(
        run_event(
            "COMPLETE",
            "numbers",
            run_id,
            run_facets={
                "odd": {"big": 1e23, "small": 2e-7, "whole": 3.0, "pi": 3.141592653589793, "n": 10**20}
            },
        )
    )

    assert store.verify().ok


def test_prune_and_erase_reseal_the_chain_and_later_tampering_is_still_found(store, store_url):
    store.record_many(etl_events())
    old = new_run()
    store.record(run_event("COMPLETE", "old_job", old, minute=0, outputs=[ds("stale")]))
    store.record(run_event("COMPLETE", "old_job", new_run(), minute=5, outputs=[ds("stale")]))
    assert store.verify().ok

    report = store.prune(timedelta(days=90))
    assert report.events >= 1  # the first old_job run is gone (the second is its job's latest)
    assert store.verify().ok, store.verify().problem
    store.erase("dataset:sqlite:///data/w.db:stale", reason="GDPR request 7")
    assert store.verify().ok, store.verify().problem

    ids = _ids(store_url)
    _execute(store_url, "DELETE FROM lineage_events WHERE id = :id", id=ids[1])
    assert store.verify().first_bad_id == ids[2]


def _stored_rows(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        e = tables.Event
        columns = (e.id, e.event_key, e.kind, e.event_type, e.event_time, e.run_id, e.job_namespace)
        rows = conn.execute(select(*columns, e.job_name, e.chain_hash, e.normalised).order_by(e.id)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_raw_events_with_escapes_are_stored_and_chained_alike_on_every_backend(store, store_url, tmp_path):
    """PostgreSQL appends raw events with COPY (text format, its own escaping); SQLite with INSERT.
    Values COPY must escape (tab, newline, carriage return, backslash), non-ASCII text, a NULL and a
    lenient read (``normalised``) come back the same, in the same order, under the same chain hashes."""
    run_id = new_run()
    awkward = "tab\there\nnewline\rreturn back\\slash \\N é 名"
    events = [
        run_event(
            "START",
            awkward,
            run_id,
            inputs=[ds("in\\put\t1", path="C:\\data\\x.csv", note=awkward)],
            run_facets={"quote": {"text": 'say "hi"\\n'}},
        ),
        {**run_event("COMPLETE", "plain", run_id.upper(), minute=1), "eventTime": "2026-01-01T00:01:00"},
        run_event("COMPLETE", awkward, run_id, minute=2, outputs=[ds("out\nput", size=1e23)]),
    ]
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    reference = LineageStore.from_url(reference_url)
    reference.record_many(events)
    expected_payloads = [chain.canonical("", p) for p in reference.events()]  # 1e23: JSONB spells it out
    reference.close()

    result = store.record_many(events)

    assert result.stored == 3 and result.normalised  # the upper-case run id and the naive time
    assert _stored_rows(store_url) == _stored_rows(reference_url)
    assert [chain.canonical("", p) for p in store.events()] == expected_payloads
    assert store.verify().ok
