"""Digests shared by capture and the store (plain functions: no Airflow, no SQLAlchemy)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def distributions_hash(distributions: Iterable[str]) -> str:
    """The hash a list of ``name==version`` strings is recorded under (sorted, one a line)."""
    return hashlib.sha256("\n".join(sorted(distributions)).encode()).hexdigest()
