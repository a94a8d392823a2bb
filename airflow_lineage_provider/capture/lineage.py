"""``Lineage``: what extraction found for one task event, merged across sources.

Datasets are de-duplicated by (namespace, name); a dataset met again gets its facets merged, and
for a facet name both sources set, the earlier source wins (operator methods, then hook lineage,
then the task's assets). Errors of any source are kept for the ``extractionError`` facet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import extraction_error_run

from airflow_lineage_provider.capture import facets


@dataclass
class DatasetEntry:
    """A dataset found by extraction: its facets and its input- or output-specific facets."""

    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    io_facets: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: DatasetEntry) -> None:
        self.facets = {**other.facets, **self.facets}
        self.io_facets = {**other.io_facets, **self.io_facets}


def entry(dataset: Any) -> DatasetEntry | None:
    """A ``DatasetEntry`` from anything shaped like an OpenLineage dataset (namespace, name, facets)."""
    namespace, name = getattr(dataset, "namespace", None), getattr(dataset, "name", None)
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        return None
    io_facets = getattr(dataset, "inputFacets", None) or getattr(dataset, "outputFacets", None) or {}
    return DatasetEntry(namespace, name, dict(getattr(dataset, "facets", None) or {}), dict(io_facets))


@dataclass
class Lineage:
    """Inputs, outputs, facets and extraction errors of one task event."""

    inputs: dict[tuple[str, str], DatasetEntry] = field(default_factory=dict)
    outputs: dict[tuple[str, str], DatasetEntry] = field(default_factory=dict)
    run_facets: dict[str, Any] = field(default_factory=dict)
    job_facets: dict[str, Any] = field(default_factory=dict)
    attempted: int = 0
    errors: list[extraction_error_run.Error] = field(default_factory=list)

    def add_inputs(self, datasets: Iterable[DatasetEntry | None]) -> None:
        _add(self.inputs, datasets)

    def add_outputs(self, datasets: Iterable[DatasetEntry | None]) -> None:
        _add(self.outputs, datasets)

    def add_run_facets(self, run_facets: dict[str, Any] | None) -> None:
        self.run_facets = {**(run_facets or {}), **self.run_facets}

    def add_job_facets(self, job_facets: dict[str, Any] | None) -> None:
        self.job_facets = {**(job_facets or {}), **self.job_facets}

    def failed(self, what: str, number: int | None = None) -> Callable[[BaseException], None]:
        """An ``on_error`` callback for ``never_raise`` that records the error under ``what``."""
        return lambda exc: self.errors.append(facets.failure(what, exc, number))

    def input_datasets(self) -> list[InputDataset]:
        return [
            InputDataset(namespace=d.namespace, name=d.name, facets=d.facets, inputFacets=d.io_facets)
            for d in self.inputs.values()
        ]

    def output_datasets(self) -> list[OutputDataset]:
        return [
            OutputDataset(namespace=d.namespace, name=d.name, facets=d.facets, outputFacets=d.io_facets)
            for d in self.outputs.values()
        ]

    def all_run_facets(self) -> dict[str, Any]:
        """Run facets found, plus ``extractionError`` when anything failed."""
        if not self.errors:
            return dict(self.run_facets)
        found = self.run_facets.get("extractionError")  # an operator may report its own
        errors = [*(getattr(found, "errors", None) or []), *self.errors]
        total = self.attempted + int(getattr(found, "totalTasks", 0) or 0)
        return {**self.run_facets, "extractionError": facets.extraction_error(total, errors)}


def _add(target: dict[tuple[str, str], DatasetEntry], datasets: Iterable[DatasetEntry | None]) -> None:
    for dataset in datasets:
        if dataset is None:
            continue
        key = (dataset.namespace, dataset.name)
        if key in target:
            target[key].merge(dataset)
        else:
            target[key] = dataset
