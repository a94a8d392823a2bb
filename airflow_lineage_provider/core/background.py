"""One daemon thread per long-lived service (the API server's deliverer keeper, its reconciler, a
deliverer run in a thread in tests), started and stopped the same way."""

from __future__ import annotations

import threading


class BackgroundService:
    """Runs :meth:`_run` in one daemon thread from :meth:`start` to :meth:`stop`; ``_run`` returns
    once ``self._stop`` is set."""

    thread_name = "lineage: service"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _wanted(self) -> bool:
        """False: :meth:`start` starts nothing (the service is configured off)."""
        return True

    def start(self) -> None:
        if self._thread is None and self._wanted():
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
