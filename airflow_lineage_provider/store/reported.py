"""What an event reports beside the graph: declared lineage, data quality assertions and tags.

Ingest (:class:`.writes.GraphWriter`) and the upgrade that fills these tables from the events stored
before they existed (:mod:`.refill`) call the same methods at the same places of an event, so both
derive the same rows:

* a dataset event: the dataset's tags and its declarations (by no job);
* a run or job event: the job's tags and the declarations of its job and datasets (by that job);
* each input: the assertions the run reported on it and the dataset's tags;
* each output: the assertions the run reported on it, and its tags once the run wrote a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from airflow_lineage_provider.core.events import ParsedEvent
from airflow_lineage_provider.store import assertions, declared, tags

Ids = dict[declared.Named, int]  # (kind, namespace, name) -> node id, every node the event names


@dataclass
class Reported:
    """The declared edges, assertion reports and tags of one batch, written by :meth:`flush`."""

    declared: declared.Declared = field(default_factory=declared.Declared)
    tags: tags.Tags = field(default_factory=tags.Tags)
    assertions: assertions.Reports = field(default_factory=assertions.Reports)

    def dataset_event(self, ids: Ids, event: ParsedEvent, dataset_id: int) -> None:
        facets = event.payload["dataset"].get("facets")
        self.tags.add(dataset_id, facets, None, event.event_time)
        self.declared.add(ids, event, None, event.event_time)

    def job(self, ids: Ids, event: ParsedEvent, job_id: int) -> None:
        facets = event.payload["job"].get("facets")
        self.tags.add(job_id, facets, event.run_id, event.event_time)
        self.declared.add(ids, event, job_id, event.event_time)

    def read(
        self,
        run: dict[str, Any] | None,
        dataset_id: int,
        ds: dict[str, Any],
        version: str | None,
        t: datetime,
    ) -> None:
        """An input (``run``: the run's row, None on a job event): tags name it whichever way it goes."""
        if run is not None:
            self.assertions.add(run, dataset_id, ds, version, t)
        self.tags.add(dataset_id, ds.get("facets"), None if run is None else run["run_id"], t)

    def written(
        self, run: dict[str, Any], dataset_id: int, ds: dict[str, Any], version: str | None, t: datetime
    ) -> None:
        """An output of a run; ``version``: the version it wrote (None until the run completed)."""
        self.assertions.add(run, dataset_id, ds, version, t)
        if version is not None:
            self.tags.add(dataset_id, ds.get("facets"), run["run_id"], t)

    def flush(self, conn: Connection) -> None:
        self.declared.flush(conn)
        self.tags.flush(conn)
        self.assertions.flush(conn)
