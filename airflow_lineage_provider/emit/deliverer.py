"""Delivery of the outbox by a long-lived process: the other half of capture.

A task process only appends its events to the outbox (:mod:`.spool`). One *deliverer* per outbox
directory validates and delivers them, promptly: it looks at the ``pending/`` directory every
``[lineage_provider] outbox_poll_interval`` seconds (a ``stat``; a drain only when it changed) and
delivers with :meth:`Outbox.drain` — into the store (``emitter = direct``) or to the API server
(``emitter = http``, remote workers). While delivery fails (the store or the API server is down), it
retries with a growing pause of at most ``outbox_drain_interval`` seconds; the events wait in the
outbox meanwhile.

Who delivers. The deliverer of an outbox holds an exclusive ``flock`` on ``<outbox>/.deliverer.lock``
for as long as it runs, so there is exactly one:

* the **API server** keeps one running as a process of its own, at a lower CPU priority than tasks
  (:class:`HostDelivererKeeper`, wired by the plugin; a thread would hold the interpreter lock the
  execution API needs while every task waits on it); it waits for the lock while another deliverer
  holds it, and takes over when that one exits;
* on a machine where no API server delivers (a Celery worker host, a scheduler on its own host),
  the first task process (or scheduler) that writes an event and finds the lock free starts a
  **host deliverer**: ``python -m airflow_lineage_provider.emit.deliverer``, in its own session, with
  the lock already taken (the locked descriptor is passed to it, so no second one can start in the
  meantime). It exits after ``deliverer_idle_timeout`` seconds with nothing to deliver, or when its
  outbox directory is gone; the next event starts a new one.
* ``dag.test()`` and ``airflow dags test`` start none: the DAG run's end delivers what its tasks
  wrote (see the listener), and readers (the CLI) deliver what is pending before they answer.

A process says which of these it is with :func:`set_role` (the listener does, from Airflow's
``on_starting`` hook). Checking for a deliverer costs an event one ``open`` and one ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from airflow_lineage_provider.core.background import BackgroundService
from airflow_lineage_provider.emit.outbox import Deliver, DrainResult, Outbox

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore

log = logging.getLogger("airflow_lineage_provider.emit.deliverer")  # this name when run as __main__ too

MODULE = "airflow_lineage_provider.emit.deliverer"
LOCK_NAME = ".deliverer.lock"
LOG_NAME = "deliverer.log"
BACKLOG = 100  # a drain delivering this many at once is worth an info line (a recovered outage)
# A host deliverer yields the CPU to the tasks on its host: it has seconds to deliver, they have none.
NICENESS = 10

Role = Literal["task", "component"]
_role: Role | None = None
_started: list[subprocess.Popen[bytes]] = []  # host deliverers this process started (reaped when done)


def set_role(role: Role | None) -> None:
    """``task`` (a task process) or ``component`` (scheduler, triggerer, dag-processor): processes that
    start a host deliverer when none runs. None: a one-shot process (``dag.test()``), which starts none."""
    global _role
    _role = role


def role() -> Role | None:
    return _role


def _lock_path(outbox: Outbox) -> Path:
    return outbox.path / LOCK_NAME


def _try_lock(outbox: Outbox) -> int | None:
    """A descriptor holding the outbox's deliverer lock, or None when another process holds it."""
    fd = os.open(_lock_path(outbox), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _lock_if_free(outbox: Outbox) -> int | None:
    """For a long-lived deliverer: the outbox's lock (its directory made first), or None when another
    process holds it or the directory cannot be made."""
    try:
        outbox.path.mkdir(parents=True, exist_ok=True)
        return _try_lock(outbox)
    except OSError:
        return None


def notify(outbox: Outbox) -> None:
    """After an event was written: make sure a deliverer will take it (see the module docstring)."""
    if _role is not None:
        ensure_running(outbox)


def ensure_running(outbox: Outbox) -> bool:
    """Start a host deliverer for ``outbox`` unless one runs; True when this call started one."""
    try:
        fd = _try_lock(outbox)
    except OSError as exc:
        log.warning("lineage: cannot check for a deliverer of %s: %s", outbox.path, exc)
        return False
    if fd is None:
        return False
    reap()
    child = _spawn(outbox, fd)
    if child is None:
        return False
    _started.append(child)
    log.info("lineage: started a deliverer for the outbox %s", outbox.path)
    return True


def _spawn(outbox: Outbox, fd: int, parent: int | None = None) -> subprocess.Popen[bytes] | None:
    """Start a host deliverer holding the lock ``fd`` (closed here: the child keeps its copy).
    ``parent``: it delivers for as long as that process lives, not only until it is idle."""
    args = [sys.executable, "-m", MODULE, "--outbox", str(outbox.path), "--lock-fd", str(fd)]
    if parent is not None:
        args += ["--parent", str(parent)]
    try:
        # What the deliverer prints before its logging is set up (a crash at start) goes to its log.
        with open(outbox.path / LOG_NAME, "ab") as early:
            return subprocess.Popen(
                args,
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=early,
                start_new_session=True,
                cwd="/",
                env=_deliverer_environment(),
            )
    except OSError as exc:
        log.warning("lineage: cannot start a deliverer for %s: %s", outbox.path, exc)
        return None
    finally:
        os.close(fd)


def _deliverer_environment() -> dict[str, str]:
    """This process's environment for a host deliverer. A task process's environment blocks Airflow's
    metadata DB (its URL is replaced by one that cannot be parsed); the deliverer never uses that DB,
    so it starts Airflow the way a re-executed task process does: without configuring the ORM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("__AIRFLOW_SUPERVISOR")}
    env["_AIRFLOW__REEXECUTED_PROCESS"] = "1"
    return env


def reap(timeout: float = 0) -> int:
    """Collect host deliverers this process started that have exited (waiting up to ``timeout``
    seconds for each); return how many still run."""
    for child in list(_started):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout)
            _started.remove(child)
    return len(_started)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_ino


class Deliverer(BackgroundService):
    """Delivers one outbox for as long as it runs (see the module docstring).

    ``get_deliver`` builds the delivery callable on first use (the store, or the HTTP emitter);
    ``idle_exit`` (seconds) makes :meth:`serve` return after that long with nothing pending;
    ``exit_when_gone`` makes it return when the outbox directory disappears; ``alive`` makes it
    return once that says False (the process it delivers for is gone).
    """

    thread_name = "lineage: outbox deliverer"

    def __init__(
        self,
        outbox: Outbox,
        get_deliver: Callable[[], Deliver],
        *,
        poll: float = 0.2,
        retry: float = 30.0,
        idle_exit: float | None = None,
        exit_when_gone: bool = False,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        self.outbox = outbox
        self._get_deliver = get_deliver
        self._deliver: Deliver | None = None
        self._poll = poll
        self._retry = max(retry, poll)
        self._idle_exit = idle_exit
        self._exit_when_gone = exit_when_gone
        self._alive = alive
        super().__init__()
        self._failing = False
        self.delivered = 0

    # -- one drain --------------------------------------------------------------------------------
    def drain_once(self) -> bool:
        """Deliver what is pending; False when delivery failed (and should be retried later)."""
        from airflow_lineage_provider.emit.budget import error_text
        from airflow_lineage_provider.exceptions import LineageError

        try:
            if self._deliver is None:
                self._deliver = self._get_deliver()
            result = self.outbox.drain(self._deliver, wait=False)
        except (LineageError, OSError) as exc:
            return self._failed(error_text(exc), None)
        if result.error:
            return self._failed(result.error, result.remaining)
        if self._failing:
            log.warning("lineage: delivery from the outbox %s works again", self.outbox.path)
            self._failing = False
        self.delivered += result.delivered
        if result.delivered or result.dead:
            log.log(
                logging.INFO if result.dead or result.delivered >= BACKLOG else logging.DEBUG,
                "lineage: delivered %d events from the outbox (%d dead-lettered, %d left)",
                result.delivered,
                result.dead,
                result.remaining,
            )
        return True

    def _failed(self, error: str, remaining: int | None) -> bool:
        level = logging.DEBUG if self._failing else logging.WARNING
        left = "" if remaining is None else f" ({remaining} events wait in the outbox)"
        log.log(level, "lineage: delivery from the outbox %s failed: %s%s", self.outbox.path, error, left)
        self._failing = True
        return False

    # -- the loop ---------------------------------------------------------------------------------
    def serve(self, lock_fd: int | None = None) -> None:
        """Hold the deliverer lock and deliver until stopped (or idle, or the outbox is gone)."""
        fd = lock_fd
        while fd is None:
            fd = _lock_if_free(self.outbox)
            if fd is None and (self._exit_when_gone or self._stop.wait(1.0)):
                return  # a host deliverer leaves it to the one running; a stopped thread just ends
        try:
            while (fd := self._deliver_until_idle(fd)) is not None:
                pass
        finally:
            if fd is not None:
                os.close(fd)

    def _deliver_until_idle(self, fd: int) -> int | None:
        """Deliver; when idle (or stopped), give the lock up and return None, or the lock when an
        event came in meanwhile and this process took the lock again."""
        last: tuple[int, int] | None | bool = False
        retry_at = next_full = 0.0
        backoff = 0.0
        idle_since = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            seen = _signature(self.outbox.pending_dir)
            if seen is None and self._exit_when_gone and not self.outbox.path.is_dir():
                break
            if self._alive is not None and not self._alive():
                break
            if (seen != last or now >= next_full) and now >= retry_at:
                if self.drain_once():
                    last, backoff, next_full = seen, 0.0, now + self._retry
                else:
                    backoff = min(self._retry, max(self._poll, 2 * backoff or 0.5))
                    retry_at = now + backoff
            if self.outbox.has_pending():
                idle_since = now
            elif self._idle_exit is not None and now - idle_since >= self._idle_exit:
                break
            self._stop.wait(self._poll)
        os.close(fd)
        # An event written just before the lock was released found it held: look once more.
        if self._stop.is_set() or not self.outbox.has_pending():
            return None
        try:
            return _try_lock(self.outbox)
        except OSError:
            return None

    def _run(self) -> None:  # in a thread (start(), stop())
        self.serve()


class HostDelivererKeeper(BackgroundService):
    """The API server's part: one host deliverer for this machine's outbox, kept running.

    The deliverer is a process of its own (``--parent``: it lives as long as the API server), not a
    thread of the API server: validating and storing events holds the interpreter lock, and the API
    server also answers the execution API that every task process calls to start and finish, so a
    thread would make tasks wait; the process also runs at a lower CPU priority (:data:`NICENESS`)
    than the tasks of its host. While another deliverer holds the outbox's lock (a second API server
    worker, a host deliverer a task started), this one waits and takes over when it exits.
    """

    thread_name = "lineage: deliverer keeper"

    def __init__(self, outbox: Outbox, *, wait: float = 5.0) -> None:
        super().__init__()
        self.outbox = outbox
        self._wait = wait
        self._previous_role: Role | None = None
        self.child: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_config(cls, get_store: Callable[[], LineageStore]) -> HostDelivererKeeper | _Off:
        """The API server's keeper (``get_store`` is not used: the deliverer opens the configured
        store itself); off when ``outbox_drain_interval`` is 0."""
        from airflow_lineage_provider import conf
        from airflow_lineage_provider.exceptions import ConfigError

        try:
            interval = conf.outbox_drain_interval()
        except ConfigError as exc:
            log.warning("lineage: %s; the API server does not deliver the outbox", exc)
            return _Off()
        return cls(Outbox(conf.outbox_dir())) if interval > 0 else _Off()

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = _lock_if_free(self.outbox)
            child = self.child = None if fd is None else _spawn(self.outbox, fd, parent=os.getpid())
            if child is None:
                self._stop.wait(self._wait)  # another deliverer runs (or none could start): look later
                continue
            where = self.outbox.path
            log.info("lineage: the API server's deliverer of %s runs (pid %d)", where, child.pid)
            while child.poll() is None and not self._stop.wait(1.0):
                pass
            if not self._stop.is_set():
                log.warning("lineage: the deliverer of %s exited (%s)", where, child.returncode)
                self._stop.wait(1.0)

    def start(self) -> None:
        """Also marks this process long-lived while the keeper runs: the DAG-run events the API server
        sends (a run marked failed in the UI) are left to the deliverer, not delivered in the request."""
        if self._thread is None:
            self._previous_role = role()
            set_role("component")
        super().start()

    def stop(self) -> None:
        if self._thread is not None:
            set_role(self._previous_role)
        super().stop()
        child = self.child
        if child is not None and child.poll() is None:
            child.terminate()  # it finishes the batch it is storing, then exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(30)


class _Off:
    """What :meth:`HostDelivererKeeper.from_config` gives when the API server does not deliver."""

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""


def configured_deliver(timeout: float = 30.0) -> Deliver:
    """Delivery as ``[lineage_provider] emitter`` says: to the API server (http), else into the store."""
    from airflow_lineage_provider import conf

    if conf.emitter() == "http":
        from airflow_lineage_provider.emit.http import HttpEmitter

        return HttpEmitter(timeout=timeout).deliver
    from airflow_lineage_provider.store.lineagestore import LineageStore

    return LineageStore.from_airflow_config(timeout=timeout).record_many


def deliver_pending(deliver: Deliver | None = None) -> DrainResult | None:
    """Deliver what waits in the configured outbox now, from this process (None: nothing waited).

    For processes where no deliverer runs: the end of a ``dag.test()`` DAG run, and readers."""
    from airflow_lineage_provider import conf
    from airflow_lineage_provider.emit.budget import budget_seconds

    outbox = Outbox(conf.outbox_dir())
    if not outbox.has_pending():
        return None
    result = outbox.drain(deliver or configured_deliver(budget_seconds()), wait=True)
    if result.error:
        log.warning(
            "lineage: delivery failed (%s); %d events are kept in the outbox %s for the next reader, "
            "a deliverer or airflow-lineage replay",
            result.error,
            result.remaining,
            outbox.path,
        )
    return result


def _log_to(outbox: Path) -> None:
    from logging.handlers import RotatingFileHandler

    handler = RotatingFileHandler(outbox / LOG_NAME, maxBytes=1 << 20, backupCount=1, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """A host deliverer (started by :func:`ensure_running`; see the module docstring)."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__.splitlines()[0])
    parser.add_argument("--outbox", required=True, type=Path)
    parser.add_argument("--lock-fd", type=int, help="a descriptor that already holds the deliverer lock")
    parser.add_argument("--parent", type=int, help="deliver while this process lives (no idle exit)")
    args = parser.parse_args(argv)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    from airflow_lineage_provider import conf

    poll, retry, idle = (
        conf.outbox_poll_interval(),
        conf.outbox_drain_interval(),
        conf.deliverer_idle_timeout(),
    )
    _log_to(args.outbox)  # after the config was read: reading it sets up Airflow's logging
    with contextlib.suppress(ImportError):
        import setproctitle

        setproctitle.setproctitle(f"airflow-lineage deliverer {args.outbox}")
    deliverer = Deliverer(
        Outbox(args.outbox),
        configured_deliver,
        poll=poll,
        retry=retry or 30.0,
        idle_exit=None if args.parent else idle,
        exit_when_gone=True,
        alive=(lambda: os.getppid() == args.parent) if args.parent else None,
    )
    signal.signal(signal.SIGTERM, lambda *_: deliverer.stop())
    log.info("lineage: deliverer of %s started (pid %d)", args.outbox, os.getpid())
    deliverer.serve(args.lock_fd)
    log.info("lineage: deliverer of %s exits after delivering %d events", args.outbox, deliverer.delivered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
