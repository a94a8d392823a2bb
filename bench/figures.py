"""Percentiles, the per-mode summary lines and the Markdown table of ``bench.capture``."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation between closest ranks (numpy's default);
    NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median_difference_interval(
    values: Sequence[float], base: Sequence[float], confidence: float = 0.9, resamples: int = 2000
) -> tuple[float, float]:
    """A bootstrap interval of ``median(values) - median(base)`` (two independent samples, seeded so
    a report reads the same twice): how far the measured difference may be from the true one."""
    if not values or not base:
        return math.nan, math.nan
    draw = random.Random(7)
    differences = sorted(
        statistics.median(draw.choices(values, k=len(values)))
        - statistics.median(draw.choices(base, k=len(base)))
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2 * 100
    return percentile(differences, tail), percentile(differences, 100 - tail)


def ms(seconds: float, digits: int = 1) -> str:
    """Seconds shown as milliseconds (``-`` when not measured)."""
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.{digits}f}"


def signed_ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:+.1f}"


def ratio(value: float, base: float) -> str:
    return "-" if math.isnan(value) or math.isnan(base) or base <= 0 else f"{value / base:.2f}x"


@dataclass(frozen=True)
class Row:
    """One mode's figures, in seconds (NaN where the mode does not have them)."""

    mode: str
    tasks: int
    p50: float
    p99: float
    late: int = 0  # workloads whose exit the supervisor noticed one heartbeat interval late
    adj_p50: float = math.nan  # without that wait
    adj_p99: float = math.nan
    listener_p50: float = math.nan
    listener_p99: float = math.nan
    listener_cpu_p50: float = math.nan  # CPU the process used during the hooks
    listener_cpu_p99: float = math.nan
    delivery_p50: float = math.nan
    delivery_p95: float = math.nan
    delivery_max: float = math.nan
    dag_hook_p50: float = math.nan
    dag_hook_max: float = math.nan
    cpu_p50: float = math.nan  # CPU time of the task process, fork to its last listener call
    cpu_p99: float = math.nan
    check: str = ""


def summary(durations: Sequence[float]) -> tuple[float, float]:
    return percentile(durations, 50), percentile(durations, 99)


HEADER = (
    "| mode | tasks | workload p50 / p99 ms | added p50 / p99 ms | ratio p50 / p99 | exit noticed 5 s late "
    "| less that wait: p50 / p99 ms | added p50 / p99 ms | ratio p50 / p99 "
    "| listener in task p50 / p99 ms | its CPU p50 / p99 ms | delivery p50 / p95 / max ms "
    "| scheduler DAG-run hook p50 / max ms "
    "| task process CPU p50 / p99 ms | added CPU p50 / p99 ms |"
)


def table(rows: Sequence[Row], baseline: str) -> str:
    """The Markdown table of docs/benchmarks.md: each mode against the ``baseline`` mode's row."""
    base = next((r for r in rows if r.mode == baseline), None)
    nan = math.nan
    lines = [HEADER, "|" + "---|" * HEADER.count(" |")]
    for row in rows:
        cells = [row.mode, str(row.tasks)]
        for p50, p99, b50, b99 in (
            (row.p50, row.p99, base.p50 if base else nan, base.p99 if base else nan),
            (row.adj_p50, row.adj_p99, base.adj_p50 if base else nan, base.adj_p99 if base else nan),
        ):
            cells.append(_pair(p50, p99))
            if row is base:
                cells += ["0 / 0", "1.00x / 1.00x"]
            else:
                cells.append(f"{signed_ms(p50 - b50)} / {signed_ms(p99 - b99)}")
                cells.append(f"{ratio(p50, b50)} / {ratio(p99, b99)}")
            if len(cells) == 5:
                cells.append(f"{row.late} of {row.tasks}")
        cells += [
            _pair(row.listener_p50, row.listener_p99),
            _pair(row.listener_cpu_p50, row.listener_cpu_p99),
            _pair(row.delivery_p50, row.delivery_p95, row.delivery_max, digits=0),
            _pair(row.dag_hook_p50, row.dag_hook_max, digits=2),
            _pair(row.cpu_p50, row.cpu_p99),
            "0 / 0"
            if row is base
            else f"{signed_ms(row.cpu_p50 - (base.cpu_p50 if base else nan))} / "
            f"{signed_ms(row.cpu_p99 - (base.cpu_p99 if base else nan))}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pair(*values: float, digits: int = 1) -> str:
    if all(math.isnan(v) for v in values):
        return "-"
    return " / ".join(ms(v, digits) for v in values)
