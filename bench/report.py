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
    run_walls: list[float] = field(default_factory=list)
    hooks: hooktimes.HookTimes = field(default_factory=hooktimes.HookTimes)
    dag_hooks: hooktimes.HookTimes = field(default_factory=hooktimes.HookTimes)
    delivery: list[float] = field(default_factory=list)
    undelivered: int = 0
    check: str = ""
    ok: bool = False
    error: str | None = None


def _provider(mode: str) -> str | None:
    return "ours" if mode == "ours" else "official" if mode.startswith("official") else None


def row(result: Result, mode: str) -> figures.Row:
    p50, p99 = figures.summary(result.workloads)
    adjusted = [workloadlog.less_exit_notice_wait(d) for d in result.workloads]
    adj_p50, adj_p99 = figures.summary([d for d, _ in adjusted])
    provider = _provider(mode)
    listener = result.hooks.per_task.get(provider or "", [])
    dag = [s for v in result.dag_hooks.by_event.get(provider or "", {}).values() for s in v]
    return figures.Row(
        mode=result.label,
        tasks=len(result.workloads),
        p50=p50,
        p99=p99,
        late=sum(1 for _, late in adjusted if late),
        adj_p50=adj_p50,
        adj_p99=adj_p99,
        listener_p50=figures.percentile(listener, 50),
        listener_p99=figures.percentile(listener, 99),
        delivery_p50=figures.percentile(result.delivery, 50),
        delivery_p95=figures.percentile(result.delivery, 95),
        delivery_max=max(result.delivery) if result.delivery else math.nan,
        dag_hook_p50=figures.percentile(dag, 50),
        dag_hook_max=max(dag) if dag else math.nan,
        cpu_p50=figures.percentile(result.hooks.task_cpu, 50),
        cpu_p99=figures.percentile(result.hooks.task_cpu, 99),
        check="OK" if result.ok else "FAILED",
    )


def report(executor: str, runs: int, warmup: int, results: list[tuple[Result, str]]) -> None:
    """Print every figure of every mode, the added cost against ``off`` and the Markdown table."""
    rows = []
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
            events = ", ".join(
                f"{kind} p50 {figures.ms(figures.percentile(v, 50), 2)} ms"
                for kind, v in sorted(by_event.items())
            )
            print(
                f"  listener hooks inside task processes ({provider}): per task (start + end) p50 "
                f"{figures.ms(figures.percentile(per_task, 50), 2)} ms, p99 "
                f"{figures.ms(figures.percentile(per_task, 99), 2)} ms, max "
                f"{figures.ms(max(per_task, default=math.nan), 2)} ms over {len(per_task)} tasks; {events}"
            )
        for provider, by_event in sorted(result.dag_hooks.by_event.items()):
            events = ", ".join(
                f"{kind} n={len(v)} p50 {figures.ms(figures.percentile(v, 50), 2)} ms "
                f"max {figures.ms(max(v), 2)} ms"
                for kind, v in sorted(by_event.items())
            )
            print(f"  scheduler DAG-run hooks ({provider}), per event, warm-up runs included: {events}")
        if mode == "ours":
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
        print(f"  {result.check}", flush=True)
    base = next((r for r in rows if r.mode == "off"), None)
    if base is not None:
        for current in rows:
            if current is base:
                continue
            raw = _added(current.p50, current.p99, base.p50, base.p99)
            adjusted = _added(current.adj_p50, current.adj_p99, base.adj_p50, base.adj_p99)
            cpu = _added(current.cpu_p50, current.cpu_p99, base.cpu_p50, base.cpu_p99)
            print(
                f"{executor} added per task vs off, {current.mode}: {raw}; without the late exit notice: "
                f"{adjusted}; task process CPU: {cpu}"
            )
    print(
        f"\nMarkdown ({executor} executor, {runs} measured DAG run(s) of {TASKS} tasks per mode, after "
        f"{warmup} warm-up run(s)):\n"
    )
    print(figures.table(rows, baseline="off"), flush=True)


def _added(p50: float, p99: float, base50: float, base99: float) -> str:
    return (
        f"p50 {figures.signed_ms(p50 - base50)} ms ({figures.ratio(p50, base50)}), "
        f"p99 {figures.signed_ms(p99 - base99)} ms ({figures.ratio(p99, base99)})"
    )
