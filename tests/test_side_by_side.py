"""The comparison page's recipe for forwarding stored events to Marquez works as written.

The recipe is taken from docs/comparison.md and run unchanged except for the Marquez address, which
points at a local HTTP server that records what a Marquez would receive.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore
from tests.cli.shell import shop_events

COMPARISON = Path(__file__).resolve().parent.parent / "docs" / "comparison.md"
MARQUEZ = "http://marquez:5000"


class FakeMarquez(BaseHTTPRequestHandler):
    received: list[tuple[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def marquez() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    received: list[tuple[str, Any]] = []
    handler = type("Recorder", (FakeMarquez,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def recipe() -> str:
    blocks = re.findall(r"```python\n(.*?)```", COMPARISON.read_text(encoding="utf-8"), re.S)
    forwarding = [block for block in blocks if "HttpTransport" in block]
    assert len(forwarding) == 1, "docs/comparison.md should have one forwarding recipe"
    assert MARQUEZ in forwarding[0]
    return forwarding[0]


def test_the_forwarding_recipe_posts_every_stored_event_to_marquezs_endpoint(
    marquez: tuple[str, list[tuple[str, Any]]], tmp_path: Path
) -> None:
    url, received = marquez
    store_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = LineageStore.from_url(store_url)
    try:
        store.record_many(shop_events())
        stored = list(store.events())
    finally:
        store.close()
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url}

    result = subprocess.run(
        [sys.executable, "-c", recipe().replace(MARQUEZ, url)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert {path for path, _ in received} == {"/api/v1/lineage"}
    assert [event for _, event in received] == stored
