"""Marquez's namespace, dataset, job and run reads (same paths, parameters and JSON shapes).

Names in paths are percent-encoded as one segment (see :mod:`airflow_lineage_provider.api.paths`).
Lists take ``limit`` and ``offset`` and return ``totalCount``; every list holds only what the user may
see, and a node the user may not see is 404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from airflow_lineage_provider.api.datamodels.catalog import (
    DatasetCollectionResponse,
    DatasetResponse,
    DatasetVersionCollectionResponse,
    JobCollectionResponse,
    JobResponse,
    NamespaceCollectionResponse,
    NamespaceResponse,
    RunCollectionResponse,
    RunResponse,
)
from airflow_lineage_provider.api.datamodels.graph import ErrorResponse
from airflow_lineage_provider.api.deps import CatalogDep, ScopeDep
from airflow_lineage_provider.api.paths import DatasetName, JobName, NamespaceName

router = APIRouter(prefix="/api/v1", tags=["Catalog"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or expired token"},
    403: {"description": "Invalid token"},
    404: {"description": "Not found, or not visible to you", "model": ErrorResponse},
    503: {"description": "The lineage store is unavailable", "model": ErrorResponse},
}


@router.get("/namespaces", responses=_ERRORS)
def list_namespaces(
    scope: ScopeDep, catalog: CatalogDep, limit: Limit = 100, offset: Offset = 0
) -> NamespaceCollectionResponse:
    page = catalog.namespaces(scope, limit, offset)
    return NamespaceCollectionResponse.model_validate({"namespaces": page.items, "totalCount": page.total})


@router.get("/namespaces/{namespace}", responses=_ERRORS)
def get_namespace(scope: ScopeDep, catalog: CatalogDep, namespace: NamespaceName) -> NamespaceResponse:
    return NamespaceResponse.model_validate(catalog.namespace(scope, namespace))


@router.get("/namespaces/{namespace}/datasets", responses=_ERRORS)
def list_datasets(
    scope: ScopeDep, catalog: CatalogDep, namespace: NamespaceName, limit: Limit = 100, offset: Offset = 0
) -> DatasetCollectionResponse:
    page = catalog.datasets(scope, namespace, limit, offset)
    return DatasetCollectionResponse.model_validate({"datasets": page.items, "totalCount": page.total})


@router.get("/namespaces/{namespace}/datasets/{dataset}", responses=_ERRORS)
def get_dataset(
    scope: ScopeDep, catalog: CatalogDep, namespace: NamespaceName, dataset: DatasetName
) -> DatasetResponse:
    return DatasetResponse.model_validate(catalog.dataset(scope, namespace, dataset))


@router.get("/namespaces/{namespace}/datasets/{dataset}/versions", responses=_ERRORS)
def list_dataset_versions(
    scope: ScopeDep,
    catalog: CatalogDep,
    namespace: NamespaceName,
    dataset: DatasetName,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DatasetVersionCollectionResponse:
    page = catalog.dataset_versions(scope, namespace, dataset, limit, offset)
    return DatasetVersionCollectionResponse.model_validate({"versions": page.items, "totalCount": page.total})


@router.get("/namespaces/{namespace}/jobs", responses=_ERRORS)
def list_jobs(
    scope: ScopeDep, catalog: CatalogDep, namespace: NamespaceName, limit: Limit = 100, offset: Offset = 0
) -> JobCollectionResponse:
    page = catalog.jobs(scope, namespace, limit, offset)
    return JobCollectionResponse.model_validate({"jobs": page.items, "totalCount": page.total})


@router.get("/namespaces/{namespace}/jobs/{job}", responses=_ERRORS)
def get_job(scope: ScopeDep, catalog: CatalogDep, namespace: NamespaceName, job: JobName) -> JobResponse:
    return JobResponse.model_validate(catalog.job(scope, namespace, job))


@router.get("/namespaces/{namespace}/jobs/{job}/runs", responses=_ERRORS)
def list_runs(
    scope: ScopeDep,
    catalog: CatalogDep,
    namespace: NamespaceName,
    job: JobName,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RunCollectionResponse:
    page = catalog.runs(scope, namespace, job, limit, offset)
    return RunCollectionResponse.model_validate({"runs": page.items, "totalCount": page.total})


@router.get(
    "/jobs/runs/{run_id}",
    responses={**_ERRORS, 400: {"description": "Not a UUID", "model": ErrorResponse}},
)
def get_run(scope: ScopeDep, catalog: CatalogDep, run_id: str) -> RunResponse:
    return RunResponse.model_validate(catalog.run(scope, run_id))
