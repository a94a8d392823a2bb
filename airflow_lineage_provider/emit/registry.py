"""Emitter kinds: a name (``direct``, ``http``, ``accumulating``, ``outbox``) or a dotted class path."""

from __future__ import annotations

import importlib

from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.exceptions import ConfigError

KINDS: dict[str, str] = {
    "direct": "airflow_lineage_provider.emit.direct.DirectEmitter",
    "http": "airflow_lineage_provider.emit.http.HttpEmitter",
    "accumulating": "airflow_lineage_provider.emit.memory.AccumulatingEmitter",
    "outbox": "airflow_lineage_provider.emit.spool.OutboxEmitter",
}


def create_emitter(kind: str) -> Emitter:
    """Build the emitter registered as ``kind``, or the class at the dotted path ``kind``."""
    path = KINDS.get(kind, kind)
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"unknown emitter {kind!r}: use one of {', '.join(KINDS)} or a dotted class path")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load emitter {kind!r}: {exc}") from exc
    emitter = cls()
    if not isinstance(emitter, Emitter):
        raise ConfigError(f"emitter {kind!r} ({path}) does not implement emit(event) and close()")
    return emitter
