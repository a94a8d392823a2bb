"""Collect the package's log records with a handler on its own logger.

Not pytest's caplog: Airflow reconfigures logging (dictConfig) when its configuration is first
read in a process and when dag.test() runs a task, which replaces the root handlers, caplog's too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class LineageLog(logging.Handler):
    """Records logged under ``airflow_lineage_provider``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    def debug(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.DEBUG]


@pytest.fixture
def lineage_log() -> Iterator[LineageLog]:
    handler = LineageLog()
    logger = logging.getLogger("airflow_lineage_provider")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
