"""Names in URL paths: namespaces and names contain ``/`` and ``:`` (``postgres://db:5432``, ``a/b:c``).

Clients send each name percent-encoded as one path segment, as Marquez clients do:
``/api/v1/namespaces/postgres%3A%2F%2Fdb%3A5432/datasets/a%2Fb%3Ac``. ASGI servers decode ``%2F``
before routing, which would split such a name into several segments. :class:`EncodedSlashes`
rebuilds the routing path from the raw path so that each segment stays one segment (with ``%`` and
``/`` inside it still escaped); the path parameters below decode them. An unencoded ``/`` inside a
name therefore does not match a route (404), as in Marquez.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote, unquote_to_bytes

from fastapi import Depends, HTTPException, Path, Request, status
from starlette.types import ASGIApp, Receive, Scope, Send


def _segment(raw: bytes) -> str:
    text = unquote_to_bytes(raw).decode("utf-8", errors="replace")
    return text.replace("%", "%25").replace("/", "%2F")


class EncodedSlashes:
    """ASGI middleware: route on raw path segments, so an encoded ``/`` stays inside its segment."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if isinstance(raw, bytes) and b"%" in raw:
            scope = {**scope, "path": "/".join(_segment(part) for part in raw.split(b"/"))}
        await self.app(scope, receive, send)


def no_nul(request: Request) -> None:
    """Reject a NUL character anywhere in the path or query (PostgreSQL cannot compare such text)."""
    if "\x00" in request.url.path or any(
        "\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()
    ):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "NUL characters are not allowed in the URL")


def _namespace(
    namespace: Annotated[
        str, Path(description="Namespace, percent-encoded as one segment (postgres%3A%2F%2Fdb%3A5432).")
    ],
) -> str:
    return unquote(namespace)


def _dataset(
    dataset: Annotated[str, Path(description="Dataset name, percent-encoded as one segment (a%2Fb%3Ac).")],
) -> str:
    return unquote(dataset)


def _job(job: Annotated[str, Path(description="Job name, percent-encoded as one segment.")]) -> str:
    return unquote(job)


NamespaceName = Annotated[str, Depends(_namespace)]
DatasetName = Annotated[str, Depends(_dataset)]
JobName = Annotated[str, Depends(_job)]
