"""The one boundary in capture that catches every error: capture must never fail a task."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from airflow_lineage_provider.emit.budget import error_text

log = logging.getLogger("airflow_lineage_provider.capture")


@contextmanager
def never_raise(what: str, on_error: Callable[[BaseException], None] | None = None) -> Iterator[None]:
    """Run the block; an error goes to ``on_error`` or, without one, is logged as one warning line."""
    try:
        yield
    except Exception as exc:  # the capture boundary (see module docstring)
        if on_error is None:
            log.warning("lineage: %s failed: %s", what, error_text(exc))
        else:
            on_error(exc)
