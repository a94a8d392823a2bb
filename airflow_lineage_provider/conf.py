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
    raw = _get("disabled", "False").strip().lower()
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off", ""):
        return False
    raise ConfigError(f"[{SECTION}] disabled must be a boolean, got {raw!r}")


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


def reload() -> None:
    """Forget cached values (tests and long-running processes after a config change)."""
    for accessor in (is_disabled, store_url, namespace, emit_timeout):
        accessor.cache_clear()
