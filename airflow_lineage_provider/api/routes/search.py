"""Marquez's ``GET /search`` and ``GET /events/lineage``, filtered to what the user may see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from airflow_lineage_provider.api.datamodels.catalog import (
    LineageEventCollectionResponse,
    SearchResultCollectionResponse,
)
from airflow_lineage_provider.api.datamodels.graph import ErrorResponse
from airflow_lineage_provider.api.deps import CatalogDep, ScopeDep
from airflow_lineage_provider.core.events import to_utc_naive

router = APIRouter(prefix="/api/v1", tags=["Search and events"])


def _utc(value: datetime) -> datetime:
    try:
        return to_utc_naive(value)
    except OverflowError as exc:
        raise ValueError("time is out of range once converted to UTC") from exc


UtcTime = Annotated[datetime, AfterValidator(_utc)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or expired token"},
    403: {"description": "Invalid token"},
    503: {"description": "The lineage store is unavailable", "model": ErrorResponse},
}


@router.get(
    "/search",
    responses=_ERRORS,
    summary="Datasets and jobs whose name, namespace or a tag (key or value) contains q",
)
def search(
    scope: ScopeDep,
    catalog: CatalogDep,
    q: Annotated[str, Query(min_length=1, max_length=1024, description="Case-insensitive substring")],
    kind: Annotated[Literal["dataset", "job"] | None, Query(alias="filter")] = None,
    sort: Literal["name", "updated_at"] = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    namespace: Annotated[str | None, Query(max_length=4096)] = None,
) -> SearchResultCollectionResponse:
    page = catalog.search(scope, q, kind, namespace, sort, limit)
    return SearchResultCollectionResponse.model_validate({"results": page.items, "totalCount": page.total})


@router.get("/events/lineage", responses=_ERRORS, summary="Raw OpenLineage events, newest first by default")
def list_lineage_events(
    scope: ScopeDep,
    catalog: CatalogDep,
    before: Annotated[UtcTime | None, Query(description="Only events before this time")] = None,
    after: Annotated[UtcTime | None, Query(description="Only events after this time")] = None,
    sort_direction: Annotated[Literal["asc", "desc"], Query(alias="sortDirection")] = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> LineageEventCollectionResponse:
    page = catalog.events(scope, before, after, sort_direction == "desc", limit, offset)
    return LineageEventCollectionResponse.model_validate(
        {"events": page.items, "totalCount": page.total, "normalised": page.normalised}
    )
