"""bench.capture's parsing and figures, and its runs on a tiny size (no timing is asserted)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench import delivery, figures, hooktimes, report, workloadlog

REPO = Path(__file__).resolve().parent.parent.parent

CONSOLE = (
    "2026-12-04T18:26:44.668215Z [info     ] Workload finished              [supervisor] "
    "duration=2.5356732029999876 exit_code=0 final_state=success loc=supervisor.py:2658 "
    "workload_id=01a2424e-f92b-7a3f-8fe4-c99e9cb9a9a3 workload_type=ExecuteTask"
)


def test_a_console_workload_finished_line_gives_its_id_duration_state_and_time() -> None:
    workload = workloadlog.parse_line(CONSOLE)

    assert workload == workloadlog.Workload(
        workload_id="01a2424e-f92b-7a3f-8fe4-c99e9cb9a9a3",
        duration=2.5356732029999876,
        exit_code=0,
        final_state="success",
        logged_at=datetime(2026, 12, 4, 18, 26, 44, 668215, tzinfo=timezone.utc),
    )


def test_a_coloured_line_parses_as_the_plain_one() -> None:
    coloured = CONSOLE.replace("[info     ]", "\x1b[32m[info     ]\x1b[0m").replace(
        "duration=", "\x1b[36mduration\x1b[0m="
    )

    assert workloadlog.parse_line(coloured) == workloadlog.parse_line(CONSOLE)


def test_a_json_workload_finished_line_parses_too() -> None:
    line = json.dumps(
        {
            "event": "Workload finished",
            "timestamp": "2026-12-04T18:26:44.668215Z",
            "duration": 0.25,
            "exit_code": 1,
            "final_state": "failed",
            "workload_id": "01a2424e-0000-7a3f-8fe4-c99e9cb9a9a3",
            "workload_type": "ExecuteTask",
        }
    )

    workload = workloadlog.parse_line(line)

    assert workload is not None
    assert (workload.duration, workload.exit_code, workload.final_state) == (0.25, 1, "failed")


def test_other_lines_and_other_workload_types_are_not_workloads() -> None:
    assert workloadlog.parse_line("2026-12-04T18:26:44Z [info     ] Secrets backends loaded") is None
    assert workloadlog.parse_line(CONSOLE.replace("ExecuteTask", "ExecuteCallback")) is None
    assert workloadlog.parse_line("Workload finished but no fields") is None


def test_a_log_gives_each_workload_once_in_order() -> None:
    second = CONSOLE.replace("c99e9cb9a9a3", "c99e9cb9a9a4").replace("duration=2.53", "duration=0.08")
    lines = ["noise", CONSOLE, second, CONSOLE]

    assert [w.workload_id[-4:] for w in workloadlog.parse(lines)] == ["a9a3", "a9a4"]


def test_a_late_exit_notice_is_taken_off_once_and_counted() -> None:
    assert workloadlog.less_exit_notice_wait(5.1) == pytest.approx((0.1, True))
    assert workloadlog.less_exit_notice_wait(8.9) == pytest.approx((3.9, True))
    assert workloadlog.less_exit_notice_wait(0.08) == (0.08, False)


def test_percentiles_interpolate_between_ranks_and_are_nan_for_nothing() -> None:
    values = [float(v) for v in range(1, 101)]

    assert figures.percentile(values, 50) == pytest.approx(50.5)
    assert figures.percentile(values, 99) == pytest.approx(99.01)
    assert figures.percentile([3.0], 99) == 3.0
    assert figures.percentile([2.0, 1.0], 0) == 1.0
    assert math.isnan(figures.percentile([], 50))


def test_the_table_compares_each_mode_with_off_and_leaves_unmeasured_cells_empty() -> None:
    rows = [
        figures.Row(
            "off", 20, 0.100, 0.200, late=1, adj_p50=0.100, adj_p99=0.150, cpu_p50=0.05, cpu_p99=0.06
        ),
        figures.Row(
            "ours",
            20,
            0.150,
            0.400,
            adj_p50=0.150,
            adj_p99=0.400,
            listener_p50=0.02,
            listener_p99=0.03,
            listener_cpu_p50=0.004,
            listener_cpu_p99=0.006,
            cpu_p50=0.053,
            cpu_p99=0.07,
        ),
    ]

    table = figures.table(rows, baseline="off").splitlines()

    assert len(table) == 4 and table[1].count("---") == table[0].count(" |")
    assert table[2].startswith("| off | 20 | 100.0 / 200.0 | 0 / 0 | 1.00x / 1.00x | 1 of 20 |")
    ours = table[3]
    assert "| +50.0 / +200.0 | 1.50x / 2.00x | 0 of 20 |" in ours
    assert "| 20.0 / 30.0 | 4.0 / 6.0 | - | - | 53.0 / 70.0 | +3.0 / +10.0 |" in ours
    assert table[2].endswith("| 50.0 / 60.0 | 0 / 0 |")


def test_hook_times_add_up_per_task_attempt_and_split_by_event(tmp_path: Path) -> None:
    class TI:
        run_id, task_id, try_number = "manual__2026-01-01T00:00:00+00:00", "step_00", 1

    class DagRun:
        dag_id, run_id = "bench_capture", "manual__2026-01-01T00:00:00+00:00"

    tasks, dags = tmp_path / "hooks.txt", tmp_path / "dag-hooks.txt"
    hooktimes.appender(str(tasks))("ours", "on_task_instance_running", {"task_instance": TI()}, 0.010, 0.004)
    hooktimes.appender(str(tasks))("ours", "on_task_instance_success", {"task_instance": TI()}, 0.002, 0.001)
    hooktimes.appender(str(tasks))("official", "on_task_instance_running", {"task_instance": TI()}, 0.5)
    hooktimes.appender(str(tasks))("process", hooktimes.TASK_CPU, {"task_instance": TI()}, 0.07)
    hooktimes.appender(str(dags))("ours", "on_dag_run_running", {"dag_run": DagRun(), "msg": "x"}, 0.001)

    times, dag_times = hooktimes.read(tasks), hooktimes.read(dags)

    assert times.per_task == {"ours": [pytest.approx(0.012)], "official": [0.5]}
    assert times.per_task_cpu == {"ours": [pytest.approx(0.005)], "official": [0.0]}
    assert times.task_cpu == [0.07] and hooktimes.read(tasks, runs={"warm-up"}).task_cpu == []
    assert times.by_event["ours"] == {"START": [0.010], "COMPLETE": [0.002]}
    assert dag_times.by_event == {"ours": {"START": [0.001]}} and dag_times.per_task == {}
    assert tasks.read_text().splitlines()[0] == (
        "ours on_task_instance_running manual__2026-01-01T00:00:00+00:00/step_00/1 0.010000 0.004000"
    )
    assert hooktimes.read(tmp_path / "absent.txt").per_task == {}


def test_a_paired_run_splits_its_task_processes_into_the_two_halves(tmp_path: Path) -> None:
    """The paired mode's halves (with and without our listener, one deployment) each get their own
    workloads and CPU, and the half with it is compared with the other."""

    def ti(task: str) -> object:
        return type("TI", (), {"run_id": "manual__1", "task_id": task, "try_number": 1})()

    hooks = tmp_path / "hooks.txt"
    record = hooktimes.appender(str(hooks))
    record("process", hooktimes.TASK_CPU, {"task_instance": ti("a")}, 0.075, 0.0)
    record("process", hooktimes.TASK_CPU_UNCAPTURED, {"task_instance": ti("b")}, 0.070, 0.0)
    record("process", hooktimes.TASK_CPU_UNCAPTURED, {"task_instance": ti("c")}, 0.072, 0.0)
    result = report.Result("paired", workloads=[0.300, 0.200, 0.210], delivery=[0.25])
    result.workload_keys = ["manual__1/a/1", "manual__1/b/1", "manual__1/c/1"]
    result.hooks = hooktimes.read(hooks, runs={"manual__1"})

    off, ours = report.paired_rows(result)

    assert (off.mode, off.tasks, ours.mode, ours.tasks) == ("paired: off", 2, "paired: ours", 1)
    assert off.p50 == pytest.approx(0.205) and ours.p50 == pytest.approx(0.300)
    assert off.cpu_p50 == pytest.approx(0.071) and ours.cpu_p50 == pytest.approx(0.075)
    assert "| +4.0 / +3.0 |" in figures.table([off, ours], baseline=off.mode).splitlines()[3]
    assert report.row(result, "paired") == ours
    assert math.isnan(off.delivery_p50) and ours.delivery_p50 == pytest.approx(0.25)  # only ours delivered
    assert report.paired_walls(result) == ([0.200, 0.210], [0.300])
    low, high = figures.median_difference_interval([0.075, 0.076, 0.074], [0.070, 0.071, 0.072])
    assert 0.002 <= low <= 0.004 <= high <= 0.006


def test_timing_wraps_only_the_measured_providers_listeners_and_keeps_their_answers() -> None:
    import pluggy

    hookspec, hookimpl = pluggy.HookspecMarker("airflow"), pluggy.HookimplMarker("airflow")

    class Spec:
        @hookspec
        def on_task_instance_running(self, previous_state: object, task_instance: object) -> None: ...

    class Theirs:
        @hookimpl
        def on_task_instance_running(self, previous_state: object, task_instance: object) -> str:
            return "theirs"

    class Manager:
        pm = pluggy.PluginManager("airflow")

    Manager.pm.add_hookspecs(Spec)
    ours = type("Ours", (Theirs,), {"__module__": "airflow_lineage_provider.capture.listener"})
    Manager.pm.register(ours())
    Manager.pm.register(Theirs())
    calls: list[tuple[str, str, dict[str, object]]] = []

    def record(provider: str, hook: str, arguments: dict[str, object], seconds: float, cpu: float) -> None:
        calls.append((provider, hook, arguments))

    assert hooktimes.wrap(Manager(), ["on_task_instance_running", "on_absent"], record) == 1
    assert hooktimes.wrap(Manager(), ["on_task_instance_running"], record) == 0  # once only

    answers = Manager.pm.hook.on_task_instance_running(previous_state="queued", task_instance="ti")

    assert answers == ["theirs", "theirs"]
    assert calls == [
        ("ours", "on_task_instance_running", {"previous_state": "queued", "task_instance": "ti"})
    ]


def test_delivery_keys_a_task_event_by_its_attempt_and_measures_from_the_task_end() -> None:
    payload = {"run": {"facets": {"airflowLineage_task": {"run_id": "r", "task_id": "t", "try_number": 1}}}}
    assert delivery.attempt_key("d.t", json.dumps(payload)) == "r/t/1"
    assert delivery.attempt_key("d", {"run": {"facets": {}}}) is None

    end = datetime(2026, 1, 1, tzinfo=timezone.utc)
    found, missing = delivery.latencies(
        {"r/t/1": end + timedelta(seconds=0.25)}, {"r/t/1": end, "r/u/1": end}
    )

    assert found == [0.25] and missing == ["r/u/1"]


def test_the_poller_reads_the_raw_table_without_creating_the_store(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "lineage.db"
    poller = delivery.Poller(f"sqlite:///{path}")
    poller.poll()
    assert not path.exists() and poller.errors  # a store not there yet is only noted

    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE lineage_events (id INTEGER PRIMARY KEY, event_type TEXT, job_name TEXT, payload TEXT)"
    )
    task = {"run": {"facets": {"airflowLineage_task": {"run_id": "r", "task_id": "t", "try_number": 1}}}}
    db.execute("INSERT INTO lineage_events VALUES (1, 'COMPLETE', 'd.t', ?)", [json.dumps(task)])
    db.execute("INSERT INTO lineage_events VALUES (2, 'START', 'd.t', ?)", [json.dumps(task)])
    db.execute("INSERT INTO lineage_events VALUES (3, 'COMPLETE', 'd', ?)", [json.dumps({"run": {}})])
    db.commit()
    db.close()
    poller.poll()
    poller.poll()

    assert set(poller.seen) == {"r/t/1"} and poller.dag_events == 1


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("machine: ")
    return done.stdout


@pytest.mark.integration
def test_capture_in_dag_test_prints_the_added_time_per_task(tmp_path: Path) -> None:
    out = _run("bench.capture", "--runs", "1", "--home", str(tmp_path))
    assert "added per task" in out and "in the listener per task" in out and "everything else" in out


@pytest.mark.integration
@pytest.mark.timeout(1500)
def test_capture_under_real_task_processes_prints_numbers_for_off_and_ours(tmp_path: Path) -> None:
    out = _run(
        "bench.capture",
        "--executor",
        "local",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--modes",
        "off,ours",
        "--home",
        str(tmp_path),
    )

    number = r"-?\d+\.\d"
    assert re.search(
        rf"local off +runs=1 workload \(fork to exit\) p50 {number} ms p99 {number} ms \(n=20\)", out
    )
    assert re.search(rf"local ours +runs=1 workload \(fork to exit\) p50 {number} ms", out)
    assert re.search(
        rf"listener hooks inside task processes \(ours\): per task \(start \+ end\) p50 {number}", out
    )
    assert re.search(rf"scheduler DAG-run hooks \(ours\), per event.*: .*p50 {number}", out)
    assert re.search(r"delivery, task end .* p50 -?\d+ ms, p95 -?\d+ ms, max -?\d+ ms over 20 tasks", out)
    assert out.count("check OK") == 2
    cpu = rf"CPU time of each task process \(fork to its last listener call\): p50 {number} ms, p99 {number}"
    assert len(re.findall(cpu + " ms over 20 tasks", out)) == 2  # off too: the timer runs in every mode
    assert re.search(rf"local added per task vs off, ours: p50 [+-]{number} ms", out)
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == ["| off", "| ours"]
    assert out.rstrip().splitlines()[-1].startswith("machine: ")
