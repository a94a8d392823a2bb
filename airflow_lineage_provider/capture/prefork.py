"""Capture loaded once by Celery's worker, before it forks: its task processes start with it.

A task process forked from a process that already imported capture pays none of that import. The
scheduler does it for the LocalExecutor's workers (the listener's ``on_starting``). Celery's prefork
worker never loads Airflow's plugins, so without this every task process on a Celery host imported
capture's modules itself (5-9 ms of each task).

Celery's command line loads the entry points of the group ``celery.commands`` when it starts (every
``celery`` and ``airflow celery worker`` process), and this module is one: importing it only connects
:func:`preload` to Celery's ``worker_init`` signal, which a worker sends once, in its main process,
before it starts its pool. :func:`preload` loads capture there when the worker is Airflow's (its
task module is imported) and capture is on; any other Celery application, and every other
``celery`` command, gets nothing but the connected signal. The command itself
(``celery airflow-lineage``, hidden) says whether a worker here would preload capture.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from celery import signals

from airflow_lineage_provider.capture.boundary import never_raise

log = logging.getLogger(__name__)

# Imported by Airflow's Celery application: the module that defines the task running each workload.
AIRFLOW_CELERY_TASKS = "airflow.providers.celery.executors.celery_executor_utils"


def _airflow_worker() -> bool:
    return AIRFLOW_CELERY_TASKS in sys.modules


def preload(**_: Any) -> bool:
    """In Airflow's Celery worker, before its pool starts: load capture (True when it did). Never raises:
    a problem costs the worker one warning line and its task processes import capture themselves."""
    if not _airflow_worker():
        return False
    loaded = False
    with never_raise("preloading capture in the Celery worker"):  # the worker starts whatever happens
        from airflow_lineage_provider import plugin

        if plugin.enabled():
            plugin.get_listener().preload()
            loaded = True
            log.info("lineage: capture preloaded in the Celery worker: its task processes start with it")
    return loaded


signals.worker_init.connect(preload, weak=False, dispatch_uid="airflow_lineage_provider.preload")


@click.command(name="airflow-lineage", hidden=True)
def command() -> None:
    """Whether Airflow's Celery worker on this host loads lineage capture before it forks tasks."""
    from airflow_lineage_provider import plugin

    if plugin.enabled():
        click.echo("lineage capture is on: Airflow's Celery worker loads it once, before it starts its pool")
    else:
        click.echo("lineage capture is off ([lineage_provider] disabled): nothing is preloaded")
