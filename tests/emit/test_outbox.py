"""The file outbox: whole events or nothing, damaged files set aside, poison events dead-lettered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.emit.outbox import ACCEPTS_PARSED, Outbox
from airflow_lineage_provider.exceptions import InvalidEventError, StoreError
from tests.emit.logs import LineageLog
from tests.store.events import new_run, run_event


def _event(job: str = "dag.task", minute: float = 0) -> dict[str, Any]:
    return run_event("COMPLETE", job, new_run(), minute=minute)


def _put(outbox: Outbox, event: dict[str, Any]) -> Path:
    return outbox.put(parse_event(event).key, event)


class Collector:
    """A deliver callable at the outbox's seam: keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self.events.extend(events)


def test_a_kept_event_reads_back_whole_and_keeping_it_twice_keeps_one_file(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    event = _event()

    path = _put(outbox, event)
    _put(outbox, event)

    assert outbox.files() == [path]
    pending = outbox.read(path)
    assert pending is not None and pending.event == event
    assert outbox.status()[0] == 1


def test_an_outbox_whose_directories_were_removed_makes_them_again_on_the_next_event(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    _put(outbox, _event())
    shutil.rmtree(tmp_path / "outbox")

    path = _put(outbox, _event())

    assert outbox.files() == [path]
    assert json.loads(path.read_bytes())["key"] == path.stem


def test_drain_delivers_oldest_first_and_empties_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    events = [_event(f"job{i}", minute=i) for i in range(7)]
    for event in events:
        _put(outbox, event)
    delivered = Collector()

    result = outbox.drain(delivered, batch=3)

    assert result.delivered == 7 and result.remaining == 0 and result.error is None
    assert delivered.events == events
    assert outbox.status() == (0, None)


def test_a_failed_delivery_leaves_every_event_pending(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for i in range(3):
        _put(outbox, _event(f"job{i}"))

    def down(events: list[dict[str, Any]]) -> None:
        raise StoreError("lineage store postgresql://db: connection refused")

    result = outbox.drain(down)

    assert result.delivered == 0 and result.remaining == 3
    assert result.error is not None and "connection refused" in result.error


def test_a_damaged_file_is_skipped_with_a_message_and_does_not_block_the_rest(
    tmp_path: Path, lineage_log: LineageLog
) -> None:
    outbox = Outbox(tmp_path)
    good = [_event("good1"), _event("good2")]
    for event in good:
        _put(outbox, event)
    truncated = _put(outbox, _event("truncated"))
    truncated.write_bytes(truncated.read_bytes()[:40])  # a torn write
    swapped = _put(outbox, _event("swapped"))
    record = json.loads(swapped.read_text())
    record["event"] = _event("other")  # content that does not match the file name
    swapped.write_text(json.dumps(record))
    delivered = Collector()

    result = outbox.drain(delivered)

    assert sorted(e["job"]["name"] for e in delivered.events) == ["good1", "good2"]
    assert result.corrupt == 2 and result.remaining == 0
    assert sorted(p.name.split(".json")[0] for p in outbox.corrupt_dir.iterdir()) == sorted(
        [truncated.stem, swapped.stem]
    )
    messages = [m for m in lineage_log.warnings() if "is damaged and was skipped" in m]
    assert len(messages) == 2
    assert any(truncated.name in m and "JSONDecodeError" in m for m in messages)


def test_a_temporary_file_of_a_killed_writer_is_never_read_as_an_event(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    _put(outbox, _event("whole"))
    (outbox.pending_dir / ".abc.123.deadbeef.tmp").write_text('{"key": "abc", "ev')

    delivered = Collector()
    result = outbox.drain(delivered)

    assert [e["job"]["name"] for e in delivered.events] == ["whole"]
    assert result.corrupt == 0 and result.remaining == 0


def test_a_poison_event_goes_to_the_dead_letter_file_with_its_reason_and_the_rest_is_delivered(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path)
    events = [_event("ok1", 1), _event("poison", 2), _event("ok2", 3)]
    for event in events:
        _put(outbox, event)
    delivered = Collector()

    def picky(batch: list[dict[str, Any]]) -> None:
        for index, event in enumerate(batch):
            if event["job"]["name"] == "poison":
                raise InvalidEventError("the store says no", field="job.name", index=index)
        delivered(batch)

    result = outbox.drain(picky)

    assert result.delivered == 2 and result.dead == 1 and result.remaining == 0
    assert sorted(e["job"]["name"] for e in delivered.events) == ["ok1", "ok2"]
    (line,) = outbox.dead_letter_file.read_text().splitlines()
    dead = json.loads(line)
    assert dead["reason"] == "the store says no" and dead["field"] == "job.name"
    assert dead["event"]["job"]["name"] == "poison"
    assert outbox.dead_letter_count() == 1


def test_only_one_process_drains_at_a_time(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    _put(outbox, _event())
    inner: list[Any] = []

    def deliver_and_try_again(batch: list[dict[str, Any]]) -> None:
        inner.append(Outbox(tmp_path).drain(Collector()))  # a second drainer while the first holds the lock

    outbox.drain(deliver_and_try_again)

    assert inner[0].busy is True and inner[0].delivered == 0


@pytest.mark.parametrize("limit", [1, 2])
def test_drain_stops_at_its_limit(tmp_path: Path, limit: int) -> None:
    outbox = Outbox(tmp_path)
    for i in range(3):
        _put(outbox, _event(f"job{i}", i))

    result = outbox.drain(Collector(), limit=limit)

    assert result.delivered == limit and result.remaining == 3 - limit


def test_a_deliver_that_accepts_parsed_events_gets_those_reading_validated(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    events = [_event(minute=m) for m in range(3)]
    for event in events:
        _put(outbox, event)
    plain, parsed = Collector(), Collector()
    setattr(parsed, ACCEPTS_PARSED, True)

    Outbox(tmp_path).drain(parsed)
    for event in events:
        _put(outbox, event)
    Outbox(tmp_path).drain(plain)

    assert [p.key for p in parsed.events] == [parse_event(e).key for e in events]
    assert [p.payload for p in parsed.events] == plain.events == events


def test_a_drain_adds_whether_the_dags_repository_is_dirty_before_it_validates(tmp_path: Path) -> None:
    from airflow_lineage_provider.capture import mlfacets
    from tests.core.test_gitstate import repository_with_a_dag

    repository = tmp_path / "repo"
    repository.mkdir()
    head = repository_with_a_dag(repository)
    (repository / "dag.py").write_text("x = 2\n")  # an uncommitted edit
    git = {"repository": str(repository), "commit": head}  # what a task process writes
    record = mlfacets.reproducibility({"dagFile": str(repository / "dag.py"), "git": git}, {}, {}, {}, [])
    events = [run_event("COMPLETE", "dag.train", new_run(), run_facets={mlfacets.REPRODUCIBILITY: record})]
    events.append(_event())  # no record at all: left as it is
    outbox = Outbox(tmp_path / "outbox")
    for event in events:
        _put(outbox, event)
    parsed = Collector()
    setattr(parsed, ACCEPTS_PARSED, True)

    outbox.drain(parsed)

    (stored,) = [p.payload for p in parsed.events if mlfacets.REPRODUCIBILITY in p.payload["run"]["facets"]]
    found = stored["run"]["facets"][mlfacets.REPRODUCIBILITY]["code"]["git"]
    assert found["commit"] == head and found["dirty"] is True and len(found["diffHash"]) == 64
