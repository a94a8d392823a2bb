"""The ML Metadata side of ``bench.mlmd``: a workload loaded into ML Metadata on SQLite, its queries timed.

Runs inside ML Metadata's own virtualenv (its protobuf pins clash with Airflow's) and imports nothing
from this repository. ``bench/mlmd.py`` starts it as ``python bench/mlmd_worker.py SPEC.json``.

SPEC (JSON): ``workload`` (a file of OpenLineage RunEvents, one a line), ``mode`` (``per-run`` or
``per-job``), ``batch`` (events per batched write), ``one`` (the first N events are also written one
at a time, into a store of their own; 0 skips), ``budget`` (seconds per query case at most),
``directory`` (where the SQLite files go) and ``cases``: ``[{"name", "direction", "depth",
"starts": [artifact names]}]``.

Output, one JSON object a line on stdout (progress goes to stderr)::

    {"kind": "ingest", "how": "one" | "batched", "events": N, "seconds": S}
    {"kind": "query", "case": NAME, "ms": [...], "artifacts": [...], "executions": [...]}
    {"kind": "rss", "mib": PEAK}

Mapping: a dataset is an Artifact of type ``Dataset`` named ``namespace/name``; a job is a Context of
type ``Job`` (every execution of it associated, every artifact it reads or writes attributed); the
inputs and outputs are Events INPUT and OUTPUT. ``per-run`` makes one Execution per run (named by
its run id), as ML Metadata's users do; ``per-job`` one Execution per job, the same graph as ours.
An event already linked (a COMPLETE repeats its START's inputs; per-job, every run repeats the job's)
is not written twice. Executions carry the last state (RUNNING, COMPLETE); facets are not stored.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

STATES = {"START": pb.Execution.RUNNING, "RUNNING": pb.Execution.RUNNING, "COMPLETE": pb.Execution.COMPLETE}
DIRECTIONS = {
    "upstream": pb.LineageSubgraphQueryOptions.UPSTREAM,
    "downstream": pb.LineageSubgraphQueryOptions.DOWNSTREAM,
}
Edge = tuple[str, str, int]  # (execution key, artifact name, Event type)


def say(message: str) -> None:
    print(f"mlmd_worker: {message}", file=sys.stderr, flush=True)


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def peak_rss_mib() -> float:
    """This process's peak resident memory. Not ``getrusage``: its ``ru_maxrss`` keeps the parent's
    peak from before the fork, so a small worker would report the parent's size."""
    with open("/proc/self/status", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_store(path: str) -> metadata_store.MetadataStore:
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def read_events(path: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as stream:
        yield from (json.loads(line) for line in itertools.islice(stream, limit))


class Loader:
    """Writes OpenLineage events into one ML Metadata store, remembering the ids it was given."""

    def __init__(self, store: metadata_store.MetadataStore, per_job: bool) -> None:
        self.store, self.per_job = store, per_job
        self.dataset_type = store.put_artifact_type(pb.ArtifactType(name="Dataset"))
        self.run_type = store.put_execution_type(pb.ExecutionType(name="Job" if per_job else "Run"))
        self.job_type = store.put_context_type(pb.ContextType(name="Job"))
        self.artifacts: dict[str, int] = {}
        self.executions: dict[str, int] = {}
        self.contexts: dict[str, int] = {}
        self.edges: set[Edge] = set()
        self.linked: set[tuple[str, str]] = set()  # (job, artifact name) attributed
        self.associated: set[str] = set()  # execution keys associated with their job

    def _parse(self, event: dict[str, Any]) -> tuple[str, str, list[Edge]]:
        """(execution key, job name, the edges of this event not yet written)."""
        job = f"{event['job']['namespace']}/{event['job']['name']}"
        key = job if self.per_job else event["run"]["runId"]
        found = []
        for field, kind in (("inputs", pb.Event.INPUT), ("outputs", pb.Event.OUTPUT)):
            for dataset in event.get(field) or []:
                edge = (key, f"{dataset['namespace']}/{dataset['name']}", kind)
                if edge not in self.edges:
                    self.edges.add(edge)
                    found.append(edge)
        return key, job, found

    def _execution(self, key: str, state: str) -> pb.Execution:
        execution = pb.Execution(type_id=self.run_type, name=key, last_known_state=STATES[state])
        if key in self.executions:
            execution.id = self.executions[key]
        return execution

    def _artifact(self, name: str) -> pb.Artifact:
        artifact = pb.Artifact(type_id=self.dataset_type, name=name, uri=name, state=pb.Artifact.LIVE)
        if name in self.artifacts:
            artifact.id = self.artifacts[name]
        return artifact

    def put_one(self, event: dict[str, Any]) -> None:
        """One event, one ``put_execution`` call (its own transaction)."""
        key, job, edges = self._parse(event)
        context = pb.Context(type_id=self.job_type, name=job)
        if job in self.contexts:
            context.id = self.contexts[job]
        pairs = [(self._artifact(name), pb.Event(type=kind)) for _, name, kind in edges]
        execution_id, artifact_ids, context_ids = self.store.put_execution(
            self._execution(key, event["eventType"]), pairs, [context], reuse_context_if_already_exist=True
        )
        self.executions[key] = execution_id
        self.contexts[job] = context_ids[0]
        self.artifacts.update((name, id_) for (_, name, _), id_ in zip(edges, artifact_ids, strict=True))

    def put_batch(self, events: list[dict[str, Any]]) -> None:
        """A batch: new Job contexts, one ``put_lineage_subgraph``, then the batch's attributions."""
        executions: dict[str, pb.Execution] = {}
        artifacts: dict[str, pb.Artifact] = {}
        jobs: dict[str, str] = {}
        edges: list[Edge] = []
        for event in events:
            key, job, new = self._parse(event)
            executions[key] = self._execution(key, event["eventType"])
            jobs[key] = job
            edges += new
            for _, name, _ in new:
                artifacts.setdefault(name, self._artifact(name))
        fresh = sorted({job for job in jobs.values() if job not in self.contexts})
        if fresh:
            ids = self.store.put_contexts([pb.Context(type_id=self.job_type, name=job) for job in fresh])
            self.contexts.update(zip(fresh, ids, strict=True))
        keys, names = list(executions), list(artifacts)
        at_key = {key: i for i, key in enumerate(keys)}
        at_name = {name: i for i, name in enumerate(names)}
        execution_ids, artifact_ids, _ = self.store.put_lineage_subgraph(
            [executions[k] for k in keys],
            [artifacts[n] for n in names],
            [],
            [(at_key[k], at_name[n], pb.Event(type=kind)) for k, n, kind in edges],
        )
        self.executions.update(zip(keys, execution_ids, strict=True))
        self.artifacts.update(zip(names, artifact_ids, strict=True))
        self._attribute(jobs, edges)

    def _attribute(self, jobs: dict[str, str], edges: list[Edge]) -> None:
        attributions = []
        for key, name, _ in edges:
            if (jobs[key], name) not in self.linked:
                self.linked.add((jobs[key], name))
                attributions.append(
                    pb.Attribution(context_id=self.contexts[jobs[key]], artifact_id=self.artifacts[name])
                )
        associations = [
            pb.Association(context_id=self.contexts[job], execution_id=self.executions[key])
            for key, job in jobs.items()
            if key not in self.associated
        ]
        self.associated.update(jobs)
        if attributions or associations:
            self.store.put_attributions_and_associations(attributions, associations)


def ingest(loader: Loader, events: Iterator[dict[str, Any]], batch: int | None) -> tuple[int, float]:
    """(events written, seconds spent in ML Metadata); reading the file is not counted."""
    count, spent = 0, 0.0
    while chunk := list(itertools.islice(events, batch or 1000)):
        began = time.perf_counter()
        if batch:
            loader.put_batch(chunk)
        else:
            for event in chunk:
                loader.put_one(event)
        spent += time.perf_counter() - began
        count += len(chunk)
    return count, spent


def query(
    store: metadata_store.MetadataStore, artifact_id: int, direction: str, depth: int
) -> pb.LineageGraph:
    options = pb.LineageSubgraphQueryOptions(
        starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(filter_query=f"id = {artifact_id}"),
        max_num_hops=depth,
        direction=DIRECTIONS[direction],
    )
    return store.get_lineage_subgraph(options)


def run_case(loader: Loader, case: dict[str, Any], budget: float) -> dict[str, Any]:
    ids = [loader.artifacts[name] for name in case["starts"]]
    query(loader.store, ids[0], case["direction"], case["depth"])  # warm the caches, as ours is
    record: dict[str, Any] = {
        "kind": "query",
        "case": case["name"],
        "ms": [],
        "artifacts": [],
        "executions": [],
    }
    spent = 0.0
    for artifact_id in ids:
        began = time.perf_counter()
        graph = query(loader.store, artifact_id, case["direction"], case["depth"])
        took = time.perf_counter() - began
        record["ms"].append(took * 1000)
        record["artifacts"].append(len(graph.artifacts))
        record["executions"].append(len(graph.executions))
        spent += took
        if spent > budget:
            break
    return record


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as stream:
        spec = json.load(stream)
    per_job = spec["mode"] == "per-job"
    if spec["one"]:
        one = Loader(open_store(os.path.join(spec["directory"], "one.sqlite")), per_job)
        count, spent = ingest(one, read_events(spec["workload"], spec["one"]), None)
        emit({"kind": "ingest", "how": "one", "events": count, "seconds": spent})
        say(f"{spec['mode']}: {count} events one at a time in {spent:.1f} s")
        del one
    loader = Loader(open_store(os.path.join(spec["directory"], "batched.sqlite")), per_job)
    count, spent = ingest(loader, read_events(spec["workload"]), spec["batch"])
    emit({"kind": "ingest", "how": "batched", "events": count, "seconds": spent})
    say(f"{spec['mode']}: {count} events in batches of {spec['batch']} in {spent:.1f} s")
    for case in spec["cases"]:
        record = run_case(loader, case, spec["budget"])
        emit(record)
        say(f"{spec['mode']}: {case['name']}: {len(record['ms'])} queries")
    emit({"kind": "rss", "mib": peak_rss_mib()})


if __name__ == "__main__":
    main(sys.argv[1])
