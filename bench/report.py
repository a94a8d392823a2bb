"""What ``bench.capture --executor local|celery`` prints: every mode's figures, the added cost
against ``off`` and the Markdown table for docs/benchmarks.md."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from bench import figures, hooktimes, workloadlog

TASKS = 20
DELIVERY_TIMEOUT = 60.0


@dataclass
class Result:
    """What one mode measured (seconds)."""

    label: str
    workloads: list[float] = field(default_factory=list)
    workload_keys: list[str] = field(default_factory=list)  # the task attempt of each workload
    run_walls: list[float] = field(default_factory=list)
    hooks: hooktimes.HookTimes = field(default_factory=hooktimes.HookTimes)
    dag_hooks: hooktimes.HookTimes = field(default_factory=hooktimes.HookTimes)
    delivery: list[float] = field(default_factory=list)
    undelivered: int = 0
    check: str = ""
    ok: bool = False
    error: str | None = None


OURS = ("ours", "paired")  # the modes with this provider on


def _provider(mode: str) -> str | None:
    return "ours" if mode in OURS else "official" if mode.startswith("official") else None


def row(result: Result, mode: str) -> figures.Row:
    """One mode's row (a paired mode's: its task processes that ran with our listener)."""
    if mode == "paired":
        return paired_rows(result)[1]
    return _row(result, result.label, mode, result.workloads, result.hooks.task_cpu)


def paired_rows(result: Result) -> tuple[figures.Row, figures.Row]:
    """A paired mode's two halves, run in the same deployment at the same time: without our listener
    (the baseline) and with it."""
    alone, captured = _halves(result)
    return (
        _row(result, f"{result.label}: off", "off", alone, result.hooks.task_cpu_uncaptured),
        _row(result, f"{result.label}: ours", "paired", captured, result.hooks.task_cpu),
    )


def _halves(result: Result) -> tuple[list[float], list[float]]:
    """A paired mode's workload durations: without our listener, with it."""
    uncaptured = result.hooks.uncaptured
    halves: tuple[list[float], list[float]] = ([], [])
    for duration, key in zip(result.workloads, result.workload_keys, strict=True):
        halves[key not in uncaptured].append(duration)
    return halves


def paired_walls(result: Result) -> tuple[list[float], list[float]]:
    """The same, less the late exit notice."""
    alone, captured = _halves(result)
    less = workloadlog.less_exit_notice_wait
    return [less(d)[0] for d in alone], [less(d)[0] for d in captured]


def _row(result: Result, label: str, mode: str, workloads: list[float], cpu: list[float]) -> figures.Row:
    p50, p99 = figures.summary(workloads)
    adjusted = [workloadlog.less_exit_notice_wait(d) for d in workloads]
    adj_p50, adj_p99 = figures.summary([d for d, _ in adjusted])
    provider = _provider(mode)
    listener = result.hooks.per_task.get(provider or "", [])
    listener_cpu = result.hooks.per_task_cpu.get(provider or "", [])
    delivery = result.delivery if provider == "ours" else []  # a paired mode's "off" half delivered nothing
    dag = [s for v in result.dag_hooks.by_event.get(provider or "", {}).values() for s in v]
    return figures.Row(
        mode=label,
        tasks=len(workloads),
        p50=p50,
        p99=p99,
        late=sum(1 for _, late in adjusted if late),
        adj_p50=adj_p50,
        adj_p99=adj_p99,
        listener_p50=figures.percentile(listener, 50),
        listener_p99=figures.percentile(listener, 99),
        listener_cpu_p50=figures.percentile(listener_cpu, 50),
        listener_cpu_p99=figures.percentile(listener_cpu, 99),
        delivery_p50=figures.percentile(delivery, 50),
        delivery_p95=figures.percentile(delivery, 95),
        delivery_max=max(delivery) if delivery else math.nan,
        dag_hook_p50=figures.percentile(dag, 50),
        dag_hook_max=max(dag) if dag else math.nan,
        cpu_p50=figures.percentile(cpu, 50),
        cpu_p99=figures.percentile(cpu, 99),
        check="OK" if result.ok else "FAILED",
    )


def report(executor: str, runs: int, warmup: int, results: list[tuple[Result, str]]) -> None:
    """Print every figure of every mode, the added cost against ``off`` and the Markdown table."""
    rows = []
    paired: list[tuple[figures.Row, figures.Row]] = []
    for result, mode in results:
        if result.error:
            print(f"{executor} {result.label}: FAILED: {result.error[:3000]}", flush=True)
            continue
        current = row(result, mode)
        rows.append(current)
        wall = statistics.median(result.run_walls) * 1000 if result.run_walls else math.nan
        print(
            f"{executor} {result.label:16s} runs={runs} workload (fork to exit) p50 "
            f"{figures.ms(current.p50)} ms p99 {figures.ms(current.p99)} ms (n={current.tasks}); "
            f"DAG run wall time / {TASKS} p50 {wall:.0f} ms",
            flush=True,
        )
        print(
            f"  of which the supervisor noticed the exit {workloadlog.EXIT_NOTICE_INTERVAL:.0f} s late "
            f"(Airflow's race, see bench/workloadlog.py): {current.late} of {current.tasks}; without that "
            f"wait p50 {figures.ms(current.adj_p50)} ms p99 {figures.ms(current.adj_p99)} ms"
        )
        for provider, by_event in sorted(result.hooks.by_event.items()):
            per_task = result.hooks.per_task.get(provider, [])
            per_task_cpu = result.hooks.per_task_cpu.get(provider, [])
            events = ", ".join(
                f"{kind} p50 {figures.ms(figures.percentile(v, 50), 2)} ms"
                for kind, v in sorted(by_event.items())
            )
            print(
                f"  listener hooks inside task processes ({provider}): per task (start + end) p50 "
                f"{figures.ms(figures.percentile(per_task, 50), 2)} ms, p99 "
                f"{figures.ms(figures.percentile(per_task, 99), 2)} ms, max "
                f"{figures.ms(max(per_task, default=math.nan), 2)} ms over {len(per_task)} tasks; {events}; "
                f"CPU the process used meanwhile p50 {figures.ms(figures.percentile(per_task_cpu, 50), 2)} "
                f"ms, p99 {figures.ms(figures.percentile(per_task_cpu, 99), 2)} ms"
            )
        for provider, by_event in sorted(result.dag_hooks.by_event.items()):
            events = ", ".join(
                f"{kind} n={len(v)} p50 {figures.ms(figures.percentile(v, 50), 2)} ms "
                f"max {figures.ms(max(v), 2)} ms"
                for kind, v in sorted(by_event.items())
            )
            print(f"  scheduler DAG-run hooks ({provider}), per event, warm-up runs included: {events}")
        if mode in OURS:
            print(
                f"  delivery, task end (TI end_date) to its COMPLETE in the store's raw table: p50 "
                f"{figures.ms(current.delivery_p50, 0)} ms, p95 {figures.ms(current.delivery_p95, 0)} ms, "
                f"max {figures.ms(current.delivery_max, 0)} ms over {len(result.delivery)} tasks; "
                f"not seen within {DELIVERY_TIMEOUT:.0f} s: {result.undelivered}"
            )
        cpu = result.hooks.task_cpu
        print(
            f"  CPU time of each task process (fork to its last listener call): p50 "
            f"{figures.ms(current.cpu_p50)} ms, p99 {figures.ms(current.cpu_p99)} ms over {len(cpu)} tasks"
        )
        if mode == "paired":
            off, ours = paired_rows(result)
            cpu_low, cpu_high = figures.median_difference_interval(
                result.hooks.task_cpu, result.hooks.task_cpu_uncaptured
            )
            walls = paired_walls(result)
            wall_low, wall_high = figures.median_difference_interval(walls[1], walls[0])
            print(
                f"  paired, in the same deployment at the same time: {off.tasks} task processes without our "
                f"listener, {ours.tasks} with it; added by capture: workload less the late exit notice "
                f"{_added(ours.adj_p50, ours.adj_p99, off.adj_p50, off.adj_p99)} (p50's 90% bootstrap "
                f"interval {figures.signed_ms(wall_low)} to {figures.signed_ms(wall_high)} ms); task process "
                f"CPU {_added(ours.cpu_p50, ours.cpu_p99, off.cpu_p50, off.cpu_p99)} (interval "
                f"{figures.signed_ms(cpu_low)} to {figures.signed_ms(cpu_high)} ms)"
            )
            paired.append((off, ours))
        print(f"  {result.check}", flush=True)
    base = next((r for r in rows if r.mode == "off"), None)
    if base is not None:
        for current in rows:
            if current is base:
                continue
            raw = _added(current.p50, current.p99, base.p50, base.p99)
            adjusted = _added(current.adj_p50, current.adj_p99, base.adj_p50, base.adj_p99)
            cpu_added = _added(current.cpu_p50, current.cpu_p99, base.cpu_p50, base.cpu_p99)
            print(
                f"{executor} added per task vs off, {current.mode}: {raw}; without the late exit notice: "
                f"{adjusted}; task process CPU: {cpu_added}"
            )
    modes = [r for r in rows if not r.mode.startswith("paired")]
    print(
        f"\nMarkdown ({executor} executor, {runs} measured DAG run(s) of {TASKS} tasks per mode, after "
        f"{warmup} warm-up run(s)):\n"
    )
    if modes:
        print(figures.table(modes, baseline="off"), flush=True)
    for off, ours in paired:
        print(f"\nMarkdown, {ours.mode.split(':')[0]} (each half against the other, same deployment):\n")
        print(figures.table([off, ours], baseline=off.mode), flush=True)


def _added(p50: float, p99: float, base50: float, base99: float) -> str:
    return (
        f"p50 {figures.signed_ms(p50 - base50)} ms ({figures.ratio(p50, base50)}), "
        f"p99 {figures.signed_ms(p99 - base99)} ms ({figures.ratio(p99, base99)})"
    )
