"""``Lineage``: what extraction found for one task event, merged across sources.

Datasets are de-duplicated by (namespace, name); a dataset met again gets its facets merged, and
for a facet name both sources set, the earlier source wins (operator methods, then hook lineage,
then the task's assets). Errors of any source are kept for the ``extractionError`` facet. Facets
are plain JSON dicts (see :mod:`.facets`); what operators return as openlineage-python objects is
turned into dicts here.

A dataset whose namespace or name holds a NUL character (an Asset URI with ``%00``) cannot be
stored; it is kept with each NUL written back as ``%00``, and an extraction error says so, so the
rest of the event is not lost with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.emit.serde import to_dict


class DatasetEntry:
    """A dataset found by extraction: its facets and its input- or output-specific facets.

    (Plain classes rather than dataclasses in this module: a task process imports it, and building a
    dataclass costs a fresh process more than the rest of the module.)"""

    __slots__ = ("namespace", "name", "facets", "io_facets")

    def __init__(
        self,
        namespace: str,
        name: str,
        facets: dict[str, Any] | None = None,
        io_facets: dict[str, Any] | None = None,
    ) -> None:
        self.namespace, self.name = namespace, name
        self.facets: dict[str, Any] = {} if facets is None else facets
        self.io_facets: dict[str, Any] = {} if io_facets is None else io_facets

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetEntry):
            return NotImplemented
        return (self.namespace, self.name, self.facets, self.io_facets) == (
            other.namespace,
            other.name,
            other.facets,
            other.io_facets,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"DatasetEntry({self.namespace!r}, {self.name!r}, {self.facets!r}, {self.io_facets!r})"

    def merge(self, other: DatasetEntry) -> None:
        self.facets = {**other.facets, **self.facets}
        self.io_facets = {**other.io_facets, **self.io_facets}


def plain_facets(found: Mapping[str, Any] | None) -> dict[str, Any]:
    """Facets as JSON dicts, whether given as openlineage-python objects or as dicts."""
    return {
        str(key): value if isinstance(value, dict) else to_dict(value) for key, value in (found or {}).items()
    }


def entry(dataset: Any) -> DatasetEntry | None:
    """A ``DatasetEntry`` from anything shaped like an OpenLineage dataset (namespace, name, facets)."""
    namespace, name = getattr(dataset, "namespace", None), getattr(dataset, "name", None)
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        return None
    io_facets = getattr(dataset, "inputFacets", None) or getattr(dataset, "outputFacets", None) or {}
    return DatasetEntry(
        namespace, name, plain_facets(getattr(dataset, "facets", None)), plain_facets(io_facets)
    )


class Lineage:
    """Inputs, outputs, facets and extraction errors of one task event."""

    __slots__ = ("inputs", "outputs", "run_facets", "job_facets", "attempted", "errors")

    def __init__(self, attempted: int = 0) -> None:
        self.inputs: dict[tuple[str, str], DatasetEntry] = {}
        self.outputs: dict[tuple[str, str], DatasetEntry] = {}
        self.run_facets: dict[str, Any] = {}
        self.job_facets: dict[str, Any] = {}
        self.attempted = attempted
        self.errors: list[dict[str, Any]] = []

    def add_inputs(self, datasets: Iterable[DatasetEntry | None]) -> None:
        self._add(self.inputs, datasets)

    def add_outputs(self, datasets: Iterable[DatasetEntry | None]) -> None:
        self._add(self.outputs, datasets)

    def add_run_facets(self, run_facets: Mapping[str, Any] | None) -> None:
        self.run_facets = {**plain_facets(run_facets), **self.run_facets}

    def add_job_facets(self, job_facets: Mapping[str, Any] | None) -> None:
        self.job_facets = {**plain_facets(job_facets), **self.job_facets}

    def failed(self, what: str, number: int | None = None) -> Callable[[BaseException], None]:
        """An ``on_error`` callback for ``never_raise`` that records the error under ``what``."""
        return lambda exc: self.errors.append(facets.failure(what, exc, number))

    def input_datasets(self) -> list[dict[str, Any]]:
        return [
            {"namespace": d.namespace, "name": d.name, "facets": d.facets, "inputFacets": d.io_facets}
            for d in self.inputs.values()
        ]

    def output_datasets(self) -> list[dict[str, Any]]:
        return [
            {"namespace": d.namespace, "name": d.name, "facets": d.facets, "outputFacets": d.io_facets}
            for d in self.outputs.values()
        ]

    def all_run_facets(self) -> dict[str, Any]:
        """Run facets found, plus ``extractionError`` when anything failed."""
        if not self.errors:
            return dict(self.run_facets)
        found = self.run_facets.get("extractionError") or {}  # an operator may report its own
        errors = [*(found.get("errors") or []), *self.errors]
        total = self.attempted + int(found.get("totalTasks") or 0)
        return {**self.run_facets, "extractionError": facets.extraction_error(total, errors)}

    def _add(
        self, target: dict[tuple[str, str], DatasetEntry], datasets: Iterable[DatasetEntry | None]
    ) -> None:
        for dataset in datasets:
            if dataset is None:
                continue
            if "\x00" in dataset.namespace or "\x00" in dataset.name:
                dataset = self._repaired(dataset)
            key = (dataset.namespace, dataset.name)
            if key in target:
                target[key].merge(dataset)
            else:
                target[key] = dataset

    def _repaired(self, dataset: DatasetEntry) -> DatasetEntry:
        namespace, name = (text.replace("\x00", "%00") for text in (dataset.namespace, dataset.name))
        self.errors.append(
            facets.error(
                f"dataset {namespace}/{name}: a NUL character in its namespace or name, kept as %00",
                task="dataset names",
            )
        )
        return DatasetEntry(namespace, name, dataset.facets, dataset.io_facets)
