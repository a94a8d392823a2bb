"""The capture path's two halves with a real store: a task appends to the outbox (``OutboxEmitter``),
one deliverer per outbox stores it promptly (a thread as in the API server, or a host deliverer
process a task starts), retries while the store is down, and is never blocked by a damaged entry."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore, conf
from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.emit import deliverer
from airflow_lineage_provider.emit.deliverer import Deliverer
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.spool import OutboxEmitter, event_key
from airflow_lineage_provider.exceptions import LineageError
from tests.emit.logs import LineageLog
from tests.figures import report
from tests.store.events import new_run, run_event

DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/lineage"  # nothing listens on port 1


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored(url: str) -> list[dict[str, Any]]:
    store = LineageStore.from_url(url)
    try:
        return list(store.events())
    except LineageError:  # not created yet
        return []
    finally:
        store.close()


def events(count: int) -> list[dict[str, Any]]:
    return [run_event("COMPLETE", f"dag.task{i}", new_run(), minute=i) for i in range(count)]


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR", str(tmp_path / "outbox"))
    conf.reload()
    return Outbox(tmp_path / "outbox")


@pytest.fixture
def thread_deliverer(outbox: Outbox) -> Iterator[Callable[[Callable[[], Any]], Deliverer]]:
    started: list[Deliverer] = []

    def start(get_deliver: Callable[[], Any]) -> Deliverer:
        found = Deliverer(outbox, get_deliver, poll=0.05, retry=0.5)
        found.start()
        started.append(found)
        return found

    yield start
    for found in started:
        found.stop()


def lock_is_held(outbox: Outbox) -> bool:
    if not outbox.path.is_dir():
        return False
    fd = os.open(outbox.path / deliverer.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_the_key_a_task_names_its_file_by_is_the_key_ingest_computes() -> None:
    built = [
        run_event("START", "d.t", new_run()),
        {**run_event("COMPLETE", "d.t", new_run()), "eventTime": "2026-03-01T10:00:00Z"},
        {**run_event("FAIL", "d.t", new_run()), "eventTime": "2026-03-01T12:00:00.5+02:00"},
        {**run_event("OTHER", "d.t", new_run().upper())},
    ]
    for event in built:
        assert event_key(event) == parse_event(event).key


def test_a_thread_deliverer_stores_what_tasks_append_within_moments(
    store_url: str, outbox: Outbox, thread_deliverer: Any
) -> None:
    store = LineageStore.from_url(store_url)
    try:
        thread_deliverer(lambda: store.record_many)
        emitter = OutboxEmitter(outbox)
        for event in events(5):
            emitter.emit(event)
        wait_until(lambda: not outbox.has_pending() and len(list(store.events())) == 5)
        assert lock_is_held(outbox)  # a task seeing this starts no other deliverer
        assert deliverer.ensure_running(outbox) is False
    finally:
        store.close()


def test_a_second_deliverer_waits_while_the_first_runs(
    store_url: str, outbox: Outbox, thread_deliverer: Any
) -> None:
    store = LineageStore.from_url(store_url)
    delivered_by: list[str] = []

    def counting(name: str) -> Callable[[], Any]:
        def deliver(batch: list[dict[str, Any]]) -> None:
            delivered_by.append(name)
            store.record_many(batch)

        return lambda: deliver

    try:
        first = thread_deliverer(counting("first"))
        wait_until(lambda: lock_is_held(outbox))
        thread_deliverer(counting("second"))
        OutboxEmitter(outbox).emit(events(1)[0])
        wait_until(lambda: not outbox.has_pending())
        first.stop()  # the second takes over
        OutboxEmitter(outbox).emit(events(1)[0])
        wait_until(lambda: not outbox.has_pending())
    finally:
        store.close()

    assert delivered_by == ["first", "second"]


def test_while_the_store_is_down_events_wait_and_are_stored_once_it_is_back(
    store_url: str, outbox: Outbox, thread_deliverer: Any, lineage_log: LineageLog
) -> None:
    target = {"url": DOWN}
    opened: list[LineageStore] = []

    def deliver(batch: list[dict[str, Any]]) -> None:
        store = LineageStore.from_url(target["url"], timeout=1)
        opened.append(store)
        store.record_many(batch)

    thread_deliverer(lambda: deliver)
    sent = events(6)
    for event in sent:
        OutboxEmitter(outbox).emit(event)
    wait_until(lambda: len(opened) >= 2)  # tried, failed, tried again
    assert outbox.status()[0] == 6
    target["url"] = store_url
    wait_until(lambda: not outbox.has_pending())
    for store in opened:
        store.close()

    runs = [e["run"]["runId"] for e in stored(store_url)]
    report(
        f"store down while tasks append, then back: the deliverer retries ({store_url.split(':', 1)[0]})",
        sent=len(sent),
        stored=len(set(runs)),
        duplicated=len(runs) - len(set(runs)),
        lost=len({e["run"]["runId"] for e in sent} - set(runs)),
        tries_while_down=len(opened) - 1,
    )
    assert sorted(runs) == sorted(e["run"]["runId"] for e in sent)
    failures = [w for w in lineage_log.warnings() if "delivery from the outbox" in w and "failed" in w]
    assert len(failures) == 1  # one warning while it stays down, not one per retry


def test_damaged_entries_never_block_or_hang_delivery_and_status_counts_them(
    store_url: str, outbox: Outbox, thread_deliverer: Any
) -> None:
    emitter = OutboxEmitter(outbox)
    sent = events(4)
    for event in sent:
        emitter.emit(event)
    pending = outbox.pending_dir
    (pending / "a-directory.json").mkdir()
    os.mkfifo(pending / "a-fifo.json")
    (pending / "a-link.json").symlink_to(pending / "nowhere")
    (pending / "not-json.json").write_bytes(b"\xff\xfe not an event")

    found = outbox.inspect()
    assert (found.pending, found.damaged) == (5, 3)  # the bad JSON is only found when read

    store = LineageStore.from_url(store_url)
    try:
        thread_deliverer(lambda: store.record_many)
        wait_until(lambda: not outbox.has_pending())
        assert len(list(store.events())) == 4
    finally:
        store.close()
    assert sorted(p.name.rsplit(".", 1)[0] for p in outbox.corrupt_dir.iterdir()) == [
        "a-directory.json",
        "a-fifo.json",
        "a-link.json",
        "not-json.json",
    ]


def test_an_event_that_is_not_json_goes_to_the_dead_letter_file_with_the_reason(outbox: Outbox) -> None:
    event = run_event("COMPLETE", "d.t", new_run(), run_facets={"metrics": {"loss": float("nan")}})
    OutboxEmitter(outbox).emit(event)

    assert outbox.status()[0] == 0
    assert outbox.dead_letter_count() == 1
    assert "NaN" in outbox.dead_letter_file.read_text() or "nan" in outbox.dead_letter_file.read_text()


def test_when_the_outbox_cannot_be_written_the_event_is_delivered_at_once(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the outbox directory should be")
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", store_url)
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR", str(tmp_path / "fallback-outbox"))
    conf.reload()
    event = events(1)[0]
    emitter = OutboxEmitter(Outbox(blocked / "outbox"))
    try:
        emitter.emit(event)
    finally:
        emitter.close()

    assert [e["run"]["runId"] for e in stored(store_url)] == [event["run"]["runId"]]


def test_durability_host_and_process_both_keep_the_whole_event(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for durability in ("host", "process"):
        monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__DURABILITY", durability)
        conf.reload()
        event = events(1)[0]
        OutboxEmitter(outbox).emit(event)
        (kept,) = [p for p in outbox.files() if p.stem == event_key(event)]
        assert outbox.read(kept) is not None


def test_a_bad_durability_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__DURABILITY", "disk")
    conf.reload()
    with pytest.raises(Exception, match="durability must be process or host, got 'disk'"):
        conf.durability()


@pytest.fixture
def host_env(store_url: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", store_url)
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__DELIVERER_IDLE_TIMEOUT", "3")
    conf.reload()
    deliverer.set_role("task")
    yield
    deliverer.set_role(None)


@pytest.mark.usefixtures("host_env")
def test_a_task_process_starts_one_host_deliverer_which_stores_its_events_and_exits_when_idle(
    store_url: str, outbox: Outbox
) -> None:
    sent = events(3)
    for event in sent:
        OutboxEmitter(outbox).emit(event)  # the first starts the deliverer, the others find it

    wait_until(lambda: len(stored(store_url)) == 3, timeout=60)
    assert lock_is_held(outbox)
    assert deliverer.ensure_running(outbox) is False
    assert "deliverer of" in (outbox.path / deliverer.LOG_NAME).read_text()
    wait_until(lambda: not lock_is_held(outbox), timeout=60)  # idle for 3 s: it exits
    assert deliverer.reap(timeout=10) == 0
    assert outbox.status()[0] == 0


@pytest.mark.usefixtures("host_env")
def test_a_host_deliverer_exits_when_its_outbox_is_removed(outbox: Outbox) -> None:
    outbox.path.mkdir(parents=True)
    fd = os.open(outbox.path / deliverer.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_lineage_provider.emit.deliverer", "--outbox", str(outbox.path)]
        + ["--lock-fd", str(fd)],
        pass_fds=(fd,),
    )
    os.close(fd)
    try:
        wait_until(lambda: (outbox.path / deliverer.LOG_NAME).exists())
        for path in outbox.path.iterdir():
            path.unlink()
        outbox.path.rmdir()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


EMITTING_CHILD = """
import sys, uuid
from airflow_lineage_provider.emit.spool import OutboxEmitter
from tests.store.events import run_event

emitter = OutboxEmitter()
for i in range(100000):
    event = run_event("COMPLETE", f"dag.task{i}", str(uuid.uuid4()), minute=i % 1000)
    emitter.emit(event)  # appended and closed when this returns
    print(event["run"]["runId"], flush=True)
"""


def test_a_task_process_killed_at_any_point_loses_none_of_the_events_it_had_appended(
    store_url: str, outbox: Outbox, thread_deliverer: Any
) -> None:
    """kill -9 while a process appends events as fast as it can: every event whose emit had
    returned is delivered afterwards, once; a half-written one is never read as an event."""
    lost = stored_count = duplicated = acknowledged = 0
    for delay in (0.05, 0.3, 0.9):  # a few points in the stream of writes
        child = subprocess.Popen(
            [sys.executable, "-c", EMITTING_CHILD],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(outbox.path)},
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # it is writing
        time.sleep(delay)
        child.kill()
        rest, _ = child.communicate()
        acked = {first.decode().strip(), *rest.decode().split()}
        acknowledged += len(acked)
        assert not outbox.corrupt_dir.exists()
        store = LineageStore.from_url(store_url)
        try:
            found = thread_deliverer(lambda store=store: store.record_many)
            wait_until(lambda: not outbox.has_pending(), timeout=120)
            found.stop()
            runs = [e["run"]["runId"] for e in store.events()]
        finally:
            store.close()
        lost += len(acked - set(runs))
        stored_count, duplicated = len(set(runs)), len(runs) - len(set(runs))
    report(
        f"task processes killed with SIGKILL while appending, then delivered ({store_url.split(':', 1)[0]})",
        kills=3,
        acknowledged=acknowledged,
        stored=stored_count,
        duplicated=duplicated,
        lost=lost,
    )
    assert lost == 0 and duplicated == 0
    assert not outbox.corrupt_dir.exists()  # the write being made at the kill was a temporary file


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.usefixtures("host_env")
def test_the_api_servers_keeper_runs_one_deliverer_process_below_the_tasks_priority(
    store_url: str, outbox: Outbox
) -> None:
    keeper = deliverer.HostDelivererKeeper(outbox, wait=0.2)
    keeper.start()
    try:
        wait_until(lambda: keeper.child is not None and lock_is_held(outbox))
        child = keeper.child
        assert child is not None
        for event in events(3):
            OutboxEmitter(outbox).emit(event)  # the lock is held: no task starts a deliverer of its own
        wait_until(lambda: len(stored(store_url)) == 3, timeout=60)
        assert deliverer.reap() == 0 and keeper.child is child
        assert niceness(child.pid) == niceness(os.getpid()) + deliverer.NICENESS
        time.sleep(4)  # longer than deliverer_idle_timeout (3 s): it delivers as long as the API server runs
        assert child.poll() is None and lock_is_held(outbox)
        assert deliverer.role() == "component"  # the API server is a long-lived process while it runs
    finally:
        keeper.stop()
    assert child.poll() is not None and not lock_is_held(outbox)
    assert deliverer.role() == "task"  # what it was before (host_env's)


@pytest.mark.usefixtures("host_env")
def test_a_keeper_waits_while_another_deliverer_holds_the_outbox_and_takes_over_when_it_exits(
    store_url: str, outbox: Outbox
) -> None:
    first = deliverer.HostDelivererKeeper(outbox, wait=0.2)
    second = deliverer.HostDelivererKeeper(outbox, wait=0.2)
    first.start()
    try:
        wait_until(lambda: first.child is not None and lock_is_held(outbox))
        second.start()
        time.sleep(1.0)
        assert second.child is None  # one deliverer per outbox
        first.stop()
        wait_until(lambda: second.child is not None and second.child.poll() is None)
        OutboxEmitter(outbox).emit(events(1)[0])
        wait_until(lambda: len(stored(store_url)) == 1, timeout=60)
    finally:
        first.stop()
        second.stop()


@pytest.mark.usefixtures("host_env")
def test_a_keepers_deliverer_exits_when_the_api_server_process_is_gone(outbox: Outbox) -> None:
    server = subprocess.Popen(  # stands for an API server killed with SIGKILL: no stop() runs
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from airflow_lineage_provider.emit.deliverer import HostDelivererKeeper\n"
            "from airflow_lineage_provider.emit.outbox import Outbox\n"
            "keeper = HostDelivererKeeper(Outbox(sys.argv[1]), wait=0.2)\nkeeper.start()\n"
            "while keeper.child is None: time.sleep(0.05)\n"
            "print(keeper.child.pid, flush=True)\ntime.sleep(600)\n",
            str(outbox.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    with server.stdout:
        child = int(server.stdout.readline())
    wait_until(lambda: lock_is_held(outbox))
    server.kill()
    server.wait()

    def gone() -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    wait_until(lambda: not lock_is_held(outbox) and gone(), timeout=30)
