"""The numbers of ``bench.mlmd``: a :class:`Side` per store, and the Markdown tables and JSON made of them."""

from __future__ import annotations

import os
import resource
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench import machine, queries


@dataclass
class Side:
    """One store's numbers: ingest as (events, seconds) by how it was written, timings by case."""

    name: str
    ingest: dict[str, tuple[int, float]] = field(default_factory=dict)
    queries: dict[str, queries.Timing] = field(default_factory=dict)
    rss_mib: float | None = None
    load: list[float] = field(default_factory=lambda: [os.getloadavg()[0]])  # 1-minute, at start and end

    def rate(self, how: str) -> float | None:
        if how not in self.ingest:
            return None
        events, seconds = self.ingest[how]
        return events / seconds if seconds else None


def _ratio(slow: float | None, fast: float | None) -> str:
    return f"{slow / fast:,.1f}x" if slow and fast else "-"


def _rate(side: Side, how: str) -> str:
    rate = side.rate(how)
    return f"{rate:,.0f}" if rate is not None else "-"


def _p(timing: queries.Timing | None) -> str:
    if timing is None:
        return "-"
    return f"{machine.percentile(timing.ms, 50):,.2f} / {machine.percentile(timing.ms, 95):,.2f}"


def _p50(timing: queries.Timing | None) -> float | None:
    return machine.percentile(timing.ms, 50) if timing else None


def _nodes(timing: queries.Timing | None) -> str:
    return f"{statistics.mean(timing.nodes):,.0f}" if timing else "-"


def tables(ours: Side, mlmd: list[Side], batch: int, one: int, store: str | None) -> str:
    """The Markdown tables: ingest, then one row per query case."""
    names = [s.name for s in mlmd]
    head = ["how", *names, "ours", *(f"ours / {n}" for n in names)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    hows = {"batched": f"batched ({batch} a batch)", "one": f"one at a time (first {one:,} events)"}
    for how, label in hows.items():
        cells = [label, *(_rate(s, how) for s in mlmd), _rate(ours, how)]
        cells += [_ratio(ours.rate(how), s.rate(how)) for s in mlmd]
        lines.append("| " + " | ".join(cells) + " |")
    if "batched" not in ours.ingest:
        lines.append(f"\nours batched: not measured in this run (--store {store} was loaded earlier)")
    head = ["case", *(f"{n} p50 / p95 ms" for n in names), "ours p50 / p95 ms"]
    head += [f"{n} / ours (p50)" for n in names] + [f"nodes {n}" for n in names] + ["nodes ours", "queries"]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, timing in ours.queries.items():
        found = [s.queries.get(case) for s in mlmd]
        cells = [case, *(_p(t) for t in found), _p(timing)]
        cells += [_ratio(_p50(t), _p50(timing)) for t in found]
        cells += [*(_nodes(t) for t in found), _nodes(timing)]
        cells.append(" / ".join(str(len(t.ms)) if t else "-" for t in [*found, timing]))
        lines.append("| " + " | ".join(cells) + " |")
    rss = ", ".join(f"{s.name} {s.rss_mib:,.0f} MiB" for s in mlmd if s.rss_mib is not None)
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"peak RSS: ML Metadata worker {rss or '-'}; this process (ours) {ours_rss:,.0f} MiB"]
    loads = "; ".join(f"{s.name} {s.load[0]:.2f} -> {s.load[-1]:.2f}" for s in [ours, *mlmd])
    lines.append(f"load average (1 min) when each side started -> ended: {loads}")
    return "\n".join(lines)


def report(sides: list[Side]) -> dict[str, Any]:
    """The numbers as JSON (``--json``)."""
    return {
        s.name: {
            "ingest": {how: {"events": e, "seconds": t} for how, (e, t) in s.ingest.items()},
            "queries": {
                case: {
                    "n": len(t.ms),
                    "p50_ms": machine.percentile(t.ms, 50),
                    "p95_ms": machine.percentile(t.ms, 95),
                    "nodes": t.nodes,
                }
                for case, t in s.queries.items()
            },
            "rss_mib": s.rss_mib,
            "load": s.load,
        }
        for s in sides
    }
