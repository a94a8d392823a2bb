"""airflow-lineage-provider: OpenLineage capture, storage and queries inside Apache Airflow 3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml and provider info read it)

__all__ = ["LineageStore", "__version__"]

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (as Airflow does for provider info) must not import SQLAlchemy.
    if name == "LineageStore":
        from airflow_lineage_provider.store.lineagestore import LineageStore

        return LineageStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
