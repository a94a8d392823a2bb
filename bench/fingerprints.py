"""Fingerprint cost per task: a file of 1 MB, 100 MB and 1 GB read (START) and written (COMPLETE).

    python -m bench.capture --fingerprints 1MB,100MB,1GB --runs 5

For each size a file of random bytes is written in a temporary directory (``--home``: where; the
default is the system's temporary directory), then capture's fingerprint step
(``capture.fingerprints.add_fingerprints``) is timed on a task event that reads it and one that
writes it, as a task process does them, with the default ``fingerprint_max_bytes`` (larger files
sampled) and with a limit above the file (every byte hashed). The file was just written, so its
pages are in the page cache (as for a task that just wrote it or read it); a cold read adds the disk.
Wall and CPU time, median over ``--runs``, printed side by side with the capture budget per task.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable

UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9}
CHUNK = 1 << 22


def parse_sizes(text: str) -> list[tuple[str, int]]:
    """``1MB,100MB,1GB`` as (label, bytes); a bad size is a ``ValueError`` naming it."""
    found = []
    for part in (p.strip().upper() for p in text.split(",") if p.strip()):
        number, unit = part[:-2], part[-2:]
        if unit not in UNITS or not number.isdigit():
            raise ValueError(f"bad file size {part!r}: use a whole number and KB, MB or GB, e.g. 100MB")
        found.append((part, int(number) * UNITS[unit]))
    if not found:
        raise ValueError("no file size given: e.g. --fingerprints 1MB,100MB,1GB")
    return found


def _write(path: str, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as stream:
        left = size
        while left > 0:
            stream.write(block[: min(left, CHUNK)])
            left -= CHUNK


def _timed(work: Callable[[], None], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``work`` over ``runs`` (after one call not counted)."""
    work()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main(sizes: list[tuple[str, int]], runs: int, home: str | None) -> None:
    from airflow_lineage_provider import conf
    from airflow_lineage_provider.capture import fingerprints
    from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage
    from airflow_lineage_provider.core.fingerprints import FACET, algorithm

    default = conf.fingerprint_max_bytes()
    print(f"fingerprints: algorithm {algorithm()}, fingerprint_max_bytes default {default}")
    print("size    limit      event     wall ms   cpu ms   sampled")
    with tempfile.TemporaryDirectory(prefix="lineage-bench-files-", dir=home) as directory:
        for label, size in sizes:
            path = os.path.join(directory, f"data-{label}.bin")
            _write(path, size)
            for limit in (None, size):
                if limit is not None:
                    os.environ["AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_MAX_BYTES"] = str(limit)
                    os.environ["AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_TIMEOUT"] = "600"
                conf.reload()
                for event, side in (("START", "inputs"), ("COMPLETE", "outputs")):
                    sampled: list[bool] = []

                    def work(
                        event: str = event, side: str = side, sampled: list[bool] = sampled, path: str = path
                    ) -> None:
                        lineage = Lineage()
                        getattr(lineage, f"add_{side}")([DatasetEntry("file", path)])
                        fingerprints.add_fingerprints(lineage, event)
                        entry = next(iter(getattr(lineage, side).values()))
                        sampled.append(bool(entry.facets[FACET].get("sampled")))

                    wall, cpu = _timed(work, runs)
                    shown = "default" if limit is None else "whole"
                    line = f"{label:7s} {shown:9s}  {event:8s} {wall:8.2f} {cpu:8.2f}   {sampled[-1]}"
                    print(line, flush=True)
                os.environ.pop("AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_MAX_BYTES", None)
                os.environ.pop("AIRFLOW__LINEAGE_PROVIDER__FINGERPRINT_TIMEOUT", None)
            os.remove(path)
    conf.reload()
