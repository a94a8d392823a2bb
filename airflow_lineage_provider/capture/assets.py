"""Airflow Assets as OpenLineage datasets: task inlets/outlets, and outlets added at run time.

An Asset maps by its URI (``core.naming.dataset_from_uri``), so ``Asset("sqlite:///abs/db/t")``
and the SQL that writes table ``t`` of that database meet in one dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from airflow_lineage_provider.capture.lineage import DatasetEntry
from airflow_lineage_provider.core.naming import dataset_from_uri


def dataset(asset: Any) -> DatasetEntry | None:
    """The dataset of an Asset (anything with a URI); None for aliases and name-only references."""
    uri = getattr(asset, "uri", None)
    if not isinstance(uri, str) or not uri:
        return None
    namespace, name = dataset_from_uri(uri)
    return DatasetEntry(namespace, name)


def datasets(assets: Iterable[Any] | None) -> list[DatasetEntry]:
    return [d for d in map(dataset, assets or ()) if d is not None]


def runtime_outlets(context: Any) -> Iterator[DatasetEntry]:
    """Assets a running task attached through ``outlet_events`` (an AssetAlias, or an Asset's events)."""
    outlet_events = context.get("outlet_events") if context is not None else None
    if outlet_events is None:
        return
    for key in outlet_events:
        accessor = outlet_events[key]
        for alias_event in getattr(accessor, "asset_alias_events", None) or ():
            found = dataset(getattr(alias_event, "dest_asset_key", None))
            if found is not None:
                yield found
        found = dataset(key)
        if found is not None:
            yield found
