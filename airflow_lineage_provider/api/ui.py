"""The Lineage view of the Airflow web UI: a static single-page app served at ``/lineage/ui/``.

The plugin adds it to the Airflow UI as two external views (``plugin.py``): an entry in the Browse
menu and a Lineage tab on each DAG's page (``?dag_id=<id>``). Airflow shows them in a same-origin
iframe, so the UI's ``_token`` cookie authenticates the page and the API calls it makes. The page and
its assets need an authenticated Airflow user like every other route; the data comes from the REST
API, filtered by what the user may read.

The bundle is built from ``ui/`` (React, React Flow, dagre) into ``ui/dist`` by the build hook in
``setup.py`` (run by every wheel and sdist build, and by ``.ci/setup``) and ships inside the package.
A strict Content-Security-Policy keeps names from data inert even if one were ever rendered as markup.
"""

from __future__ import annotations

import re
from pathlib import Path

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}

router = APIRouter(prefix="/ui", include_in_schema=False)


def _file(path: Path, cache: str) -> FileResponse:
    if not path.is_file():
        if not (DIST / "index.html").is_file():
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the Lineage UI is not built: {DIST} is missing (every wheel and sdist carries it; "
                "in a checkout, `pip install .` or `bash .ci/setup` builds it with npm)",
            )
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file in the Lineage UI")
    return FileResponse(path, headers={**_HEADERS, "Cache-Control": cache})


@router.get("")
def ui_redirect(user: GetUserDep) -> RedirectResponse:
    """``/lineage/ui`` -> ``/lineage/ui/`` (the page loads its assets relative to the slash)."""
    return RedirectResponse("ui/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/")
def ui_page(user: GetUserDep) -> FileResponse:
    return _file(DIST / "index.html", "no-cache")


@router.get("/assets/{name}")
def ui_asset(name: str, user: GetUserDep) -> FileResponse:
    if not _ASSET_NAME.match(name) or ".." in name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file in the Lineage UI")
    # Asset names carry a content hash: cache them for good.
    return _file(DIST / "assets" / name, "public, max-age=31536000, immutable")
