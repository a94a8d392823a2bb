"""8 task processes capture 500 events each at once through the real emitter (outbox, budget, store):
every event is stored exactly once and no "database is locked" error reaches capture."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.replay import replay
from tests.figures import report
from tests.store.events import writer_run

WRITERS = 8
EVENTS_PER_WRITER = 500


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _capture(args: tuple[str, str, int]) -> tuple[list[tuple[str, str]], list[str]]:
    """One task process: emits its events with the configured (direct) emitter."""
    url, outbox, writer = args
    os.environ["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"] = url
    os.environ["AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR"] = outbox
    from airflow_lineage_provider.emit.direct import DirectEmitter

    handler = _Warnings()
    logging.getLogger("airflow_lineage_provider").addHandler(handler)
    emitter = DirectEmitter()
    sent = []
    for i in range(EVENTS_PER_WRITER // 2):
        for event in writer_run(writer, i):
            emitter.emit(event)
            sent.append((event["run"]["runId"], event["eventType"]))
    emitter.close()
    return sent, handler.messages


def test_eight_capturing_processes_store_every_event_exactly_once(store_url: str, tmp_path: Path) -> None:
    created = LineageStore.from_url(store_url)
    created.upgrade()
    created.close()
    outbox = Outbox(tmp_path / "outbox")
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        results: list[Any] = pool.map(_capture, [(store_url, str(outbox.path), w) for w in range(WRITERS)])
    sent = [event for events, _ in results for event in events]
    warnings = [message for _, messages in results for message in messages]
    left_in_outbox = outbox.status()[0]
    store = LineageStore.from_url(store_url)
    try:
        replayed = replay(store, outbox).delivered  # what capture kept (a timeout) now arrives
        stored = [(e["run"]["runId"], e["eventType"]) for e in store.events()]
        hub = store.describe("dataset:sqlite:///data/w.db:hub")
    finally:
        store.close()

    backend = store_url.split(":", 1)[0]
    report(
        f"concurrent capture ({backend})",
        processes=WRITERS,
        sent=len(sent),
        stored=len(set(stored)),
        duplicated=len(stored) - len(set(stored)),
        lost=len(set(sent) - set(stored)),
        kept_in_outbox_then_replayed=replayed,
        left_in_outbox_after_capture=left_in_outbox,
        warnings=len(warnings),
        warning_samples=warnings[:3],
    )
    assert len(sent) == WRITERS * EVENTS_PER_WRITER
    assert sorted(stored) == sorted(sent)  # every event, exactly once
    assert not [w for w in warnings if "locked" in w or "deadlock" in w], warnings[:5]
    assert len(hub["consumers"]) == WRITERS * 5


def _capture_as_a_task(args: tuple[str, str, int]) -> list[tuple[str, str]]:
    """One task process on the new path: appends to the shared outbox, starts or finds the host
    deliverer, and returns at once."""
    url, outbox, writer = args
    os.environ["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"] = url
    os.environ["AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR"] = outbox
    os.environ["AIRFLOW__LINEAGE_PROVIDER__OUTBOX_POLL_INTERVAL"] = "0.05"
    os.environ["AIRFLOW__LINEAGE_PROVIDER__DELIVERER_IDLE_TIMEOUT"] = "5"
    from airflow_lineage_provider.emit import deliverer
    from airflow_lineage_provider.emit.spool import OutboxEmitter

    deliverer.set_role("task")
    emitter = OutboxEmitter()
    sent = []
    for i in range(EVENTS_PER_WRITER // 2):
        for event in writer_run(writer, i):
            emitter.emit(event)
            sent.append((event["run"]["runId"], event["eventType"]))
    return sent


def test_eight_task_processes_appending_to_one_outbox_get_one_deliverer_and_every_event_once(
    store_url: str, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        results = pool.map(_capture_as_a_task, [(store_url, str(outbox.path), w) for w in range(WRITERS)])
    sent = {event for events in results for event in events}
    deadline = time.monotonic() + 120
    while outbox.has_pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = (outbox.path / "deliverer.log").read_text()
    store = LineageStore.from_url(store_url)
    try:
        stored = [(e["run"]["runId"], e["eventType"]) for e in store.events()]
    finally:
        store.close()

    backend = store_url.split(":", 1)[0]
    report(
        f"concurrent capture through the outbox and one host deliverer ({backend})",
        processes=WRITERS,
        sent=len(sent),
        stored=len(set(stored)),
        duplicated=len(stored) - len(set(stored)),
        lost=len(sent - set(stored)),
        deliverers_started=log.count("started (pid"),
    )
    assert len(sent) == WRITERS * EVENTS_PER_WRITER
    assert sorted(stored) == sorted(sent)  # every event, once
    assert log.count("started (pid") == 1  # eight processes, one deliverer
