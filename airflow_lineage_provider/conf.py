"""The only reader of Airflow configuration for this package (section ``[lineage_provider]``).

Nothing is read at import time. Values are cached per process; :func:`reload` clears the cache.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from airflow_lineage_provider.exceptions import ConfigError

SECTION = "lineage_provider"


def _airflow_conf() -> Any:
    try:  # task processes (and remote workers that only have the Task SDK)
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - core-only installs
        from airflow.configuration import conf
    return conf


def _get(option: str, fallback: str) -> str:
    value = _airflow_conf().get(SECTION, option, fallback=fallback)
    return fallback if value is None else str(value)


def airflow_home() -> str:
    return os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow")


@functools.cache
def is_disabled() -> bool:
    return _boolean("disabled", "False")


@functools.cache
def store_url() -> str:
    url = _get("store_url", "").strip()
    return url or f"sqlite:///{os.path.join(airflow_home(), 'lineage.db')}"


@functools.cache
def namespace() -> str:
    return _get("namespace", "airflow").strip() or "airflow"


@functools.cache
def emit_timeout() -> float:
    raw = _get("emit_timeout", "5.0")
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"[{SECTION}] emit_timeout must be a number of seconds, got {raw!r}") from exc
    if not 0 < value <= 600:
        raise ConfigError(f"[{SECTION}] emit_timeout must be between 0 and 600 seconds, got {value}")
    return value


def _number(option: str, fallback: str, low: float, high: float, unit: str) -> float:
    raw = _get(option, fallback)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"[{SECTION}] {option} must be a number of {unit}, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"[{SECTION}] {option} must be between {low:g} and {high:g} {unit}, got {value:g}")
    return value


@functools.cache
def emitter() -> str:
    """Where deliverers take events: ``direct`` (into the store) or ``http`` (post to the API server)."""
    value = _get("emitter", "direct").strip() or "direct"
    if value not in ("direct", "http") and "." not in value:
        raise ConfigError(f"[{SECTION}] emitter must be direct, http or a dotted class path, got {value!r}")
    return value


@functools.cache
def http_url() -> str:
    return _get("http_url", "").strip().rstrip("/")


@functools.cache
def http_token() -> str:
    return _get("http_token", "").strip()


@functools.cache
def outbox_dir() -> str:
    path = _get("outbox_dir", "").strip()
    if not path:
        return os.path.join(airflow_home(), "lineage_outbox")
    return os.path.abspath(os.path.expanduser(path))


DEFAULT_MAX_EVENT_BYTES = 1024 * 1024  # 1 MiB; provider info and the emitters' fallback read it here


@functools.cache
def max_event_bytes() -> int:
    return int(_number("max_event_bytes", str(DEFAULT_MAX_EVENT_BYTES), 1024, 4 * 1024 * 1024, "bytes"))


DEFAULT_FINGERPRINT_MAX_BYTES = 16 * 1024 * 1024  # 16 MiB


@functools.cache
def fingerprint_max_bytes() -> int:
    """Files up to this size are hashed whole; larger ones by size, time and sampled blocks."""
    return int(_number("fingerprint_max_bytes", str(DEFAULT_FINGERPRINT_MAX_BYTES), 0, 2**62, "bytes"))


@functools.cache
def fingerprint_timeout() -> float:
    """Seconds a task event may spend on fingerprints (within the capture budget; 0: none taken)."""
    return _number("fingerprint_timeout", "1.0", 0, 600, "seconds")


@functools.cache
def outbox_drain_interval() -> float:
    return _number("outbox_drain_interval", "30", 0, 86400, "seconds")


@functools.cache
def outbox_poll_interval() -> float:
    return _number("outbox_poll_interval", "0.2", 0.01, 60, "seconds")


@functools.cache
def deliverer_idle_timeout() -> float:
    return _number("deliverer_idle_timeout", "600", 1, 7 * 86400, "seconds")


def _boolean(option: str, fallback: str) -> bool:
    raw = _get(option, fallback).strip().lower()
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off", ""):
        return False
    raise ConfigError(f"[{SECTION}] {option} must be a boolean, got {raw!r}")


@functools.cache
def adjacency_index() -> int:
    """The API server's in-memory adjacency index: the most edges it is kept for, 0 when off."""
    if not _boolean("adjacency_index", "True"):
        return 0
    return int(_number("adjacency_index_max_edges", "10000000", 1, 10**10, "edges"))


@functools.cache
def reconcile_interval() -> float:
    """Seconds between the API server's reconciliation passes with Airflow's records (0: off)."""
    return _number("reconcile_interval", "60", 0, 86400, "seconds")


@functools.cache
def reconcile_grace() -> float:
    """Seconds after an attempt's end before the reconciler may record its missing events."""
    return _number("reconcile_grace", "120", 0, 86400, "seconds")


DURABILITY = ("process", "host")


@functools.cache
def durability() -> str:
    """``process`` (an event survives any process's death) or ``host`` (fsynced: a power failure too)."""
    value = _get("durability", "process").strip().lower() or "process"
    if value not in DURABILITY:
        raise ConfigError(f"[{SECTION}] durability must be process or host, got {value!r}")
    return value


@functools.cache
def retention_days() -> float:
    return _number("retention_days", "0", 0, 36500, "days")


def read_capture_settings() -> None:
    """Read, once, what a task's capture reads (for a process that forks task processes: they start
    with the values cached). A bad value is left for the task's own read to report."""
    for accessor in (
        namespace,
        emit_timeout,
        emitter,
        outbox_dir,
        max_event_bytes,
        durability,
        fingerprint_max_bytes,
        fingerprint_timeout,
    ):
        try:
            accessor()
        except ConfigError:
            pass


def reload() -> None:
    """Forget cached values (tests and long-running processes after a config change)."""
    for accessor in (
        is_disabled,
        store_url,
        namespace,
        emit_timeout,
        emitter,
        http_url,
        http_token,
        outbox_dir,
        max_event_bytes,
        fingerprint_max_bytes,
        fingerprint_timeout,
        outbox_drain_interval,
        outbox_poll_interval,
        deliverer_idle_timeout,
        durability,
        reconcile_interval,
        reconcile_grace,
        retention_days,
    ):
        accessor.cache_clear()


def swagger_ui() -> bool:
    """Airflow's ``[api] enable_swagger_ui``: whether the API's Swagger UI and ReDoc pages are served."""
    return bool(_airflow_conf().getboolean("api", "enable_swagger_ui", fallback=True))


def api_base_url() -> str:
    """Airflow's ``[api] base_url`` (where browsers reach the API server), or ``""``."""
    return str(_airflow_conf().get("api", "base_url", fallback="") or "").strip()
