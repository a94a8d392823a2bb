"""``airflow-lineage status``, ``replay``, ``prune`` and ``erase``, run as the console script."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.emit.outbox import Outbox
from tests.cli.shell import cli, stored_events
from tests.store.events import ds, new_run, run_event

DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/lineage"


def _outbox_with(tmp_path: Path, count: int) -> tuple[Outbox, list[dict]]:
    outbox = Outbox(tmp_path / "outbox")
    events = [run_event("COMPLETE", f"job{i}", new_run(), minute=i) for i in range(count)]
    for event in events:
        outbox.put(parse_event(event).key, event)
    return outbox, events


def test_status_shows_the_outbox_depth_and_the_oldest_pending_event(tmp_path: Path) -> None:
    outbox, _ = _outbox_with(tmp_path, 3)

    text = cli("status", "--outbox", str(outbox.path))
    data = cli("status", "--outbox", str(outbox.path), "--json")

    assert text.returncode == 0, text.stderr
    assert "pending:       3 (oldest queued " in text.stdout
    status = json.loads(data.stdout)
    assert status["pending"] == 3 and status["oldestPending"] and status["deadLetters"] == 0


def test_replay_delivers_everything_once_and_a_second_replay_finds_nothing(tmp_path: Path) -> None:
    outbox, events = _outbox_with(tmp_path, 4)
    url = f"sqlite:///{tmp_path / 'lineage.db'}"

    first = cli("replay", "--outbox", str(outbox.path), "--store-url", url)
    second = cli("replay", "--outbox", str(outbox.path), "--store-url", url, "--json")

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("replayed 4 events from ")
    assert json.loads(second.stdout)["delivered"] == 0
    assert sorted(e["run"]["runId"] for e in stored_events(url)) == sorted(e["run"]["runId"] for e in events)


def test_replay_to_an_unreachable_store_fails_and_keeps_every_event(tmp_path: Path) -> None:
    outbox, _ = _outbox_with(tmp_path, 2)

    result = cli("replay", "--outbox", str(outbox.path), "--store-url", DOWN)

    assert result.returncode == 1
    assert result.stderr.startswith("error: replay stopped with 2 events pending")
    assert outbox.status()[0] == 2


def test_prune_dry_run_lists_runs_and_a_bad_age_is_a_usage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = LineageStore.from_url(url)
    old, latest = new_run(), new_run()
    store.record(run_event("COMPLETE", "etl", old, minute=0, outputs=[ds("t")]))
    store.record(run_event("COMPLETE", "etl", latest, minute=1, outputs=[ds("t")]))
    store.close()

    dry = cli("prune", "--older-than", "90d", "--dry-run", "--store-url", url)
    bad = cli("prune", "--older-than", "ninety", "--store-url", url)
    unset = cli("prune", "--store-url", url)

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0].startswith("would remove 1 runs ended before ")
    assert f"  run:{old}" in dry.stdout and latest not in dry.stdout
    assert len(stored_events(url)) == 2
    assert bad.returncode == 2 and "is not a duration like 90d" in bad.stderr
    assert unset.returncode == 1 and "retention_days" in unset.stderr


def test_erase_reports_what_it_changed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = LineageStore.from_url(url)
    store.record(run_event("COMPLETE", "etl", new_run(), outputs=[ds("people", schema={"fields": []})]))
    store.close()

    result = cli("erase", "dataset:sqlite:///data/w.db:people", "--store-url", url, "--json")

    assert result.returncode == 0, result.stderr
    expected = {"node": "dataset:sqlite:///data/w.db:people", "versions": 1, "events": 1}
    assert json.loads(result.stdout) == expected


def test_replay_skips_a_damaged_outbox_file_with_a_message_and_delivers_the_rest(tmp_path: Path) -> None:
    outbox, events = _outbox_with(tmp_path, 3)
    damaged = outbox.files()[1]
    damaged.write_bytes(damaged.read_bytes()[:-25])  # cut short
    url = f"sqlite:///{tmp_path / 'lineage.db'}"

    result = cli("replay", "--outbox", str(outbox.path), "--store-url", url)

    assert result.returncode == 0, result.stderr
    assert f"outbox file {damaged.name} is damaged and was skipped" in result.stderr
    assert "2 events" in result.stdout and "1 damaged files skipped" in result.stdout
    assert len(stored_events(url)) == 2
    status = json.loads(cli("status", "--outbox", str(outbox.path), "--json").stdout)
    assert (status["pending"], status["corrupt"]) == (0, 1)
