"""Seeded, deterministic lineage workloads: layered dataset-job graphs as OpenLineage RunEvents.

Shape: source datasets feed ``LAYERS`` layers of jobs; a job reads 1-5 datasets (mostly from the
layer just before it, sometimes from any earlier one, and with probability ``HUB_P`` one of a few
*hub* source datasets read by hundreds of jobs) and writes 1-2 datasets of its own. Every job runs
``runs`` times; each run is a START and a COMPLETE event (inputs on both, outputs with a schema facet
on COMPLETE), in event-time order. The same seed gives the same events, byte for byte.

``python -m bench.workload small --out FILE.jsonl`` writes a workload as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

PRODUCER = "https://github.com/airflow-lineage-provider/airflow-lineage-provider/bench"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
NAMESPACE = "postgres://warehouse:5432"
JOB_NAMESPACE = "bench"
LAYERS = 12
HUB_P = 0.1
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Size:
    name: str
    datasets: int
    jobs: int
    runs: int

    @property
    def events(self) -> int:
        return 2 * self.jobs * self.runs


SIZES = {
    s.name: s
    for s in (
        Size("tiny", 60, 25, 2),
        Size("small", 1_000, 500, 10),
        Size("medium", 20_000, 10_000, 10),
        Size("large", 200_000, 100_000, 5),
    )
}


@dataclass
class Graph:
    """The job graph of a workload: dataset indexes each job reads and writes."""

    size: Size
    inputs: list[list[int]] = field(default_factory=list)
    outputs: list[list[int]] = field(default_factory=list)
    layer: list[int] = field(default_factory=list)
    hubs: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)

    def sinks(self) -> list[int]:
        """Datasets written by a job and read by none (the leaves of upstream queries)."""
        read = {d for ins in self.inputs for d in ins}
        return sorted({d for outs in self.outputs for d in outs} - read)

    def leaf_sources(self) -> list[int]:
        """Source datasets that are not hubs (the leaves of downstream queries)."""
        hubs = set(self.hubs)
        read = {d for ins in self.inputs for d in ins}
        return [d for d in self.sources if d not in hubs and d in read]


def dataset_name(index: int) -> str:
    return f"analytics.schema_{index % 50:02d}.table_{index:06d}"


def job_name(index: int) -> str:
    return f"dag_{index // 20:05d}.task_{index % 20:02d}"


def dataset_id(index: int) -> str:
    return f"dataset:{NAMESPACE}:{dataset_name(index)}"


def build_graph(size: Size, seed: int = 7) -> Graph:
    """The job graph: deterministic for (size, seed)."""
    rng = random.Random(seed)
    graph = Graph(size)
    n_outputs = [rng.randint(1, 2) for _ in range(size.jobs)]
    while sum(n_outputs) > size.datasets - max(3, size.datasets // 4):  # keep a quarter as sources
        n_outputs[rng.randrange(size.jobs)] = 1
    produced = sum(n_outputs)
    graph.sources = list(range(size.datasets - produced))
    graph.hubs = graph.sources[: max(3, size.jobs // 5_000)]
    per_layer = max(1, size.jobs // LAYERS)
    by_layer: list[list[int]] = [list(graph.sources)]
    next_dataset = len(graph.sources)
    for job in range(size.jobs):
        layer = min(LAYERS, 1 + job // per_layer)
        while len(by_layer) <= layer:
            by_layer.append([])
        previous = by_layer[layer - 1] or by_layer[0]
        wanted = rng.randint(1, 5)
        ins: set[int] = set()
        while len(ins) < wanted:
            if rng.random() < 0.8:
                ins.add(rng.choice(previous))
            else:
                ins.add(rng.choice(by_layer[rng.randrange(layer)] or by_layer[0]))
        if rng.random() < HUB_P:
            ins.add(rng.choice(graph.hubs))
        outs = list(range(next_dataset, next_dataset + n_outputs[job]))
        next_dataset += len(outs)
        by_layer[layer].extend(outs)
        graph.inputs.append(sorted(ins))
        graph.outputs.append(outs)
        graph.layer.append(layer)
    return graph


def _dataset(index: int, with_schema: bool) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if with_schema:
        facets["schema"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
            "fields": [
                {"name": "id", "type": "BIGINT"},
                {"name": f"value_{index % 7}", "type": "DOUBLE"},
                {"name": "updated_at", "type": "TIMESTAMP"},
            ],
        }
    return {"namespace": NAMESPACE, "name": dataset_name(index), "facets": facets}


def _event(
    event_type: str, when: datetime, run_id: str, job: int, ins: list[int], outs: list[int]
) -> dict[str, Any]:
    complete = event_type == "COMPLETE"
    return {
        "eventType": event_type,
        "eventTime": when.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {
            "runId": run_id,
            "facets": {
                "nominalTime": {
                    "_producer": PRODUCER,
                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json",
                    "nominalStartTime": when.replace(minute=0, second=0, microsecond=0).isoformat(),
                }
            },
        },
        "job": {
            "namespace": JOB_NAMESPACE,
            "name": job_name(job),
            "facets": {
                "jobType": {
                    "_producer": PRODUCER,
                    "_schemaURL": "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json",
                    "processingType": "BATCH",
                    "integration": "AIRFLOW",
                    "jobType": "TASK",
                }
            },
        },
        "inputs": [_dataset(d, False) for d in ins],
        "outputs": [_dataset(d, complete) for d in outs] if complete else [],
    }


def events(graph: Graph, seed: int = 7) -> Iterator[dict[str, Any]]:
    """START and COMPLETE of every run, in event-time order (runs of one round per day)."""
    rng = random.Random(seed + 1)
    size = graph.size
    step = timedelta(seconds=max(1.0, 80_000 / max(1, size.jobs)))
    for round_ in range(size.runs):
        day = T0 + timedelta(days=round_)
        for job in range(size.jobs):
            start = day + step * job
            run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            ins, outs = graph.inputs[job], graph.outputs[job]
            yield _event("START", start, run_id, job, ins, outs)
            yield _event("COMPLETE", start + step / 2, run_id, job, ins, outs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-")
    args = parser.parse_args(argv)
    graph = build_graph(SIZES[args.size], args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for event in events(graph, args.seed):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
