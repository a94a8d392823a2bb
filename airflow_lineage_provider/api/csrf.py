"""What a state-changing request must carry, so that another web site cannot make a browser send one.

The Airflow UI authenticates with its ``_token`` cookie, which a browser attaches to any request to
the API server, including one a page of another origin starts (a form, an image, ``fetch`` in
``no-cors`` mode). So every request whose method changes state (``POST``, ``PUT``, ``PATCH``,
``DELETE``):

* must send ``Content-Type: application/json`` (optionally ``Content-Encoding: gzip``), else 415:
  the content types a cross-site form or a ``no-cors`` fetch may send (``text/plain``,
  ``application/x-www-form-urlencoded``, ``multipart/form-data``) are refused before the body is read;
* when it is authenticated by the cookie rather than an ``Authorization: Bearer`` header, must also
  show that it comes from the API server's own origin: an ``Origin`` (or, without one, a ``Referer``)
  whose host and port are the request's ``Host`` or those of ``[api] base_url``; or a
  ``X-Requested-With`` header, which a cross-site page cannot send without a CORS preflight the
  server does not grant. Else 403.

Clients with a Bearer token (openlineage-python, Spark, dbt, the provider's own ``http`` emitter)
already send ``application/json`` and need nothing more.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from fastapi import HTTPException, Request, status

from airflow_lineage_provider import conf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
JSON = "application/json"
CUSTOM_HEADER = "X-Requested-With"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(url: str, scheme: str | None = None) -> tuple[str, int | None] | None:
    """(host, port) of a URL (or of ``host[:port]`` with ``scheme``), default ports filled in."""
    try:
        parts = urlsplit(url if scheme is None else f"{scheme}://{url}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS.get(parts.scheme)


def _own(request: Request) -> set[tuple[str, int | None]]:
    """Where the API server is: the request's Host header and ``[api] base_url``."""
    found = set()
    for scheme in ("http", "https"):
        host = _host_port(request.headers.get("host", ""), scheme)
        if host is not None:
            found.add(host)
    base = _host_port(conf.api_base_url()) if conf.api_base_url() else None
    if base is not None:
        found.add(base)
    return found


def same_origin(request: Request) -> bool:
    """The request says it comes from the API server's own origin (``Origin``, else ``Referer``)."""
    origin = request.headers.get("origin")
    source = origin if origin is not None else request.headers.get("referer")
    if not source or source == "null":
        return False
    found = _host_port(source)
    return found is not None and found in _own(request)


def _bearer(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def guard(request: Request) -> None:
    """App dependency: refuse a state-changing request a cross-site page could have sent."""
    if request.method in SAFE_METHODS:
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {JSON} (gzip-encoded with Content-Encoding: gzip if you like), "
            f"not {media_type or 'missing'}",
        )
    if _bearer(request) or COOKIE_NAME_JWT_TOKEN not in request.cookies:
        return  # authenticated by a token the page had to know, or not at all (auth answers 401)
    if CUSTOM_HEADER.lower() in request.headers or same_origin(request):
        return
    raise HTTPException(
        status.HTTP_403_FORBIDDEN,
        "Forbidden: a request authenticated by the Airflow session cookie must come from the API "
        f"server's own origin (Origin or Referer) or carry a {CUSTOM_HEADER} header; "
        "API clients send Authorization: Bearer <token>",
    )
