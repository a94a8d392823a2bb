"""``[core] hostname_callable`` of the test Celery workers: each worker's own name, so two workers on
one machine are told apart in Airflow and in the lineage they capture."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("LINEAGE_IT_HOSTNAME") or socket.getfqdn()
