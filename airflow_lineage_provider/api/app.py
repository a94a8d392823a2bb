"""The REST API app: the plugin mounts it at ``/lineage`` in the Airflow API server.

Routes (all under ``/lineage/api/v1``; each needs an authenticated Airflow user, see
:mod:`airflow_lineage_provider.api.visibility`): OpenLineage ingest (``POST /lineage``,
``POST /lineage/batch``), Marquez-compatible reads (``/lineage``, ``/column-lineage``,
``/namespaces/...``, ``/jobs/runs/{id}``, ``/search``, ``/events/lineage``) and our impact export
(``/impact``, ``/dags/{dag_id}/lineage``), the model routes under ``/ml`` (:mod:`.routes.ml`), and
the web UI's Lineage view at ``/ui/`` (:mod:`.ui`). OpenAPI at ``/lineage/openapi.json``, Swagger UI
at ``/lineage/docs``: public, as Airflow's own ``/openapi.json`` and ``/docs`` are (they describe the
routes and hold no data); the two pages follow ``[api] enable_swagger_ui`` like Airflow's.
State-changing requests must pass :mod:`.csrf`; every response says ``nosniff`` (:mod:`.headers`).

The store is created on first use, once per process, from ``[lineage_provider] store_url``; the
app's lifespan (entered by Airflow's own lifespan) copies Airflow's auth manager into ``app.state``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import Depends, FastAPI

from airflow_lineage_provider import __version__, conf
from airflow_lineage_provider.api import csrf, errors, ui
from airflow_lineage_provider.api.headers import NoSniff
from airflow_lineage_provider.api.paths import EncodedSlashes, no_nul
from airflow_lineage_provider.api.payload import MAX_BODY_BYTES
from airflow_lineage_provider.api.routes import catalog, ingest, lineage, ml, search
from airflow_lineage_provider.store.lineagestore import LineageStore

DESCRIPTION = f"""OpenLineage ingest and Marquez-compatible lineage reads of airflow-lineage-provider.

**Authentication.** Every route needs an Airflow user: `Authorization: Bearer <token>` (from
`POST /auth/token` of the Airflow API server) or the Airflow UI's `_token` cookie. No token: 401;
an invalid token or a missing permission: 403.

**Reading.** Users allowed to read every DAG see everything. Anyone else sees the jobs of the DAGs
they may read (Airflow namespace, job `<dag_id>` or `<dag_id>.<task_id>...`), their runs and
events, and the datasets those jobs read or write; never jobs of other producers (Spark, dbt, ...).
What you may not see answers 404, like what does not exist.

**Ingest** (`POST /api/v1/lineage`, `POST /api/v1/lineage/batch`) needs permission to edit every
DAG. Bodies up to {MAX_BODY_BYTES} bytes (also after gzip); valid events answer 201, an invalid one
422 naming `field` (and `index` in a batch) and nothing of the request is stored; repeated events
are counted as `duplicates`. Events are read as leniently as Marquez reads them: an absent
`schemaURL` is filled in from the event's shape, a time without a zone is UTC, and `#/definitions/X`
and `#/$defs/X` schemaURLs of every spec version from 1-0-0 name the event type. The raw event is
stored as sent; the response's `normalised` lists each such reading (`index`, `field`, `note`), and
`airflow-lineage show` shows them on the run and the job.

**State-changing requests** (every `POST`) send `Content-Type: application/json` (gzip allowed
with `Content-Encoding: gzip`), else 415. Authenticated by the UI's `_token` cookie instead of a
Bearer token, they must also come from this server's origin (`Origin`, else `Referer`) or carry an
`X-Requested-With` header, else 403.

**This document and `/docs`** are public, as Airflow's own API documentation is: they describe the
routes and hold no data. `[api] enable_swagger_ui = False` turns `/docs` and `/redoc` off.

**Names in paths** are percent-encoded as one segment: `/api/v1/namespaces/postgres%3A%2F%2Fdb%3A5432`.
"""


class StoreHolder:
    """The process's store: the one given, or one from Airflow config made on first use.

    On first use the store is also created or migrated (``upgrade``), so a fresh deployment answers
    empty lists instead of "no lineage store" until the first event arrives; a failure (database
    down) is retried on the next request.
    """

    def __init__(self, store: LineageStore | None = None) -> None:
        self._store = store
        self._owned = False
        self._ready = False
        self._lock = threading.Lock()

    def get(self) -> LineageStore:
        if not self._ready:
            with self._lock:
                if self._store is None:
                    self._store = LineageStore.from_airflow_config(adjacency_index=conf.adjacency_index())
                    self._owned = True
                if not self._ready:
                    self._store.upgrade()
                    self._store.warm_adjacency()
                    self._ready = True
        assert self._store is not None
        return self._store

    def close(self) -> None:
        with self._lock:
            if self._owned and self._store is not None:
                self._store.close()
                self._store, self._owned, self._ready = None, False, False


class Service(Protocol):
    """Background work the app runs while it is up (the plugin adds the outbox drain)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


ServiceFactory = Callable[[Callable[[], LineageStore]], Service]


def add_service(app: FastAPI, factory: ServiceFactory) -> None:
    """Run ``factory(get_store)`` from the app's start to its end (once, however often it is added)."""
    if factory not in app.state.services:
        app.state.services.append(factory)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from airflow.api_fastapi.app import get_auth_manager

    app.state.auth_manager = get_auth_manager()
    services = [factory(app.state.stores.get) for factory in app.state.services]
    for service in services:
        service.start()
    try:
        yield
    finally:
        for service in services:
            service.stop()
        app.state.stores.close()


def create_app(store: LineageStore | None = None) -> FastAPI:
    """A new app; ``store`` replaces the configured one (tests)."""
    app = FastAPI(
        title="Airflow Lineage Provider API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        dependencies=[Depends(no_nul), Depends(csrf.guard)],
        # As Airflow's own API: the OpenAPI document is public (it describes routes, holds no data);
        # the Swagger UI and ReDoc pages follow [api] enable_swagger_ui.
        docs_url="/docs" if conf.swagger_ui() else None,
        redoc_url="/redoc" if conf.swagger_ui() else None,
    )
    app.state.stores = StoreHolder(store)
    app.state.services = []
    errors.install(app)
    for router in (ingest.router, lineage.router, catalog.router, search.router, ml.router, ui.router):
        app.include_router(router)
    app.add_middleware(EncodedSlashes)
    app.add_middleware(NoSniff)
    return app


@functools.cache
def cached_app() -> FastAPI:
    """The app of this process (what the plugin mounts)."""
    return create_app()
