"""The Airflow plugin: the one wiring point of airflow-lineage-provider.

Imported by every Airflow process (scheduler, dag-processor, triggerer, api-server, each task),
so it imports nothing heavy and builds nothing at import time. Airflow reads ``listeners`` and
``hook_lineage_readers`` from the plugin *instance*, so both are properties evaluated when Airflow
loads plugins: with ``[lineage_provider] disabled = True`` they are empty, no listener runs and
hook lineage stays off (unless another plugin turns it on).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

from airflow_lineage_provider import conf
from airflow_lineage_provider.exceptions import ConfigError

if TYPE_CHECKING:
    from airflow_lineage_provider.capture.listener import LineageListener
    from airflow_lineage_provider.emit.base import Emitter

log = logging.getLogger(__name__)


def _enabled() -> bool:
    """Capture is on: not ``[lineage_provider] disabled`` (a bad value turns it off, logged)."""
    try:
        return not conf.is_disabled()
    except ConfigError as exc:  # a bad value must not break plugin loading in every Airflow process
        log.error("lineage capture is off: %s", exc)
        return False


def _default_emitter() -> Emitter:
    """The emitter capture uses: chosen here, and only here. For ``direct`` and ``http`` a task only
    appends its events to the outbox, and a deliverer takes them there; a dotted class path is used
    as it is."""
    kind = conf.emitter()
    if kind in ("direct", "http"):
        from airflow_lineage_provider.emit.spool import OutboxEmitter

        return OutboxEmitter()
    from airflow_lineage_provider.emit.registry import create_emitter

    return create_emitter(kind)


def _base_path() -> str:
    """The path part of ``[api] base_url`` (``""`` when Airflow is served at the root)."""
    from urllib.parse import urlsplit

    from airflow.configuration import conf as airflow_conf

    return urlsplit(airflow_conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


@functools.cache
def get_listener() -> LineageListener:
    """The process-wide listener (both of Airflow's listener managers register this object)."""
    from airflow_lineage_provider.capture.listener import LineageListener

    return LineageListener(emitter_factory=_default_emitter)


class LineageProviderPlugin(AirflowPlugin):
    """Registers the lineage listener and the hook lineage reader, unless capture is disabled."""

    name = "airflow_lineage_provider"

    # Properties instead of the base class's list attributes keep the config read lazy; Airflow only
    # reads them from plugin instances (plugins_manager), never from the class.
    @property
    def listeners(self) -> list[Any]:  # type: ignore[override]
        return [get_listener()] if _enabled() else []

    @property
    def hook_lineage_readers(self) -> list[Any]:  # type: ignore[override]
        if not _enabled():
            return []
        from airflow_lineage_provider import compat

        return [compat.hook_lineage().HookLineageReader]

    @property
    def external_views(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The Lineage view in the Airflow UI: a Browse menu entry and a tab on every DAG's page.

        Airflow embeds each in a same-origin iframe at ``/plugin/<url_route>``."""
        href = f"{_base_path()}/lineage/ui/"
        nav = {"destination": "nav", "category": "browse", "url_route": "lineage"}
        dag = {"destination": "dag", "url_route": "dag-lineage"}
        return [
            {"name": "Lineage", "href": href, **nav},
            {"name": "Lineage", "href": href + "?dag_id={DAG_ID}", **dag},
        ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The REST API at ``/lineage`` (api-server only; imported here so tasks never load FastAPI)."""
        from airflow_lineage_provider.api.app import add_service, cached_app
        from airflow_lineage_provider.emit.deliverer import HostDelivererKeeper
        from airflow_lineage_provider.reconcile.service import Reconciler

        app = cached_app()
        add_service(app, HostDelivererKeeper.from_config)  # a deliverer process for this machine's outbox
        add_service(app, Reconciler.from_config)  # closes runs of killed task processes from Airflow's record
        return [{"app": app, "url_prefix": "/lineage", "name": "Lineage Provider API"}]
