"""The one place where errors become HTTP statuses.

==========================  ======  =====================================================
error                       status  when
==========================  ======  =====================================================
InvalidEventError           422     an event is not valid OpenLineage (``field``, ``index``)
InvalidNodeIdError          400     ``nodeId`` does not parse
InvalidQueryError           400     a query argument out of range (``asOf``, ...)
NodeNotFoundError           404     no such node, or one the user may not see (``suggestions``)
StoreError                  503     the lineage store cannot be reached (details only logged)
ConfigError, LineageError   500     the server is misconfigured (details only logged)
==========================  ======  =====================================================

Request errors found before the store is asked (``HTTPException``): 400 malformed JSON, 401 no or
expired token, 403 invalid token or not permitted, 413 body over the size limit, 415 unsupported
``Content-Encoding``, 422 wrong query parameter types or ranges (FastAPI's validation).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from airflow_lineage_provider.exceptions import (
    ConfigError,
    InvalidEventError,
    InvalidNodeIdError,
    InvalidQueryError,
    LineageError,
    NodeNotFoundError,
    StoreError,
)

log = logging.getLogger(__name__)

STATUS: dict[type[LineageError], int] = {
    InvalidEventError: 422,
    InvalidNodeIdError: 400,
    InvalidQueryError: 400,
    NodeNotFoundError: 404,
    StoreError: 503,
    ConfigError: 500,
    LineageError: 500,
}
_SERVER_SIDE = {
    503: "the lineage store is unavailable; see the API server log",
    500: "the lineage API is misconfigured; see the API server log",
}


def status_of(error: LineageError) -> int:
    """The HTTP status of an error: the entry of its nearest class in :data:`STATUS`."""
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


async def lineage_error(request: Request, error: Exception) -> JSONResponse:
    """Handler of every :class:`LineageError`: ``{"detail", "error", ...}`` with its one status."""
    assert isinstance(error, LineageError)
    status = status_of(error)
    body: dict[str, object] = {"detail": str(error), "error": type(error).__name__}
    if status in _SERVER_SIDE:
        log.error("lineage API %s %s: %s", request.method, request.url.path, error, exc_info=error)
        body["detail"] = _SERVER_SIDE[status]
    if isinstance(error, InvalidEventError):
        body.update(field=error.field, index=error.index)
    if isinstance(error, NodeNotFoundError):
        body["suggestions"] = error.suggestions
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LineageError, lineage_error)
