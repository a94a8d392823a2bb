"""A page of another origin cannot make a logged-in browser record lineage (real api-server, real
headless Chromium).

The user logs in through Airflow's login page (the ``_token`` cookie), then opens a page served from
another port of the same host: same site, so the browser sends the cookie, but another origin. The
page posts an OpenLineage event to ingest the ways a page of another origin can (an HTML form as
``text/plain`` and as ``application/x-www-form-urlencoded``, ``fetch`` in ``no-cors`` mode); every
request reaches the server with the cookie and is refused, and nothing is stored. The same event
posted by a page of the API server's own origin is stored, so the cookie does authenticate.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.processes import free_port
from tests.integration.apiserver import ApiServer, running_api_server
from tests.ui.test_lineage_ui import CHROMIUM_ARGS, _chromium

pytestmark = pytest.mark.integration


def _event(job: str) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://evil.example",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": job},
    }


def _attack_page(api: str) -> str:
    """Forms whose text/plain body is the JSON of an event (the classic trick), one urlencoded form,
    and a no-cors fetch; each form submits into its own frame."""
    text_body = json.dumps(_event("forged_text"))[:-1] + ', "pad": "'
    batch_body = "[" + json.dumps(_event("forged_batch"))[:-1] + ', "pad": "'
    return f"""<!doctype html><html><body>
<iframe name="f1"></iframe><iframe name="f2"></iframe><iframe name="f3"></iframe>
<form id="a" target="f1" method="POST" enctype="text/plain" action="{api}/lineage/api/v1/lineage">
  <input type="hidden" name='{text_body}' value='"}}'></form>
<form id="b" target="f2" method="POST" enctype="text/plain" action="{api}/lineage/api/v1/lineage/batch">
  <input type="hidden" name='{batch_body}' value='"}}]'></form>
<form id="c" target="f3" method="POST" action="{api}/lineage/api/v1/lineage">
  <input type="hidden" name="event" value='{json.dumps(_event("forged_form"))}'></form>
<script>
  document.getElementById("a").submit();
  document.getElementById("b").submit();
  document.getElementById("c").submit();
  fetch("{api}/lineage/api/v1/lineage", {{method: "POST", mode: "no-cors", credentials: "include",
    headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({json.dumps(_event("forged_fetch"))})}})
    .finally(() => {{ document.title = "sent"; }});
</script></body></html>"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api_server(tmp_path_factory.mktemp("csrf")) as api_server:
        yield api_server


@pytest.fixture
def other_origin(server: ApiServer, tmp_path: Path) -> Iterator[str]:
    """The attack page, served from another port of the same host (same site, another origin)."""
    (tmp_path / "attack.html").write_text(_attack_page(server.base_url))
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", free_port()), partial(SimpleHTTPRequestHandler, directory=tmp_path)
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _jobs(server: ApiServer) -> list[str]:
    response = httpx.get(
        f"{server.base_url}/lineage/api/v1/events/lineage",
        headers={"Authorization": f"Bearer {server.tokens['admin']}"},
    )
    assert response.status_code == 200, response.text
    return sorted(e["job"]["name"] for e in response.json()["events"])


def test_a_cross_site_page_cannot_ingest_with_the_session_cookie(
    server: ApiServer, other_origin: str
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(server.base_url + "/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", server.passwords["admin"])
            page.click("button[type=submit]")
            page.wait_for_url(server.base_url + "/")
            assert any(c["name"] == "_token" for c in page.context.cookies())

            page.goto(other_origin + "/attack.html")
            page.wait_for_function("document.title === 'sent'")
            frames = [f for f in page.frames if f.url.startswith(server.base_url)]
            for frame in frames:
                frame.wait_for_load_state()
            answers = [f.content() for f in frames]
            assert len(answers) == 3 and all("Content-Type must be application/json" in a for a in answers)
            assert _jobs(server) == []

            page.goto(server.base_url + "/lineage/ui/")  # a page of the API server's own origin
            status = page.evaluate(
                """body => fetch("../api/v1/lineage", {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json"}, body}).then(r => r.status)""",
                json.dumps(_event("same_origin")),
            )
            assert status == 201
            assert _jobs(server) == ["same_origin"]
        finally:
            browser.close()
