"""``HttpEmitter``: posts events to the ingest endpoint of the Airflow API server (remote workers).

For workers with no route to the store's database (CeleryExecutor, KubernetesExecutor): events go
to ``<[lineage_provider] http_url>/lineage/api/v1/lineage/batch`` with
``Authorization: Bearer <http_token>``; the API server writes them to the store. Only the standard
library is used (no client library in the task process).

How answers are treated: 2xx delivered; 422 (and 413 for one event) the event is invalid and goes
to the dead-letter file; anything else (401/403 a bad token, 5xx, a timeout, no connection) is a
failure for now: the events stay in the outbox for replay.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, ClassVar

from airflow_lineage_provider import conf
from airflow_lineage_provider.emit.budget import budget_deadline, budget_seconds
from airflow_lineage_provider.emit.durable import DurableEmitter
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.exceptions import ConfigError, InvalidEventError, StoreError

INGEST_PATH = "/lineage/api/v1/lineage/batch"


def _detail(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return {"detail": body[:300].decode("utf-8", "replace")}
    return data if isinstance(data, dict) else {"detail": str(data)[:300]}


class HttpEmitter(DurableEmitter):
    """Delivers events to the API server over HTTP (see the module docstring)."""

    kind: ClassVar[str] = "http"

    def __init__(
        self,
        outbox: Outbox | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(outbox)
        self._url = url
        self._token = token
        self._timeout = timeout

    @property
    def endpoint(self) -> str:
        base = self._url if self._url is not None else conf.http_url()
        if not base:
            raise ConfigError(
                "[lineage_provider] http_url is empty: set it to the API server's base URL for emitter = http"
            )
        return base.rstrip("/") + INGEST_PATH

    def target(self) -> str:
        return "the API server"

    def deliver(self, events: list[dict[str, Any]]) -> None:
        token = self._token if self._token is not None else conf.http_token()
        body = json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode()
        request = urllib.request.Request(self.endpoint, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        deadline = budget_deadline()
        timeout = self._timeout if self._timeout is not None else budget_seconds()
        if deadline is not None:
            timeout = max(0.1, min(timeout, deadline - time.monotonic()))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
                response.read()
        except urllib.error.HTTPError as exc:
            self._refused(exc.code, _detail(exc.read()), events)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StoreError(f"POST {self.endpoint}: {reason}") from exc

    def _refused(self, code: int, body: dict[str, Any], events: list[dict[str, Any]]) -> None:
        detail = str(body.get("detail", ""))
        if code == 422 and isinstance(body.get("index"), int):
            raise InvalidEventError(
                detail.removeprefix(f"event #{body['index']}: "), field=body.get("field"), index=body["index"]
            )
        if code == 413 and len(events) == 1:
            raise InvalidEventError(f"the API server refused the event as too large: {detail}", index=0)
        if code == 413:  # the batch, not one event, is too large: send them one by one
            for event in events:
                self.deliver([event])
            return
        hint = "; check [lineage_provider] http_token" if code in (401, 403) else ""
        raise StoreError(f"POST {self.endpoint}: HTTP {code} {detail}{hint}")
