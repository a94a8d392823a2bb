"""The task supervisor's own per-workload duration, read from the Airflow components' logs.

``airflow.sdk.execution_time.supervisor`` logs, once per task attempt, after the task process it
forked has exited::

    2026-12-04T18:40:01.123456Z [info     ] Workload finished  [airflow.sdk...] duration=1.02 exit_code=0
    final_state=success workload_id=0193... workload_type=ExecuteTask

(console style, possibly coloured, all on one line) or the same fields as one JSON object. In the
LocalExecutor its worker processes log it into the scheduler's output; in Celery, the worker's log.
``duration`` is ``time.monotonic()`` from before the fork to after the exit: a measure that is the same
for every listener, whoever's it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MESSAGE = "Workload finished"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FIELD = re.compile(r"""(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")
_STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)")


@dataclass(frozen=True)
class Workload:
    """One finished workload: the task instance's id, seconds from fork to exit, and how it ended."""

    workload_id: str
    duration: float
    exit_code: int | None
    final_state: str | None
    logged_at: datetime | None


def parse_line(line: str) -> Workload | None:
    """The workload a log line reports as finished, or None for any other line."""
    if MESSAGE not in line:
        return None
    line = _ANSI.sub("", line).strip()
    fields: dict[str, object]
    start = line.find("{")
    if start >= 0 and line.endswith("}"):
        try:
            fields = json.loads(line[start:])
        except ValueError:
            fields = {}
        if fields.get("event") != MESSAGE:
            fields = {}
    else:
        fields = {}
    if not fields:
        fields = {k: v.strip("'\"") for k, v in _FIELD.findall(line.split(MESSAGE, 1)[1])}
        stamp = _STAMP.match(line)
        if stamp:
            fields.setdefault("timestamp", stamp.group(1))
    if "duration" not in fields or "workload_id" not in fields:
        return None
    if str(fields.get("workload_type", "ExecuteTask")) != "ExecuteTask":
        return None
    try:
        duration = float(str(fields["duration"]))
    except ValueError:
        return None
    exit_code = fields.get("exit_code")
    return Workload(
        workload_id=str(fields["workload_id"]),
        duration=duration,
        exit_code=int(str(exit_code)) if exit_code not in (None, "None") else None,
        final_state=str(fields["final_state"]) if fields.get("final_state") not in (None, "None") else None,
        logged_at=_when(fields.get("timestamp")),
    )


def _when(stamp: object) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00").replace(",", "."))
    except ValueError:
        return None


def parse(lines: Iterable[str]) -> list[Workload]:
    """Every finished workload in a log, in order (a workload logged twice counts once)."""
    found: dict[str, Workload] = {}
    for line in lines:
        workload = parse_line(line)
        if workload is not None:
            found.setdefault(workload.workload_id, workload)
    return list(found.values())


# The supervisor notices its task process's exit when ``select`` returns. When the process closes its
# sockets a moment before it can be reaped (a race it loses often), nothing is left to wake ``select``
# and it sleeps its full timeout, ``[workers] min_heartbeat_interval`` (5 s by default) for a short task,
# before it looks again: that workload's duration is one interval longer than the process lived.
EXIT_NOTICE_INTERVAL = 5.0


def less_exit_notice_wait(duration: float, interval: float = EXIT_NOTICE_INTERVAL) -> tuple[float, bool]:
    """The duration without the supervisor's late notice of the exit, and whether there was one (for a
    task that runs far less than ``interval``, as the benchmark's do)."""
    if duration >= interval:
        return duration - interval, True
    return duration, False
