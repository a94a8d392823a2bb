"""Test DAG (airflow): a file written, changed by no task of ours, read; a table written through SQL.

``write`` writes ``features.csv`` (``CAPTURE_FILES_CONTENT``); ``tamper`` overwrites it with
``CAPTURE_FILES_TAMPER`` when set, without any lineage (someone else's change); ``read`` reads it and
writes ``summary.txt``; ``train`` reads it through the ML SDK (an input known only at COMPLETE) and
logs ``model.txt``; ``table`` writes ``CAPTURE_FILES_ROWS`` rows to a SQLite table through a hook;
``unreadable`` declares an inlet no one can read (``/proc/self/mem`` fails with EIO, even as root).
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.sdk import Asset, dag, task

from airflow_lineage_provider import ml

DIR = os.path.join(os.environ.get("AIRFLOW_HOME", "/tmp"), "capture_files")
FEATURES = os.path.join(DIR, "features.csv")
SUMMARY = os.path.join(DIR, "summary.txt")
MODEL = os.path.join(DIR, "model.txt")
UNREADABLE = "/proc/self/mem"


def _write(path: str, text: str) -> None:
    os.makedirs(DIR, exist_ok=True)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_files() -> None:
    @task(outlets=[Asset(f"file://{FEATURES}")])
    def write() -> None:
        _write(FEATURES, os.environ.get("CAPTURE_FILES_CONTENT", "id,x\n1,2\n"))

    @task
    def tamper() -> None:
        replacement = os.environ.get("CAPTURE_FILES_TAMPER")
        if replacement is not None:
            _write(FEATURES, replacement)

    @task(inlets=[Asset(f"file://{FEATURES}")], outlets=[Asset(f"file://{SUMMARY}")])
    def read() -> None:
        with open(FEATURES, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
        _write(SUMMARY, f"{len(lines)} lines\n")

    @task
    def train() -> None:
        ml.log_dataset(f"file://{FEATURES}")
        with open(FEATURES, encoding="utf-8") as stream:
            _write(MODEL, f"mean of {len(stream.read())} bytes\n")
        ml.log_model(f"file://{MODEL}", name="capture-files", framework="none")

    @task
    def table() -> None:
        hook = SqliteHook(sqlite_conn_id="capture_sqlite")
        hook.run("DROP TABLE IF EXISTS scores")
        hook.run("CREATE TABLE scores (id INTEGER, score REAL)")
        for number in range(int(os.environ.get("CAPTURE_FILES_ROWS", "3"))):
            hook.run("INSERT INTO scores VALUES (?, ?)", parameters=(number, number / 10))

    @task(inlets=[Asset(f"file://{UNREADABLE}")])
    def unreadable() -> int:
        return 1

    write() >> tamper() >> read() >> train() >> table()
    unreadable()


capture_files_dag = capture_files()
