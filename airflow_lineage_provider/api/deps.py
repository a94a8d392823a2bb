"""Dependencies shared by the routes: the store, the catalog, the reader's scope, the ingest check.

Every route depends on :data:`ScopeDep` or :data:`EditorDep`, and both depend on Airflow's
``GetUserDep``: no route of this app answers without an authenticated Airflow user.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Request, status

from airflow_lineage_provider import conf
from airflow_lineage_provider.api import visibility
from airflow_lineage_provider.store.catalog import Catalog
from airflow_lineage_provider.store.lineagestore import LineageStore
from airflow_lineage_provider.store.visibility import Scope


def _auth_manager(request: Request) -> Any:
    manager = getattr(request.app.state, "auth_manager", None)
    if manager is None:  # the app's lifespan did not run (it copies Airflow's manager into state)
        from airflow.api_fastapi.app import get_auth_manager

        manager = get_auth_manager()
    return manager


def _store(request: Request) -> LineageStore:
    store: LineageStore = request.app.state.stores.get()
    return store


def _catalog(store: Annotated[LineageStore, Depends(_store)]) -> Catalog:
    return Catalog(store)


def _scope(request: Request, user: GetUserDep) -> Scope:
    return visibility.reader_scope(_auth_manager(request), user, conf.namespace())


def _editor(request: Request, user: GetUserDep) -> None:
    if not visibility.may_ingest(_auth_manager(request), user):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Forbidden: recording lineage needs permission to edit every DAG"
        )


StoreDep = Annotated[LineageStore, Depends(_store)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
ScopeDep = Annotated[Scope, Depends(_scope)]
EditorDep = Annotated[None, Depends(_editor)]
