"""The durable outbox: events waiting for delivery, one file each, safe against crashes.

Layout of the outbox directory (``[lineage_provider] outbox_dir``, default
``<AIRFLOW_HOME>/lineage_outbox``)::

    pending/<event key>.json   one event waiting for delivery
    corrupt/<name>             files that could not be read, moved aside (never retried)
    dead-letter.jsonl          events the store rejected as invalid, one a line, with the reason
    .drain.lock                held by the one process draining at a time

Contract:

* :meth:`Outbox.put` writes the event to a temporary file and renames it into ``pending/``: an
  event is either whole in the outbox or not there. Once ``put`` returns, the event survives the
  death of the process (the kernel holds it); with ``sync=True`` (``[lineage_provider] durability =
  host``) the file and the directory are also fsynced, so it survives a power failure too. The
  file is named by the event's key (run id, event type, event time), so keeping the same event twice
  keeps one file.
* :meth:`Outbox.drain` hands pending events (optionally only those older than ``min_age``),
  oldest first, in batches to a ``deliver`` callable and removes each file once its batch is
  delivered. ``deliver`` raises :class:`InvalidEventError`
  (its ``index`` naming the event) for a poison event, which goes to the dead-letter file; any other
  error stops the drain and leaves the files for the next one. Delivery is idempotent in the store,
  so an event delivered twice (a crash between delivery and removal) is stored once.
* An entry that is not a regular file (a directory, a FIFO, a link), cannot be read, or whose
  content does not match its name is moved to ``corrupt/`` with one warning naming it and why; it
  never blocks or hangs the rest, and :meth:`Outbox.status` counts it as damaged before any drain.

This module imports only the standard library at import time: task processes write to the outbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from airflow_lineage_provider.core import gitstate
from airflow_lineage_provider.exceptions import InvalidEventError, LineageError

log = logging.getLogger(__name__)

BATCH = 100
_STALE_TEMP_SECONDS = 3600

Deliver = Callable[[list[dict[str, Any]]], object]
# A deliver callable with this attribute set (LineageStore.record_many) takes the ParsedEvents reading
# validated instead of the event dicts, so a drain validates each event once, not twice.
ACCEPTS_PARSED = "accepts_parsed_events"


class DrainResult:
    """What one drain did; ``busy`` is True when another process held the drain lock.

    (Plain classes rather than dataclasses in this module: a task process imports it, and building a
    dataclass costs a fresh process more than the rest of the module.)"""

    __slots__ = ("delivered", "dead", "corrupt", "remaining", "busy", "error")

    def __init__(self) -> None:
        self.delivered = self.dead = self.corrupt = self.remaining = 0
        self.busy = False
        self.error: str | None = None


class Pending:
    """One event read from the outbox (slotted, not a ``NamedTuple``: a task process imports this
    module, and defining a named tuple costs it 0.3 ms)."""

    __slots__ = ("path", "event", "parsed")

    def __init__(self, path: Path, event: dict[str, Any], parsed: Any = None) -> None:
        self.path, self.event = path, event
        self.parsed = parsed  # the ParsedEvent reading the file validated (core.events.parse_event)


class OutboxStatus(NamedTuple):
    """What the outbox holds, read without delivering anything."""

    pending: int
    oldest: datetime | None
    damaged: int


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Outbox:
    """A file-backed queue of OpenLineage events (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.pending_dir = self.path / "pending"
        self.corrupt_dir = self.path / "corrupt"
        self.dead_letter_file = self.path / "dead-letter.jsonl"

    # -- writing ----------------------------------------------------------------------------------
    def put(self, key: str, event: dict[str, Any], text: bytes | None = None, *, sync: bool = True) -> Path:
        """Keep ``event`` (whose store key is ``key``) until it is delivered; return its file.

        ``text``: the event's compact JSON when the caller has it already (the same bytes
        ``json.dumps(event, separators=(",", ":"), ensure_ascii=False)`` gives). ``sync``: fsync the
        file and the directory before returning (see the module docstring)."""
        if text is None:
            text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        queued = json.dumps(datetime.now(timezone.utc).isoformat())
        data = b'{"key":"%s","queuedAt":%s,"event":%s}' % (key.encode(), queued.encode(), text)
        final = self.pending_dir / f"{key}.json"
        temp = self.pending_dir / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:  # the first event here (a stat per event cost more than this)
            self.pending_dir.mkdir(parents=True, exist_ok=True)
            _fsync_dir(self.path)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                # File times tick in jiffies; a precise one keeps drains oldest first at any rate.
                now = time.time_ns()
                os.utime(fd, ns=(now, now))
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        if sync:
            _fsync_dir(self.pending_dir)
        return final

    def remove(self, path: Path) -> None:
        """Forget a delivered event (another process may have removed it already)."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def dead_letter(self, event: Any, reason: str, field: str | None = None) -> None:
        """Append an event that will never be accepted, with the reason, to the dead-letter file."""
        self.path.mkdir(parents=True, exist_ok=True)
        line = {
            "deadAt": datetime.now(timezone.utc).isoformat(),
            "reason": reason,
            "field": field,
            "event": event,
        }
        data = (json.dumps(line, separators=(",", ":"), ensure_ascii=True, default=repr) + "\n").encode()
        fd = os.open(self.dead_letter_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        log.warning("lineage: event rejected (%s); kept in %s", reason, self.dead_letter_file)

    # -- reading ----------------------------------------------------------------------------------
    def files(self, min_age: float = 0) -> list[Path]:
        """Pending event files, oldest first; only those kept at least ``min_age`` seconds ago."""
        try:
            entries = [e for e in os.scandir(self.pending_dir) if e.name.endswith(".json")]
        except FileNotFoundError:
            return []
        newest = time.time_ns() - int(min_age * 1e9)
        stamped = []
        for entry in entries:
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime_ns
            except FileNotFoundError:  # delivered by another process meanwhile
                continue
            if mtime <= newest:
                stamped.append((mtime, entry.name, Path(entry.path)))
        return [path for _, _, path in sorted(stamped)]

    def has_pending(self, min_age: float = 0) -> bool:
        if min_age:
            return bool(self.files(min_age))
        try:
            with os.scandir(self.pending_dir) as entries:
                return any(e.name.endswith(".json") for e in entries)
        except FileNotFoundError:
            return False

    def read(self, path: Path) -> Pending | None:
        """The event in ``path``; a damaged file is moved to ``corrupt/`` with one warning (None)."""
        pending = self._load(path)
        return pending if isinstance(pending, Pending) else None

    def _load(self, path: Path, git: gitstate.Answers | None = None) -> Pending | bool:
        """The event in ``path``, False when it is gone, True when it was damaged and set aside.

        What a task process leaves to the deliverer, on the same host, is added before the event is
        validated: whether the DAG's repository is dirty (``git``: the answers of this batch)."""
        from airflow_lineage_provider.core.events import parse_event

        try:
            raw = _read_regular(path)
        except FileNotFoundError:
            return False
        except OSError as exc:  # not a regular file, or not readable: never retried, never blocking
            return self._set_aside(path, f"{type(exc).__name__}: {exc.strerror or exc}")
        try:
            record = json.loads(raw.decode("utf-8"))
            event = record["event"]
            gitstate.complete([event], {} if git is None else git)
            parsed = parse_event(event)
            key = parsed.key
            if key != path.stem or record.get("key") != key:
                raise ValueError(f"its event does not match its name (key {key[:12]}...)")
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, InvalidEventError) as exc:
            return self._set_aside(path, f"{type(exc).__name__}: {exc}")
        return Pending(path, event, parsed)

    def _set_aside(self, path: Path, reason: str) -> bool:
        self.corrupt_dir.mkdir(parents=True, exist_ok=True)
        target = self.corrupt_dir / f"{path.name}.{time.time_ns()}"
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning(
                "lineage: outbox entry %s is damaged (%s) and cannot be moved aside (%s); skipped",
                path.name,
                " ".join(reason.split())[:300],
                exc.strerror or exc,
            )
            return True
        log.warning(
            "lineage: outbox file %s is damaged and was skipped (%s); moved to %s",
            path.name,
            " ".join(reason.split())[:300],
            target,
        )
        return True

    def status(self) -> tuple[int, datetime | None]:
        """(pending events, when the oldest of them was queued, UTC) without reading any event."""
        files = self.files()
        if not files:
            return 0, None
        try:
            oldest = files[0].stat().st_mtime
        except FileNotFoundError:
            return len(files), None
        return len(files), datetime.fromtimestamp(oldest, timezone.utc)

    def inspect(self) -> OutboxStatus:
        """Pending events, the oldest, and how many entries are damaged (not a regular file, or not
        readable), without delivering or moving anything."""
        damaged = 0
        for path in self.files():
            try:
                _read_regular(path, limit=0)
            except FileNotFoundError:
                continue
            except OSError:
                damaged += 1
        count, oldest = self.status()
        return OutboxStatus(count - damaged, oldest, damaged)

    def dead_letter_count(self) -> int:
        try:
            with open(self.dead_letter_file, "rb") as handle:
                return sum(1 for _ in handle)
        except FileNotFoundError:
            return 0

    # -- draining ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _drain_lock(self, wait: bool) -> Iterator[bool]:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / ".drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def drain(
        self,
        deliver: Deliver,
        *,
        limit: int | None = None,
        deadline: float | None = None,
        wait: bool = False,
        batch: int = BATCH,
        min_age: float = 0,
    ) -> DrainResult:
        """Deliver up to ``limit`` pending events (all by default) until ``deadline`` (monotonic).

        ``min_age`` skips events kept less than that many seconds ago: automatic drains leave alone
        the events other processes are still delivering themselves (kept ahead of delivery).
        """
        result = DrainResult()
        with self._drain_lock(wait) as locked:
            if not locked:
                result.busy = True
                result.remaining = len(self.files())
                return result
            self._clean_temp_files()
            files = self.files(min_age)
            if limit is not None:
                files = files[:limit]
            for start in range(0, len(files), batch):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if not self._drain_batch(files[start : start + batch], deliver, result):
                    break
        result.remaining = len(self.files())
        return result

    def _drain_batch(self, paths: Sequence[Path], deliver: Deliver, result: DrainResult) -> bool:
        batch: list[Pending] = []
        git: gitstate.Answers = {}  # one git status per repository and batch
        for path in paths:
            pending = self._load(path, git)
            if isinstance(pending, Pending):
                batch.append(pending)
            else:
                result.corrupt += int(pending)
        prevalidated = getattr(deliver, ACCEPTS_PARSED, False)
        while batch:
            try:
                deliver([p.parsed if prevalidated else p.event for p in batch])
            except InvalidEventError as exc:
                if exc.index is None or not 0 <= exc.index < len(batch):
                    result.error = str(exc)
                    return False
                poison = batch.pop(exc.index)
                self.dead_letter(poison.event, exc.reason, exc.field)
                self.remove(poison.path)
                result.dead += 1
                continue
            except (LineageError, OSError) as exc:  # not delivered: the events stay pending
                result.error = " ".join(f"{type(exc).__name__}: {exc}".split())
                return False
            for pending in batch:
                self.remove(pending.path)
            result.delivered += len(batch)
            batch = []
        return True

    def _clean_temp_files(self) -> None:
        """Remove temporary files left by a process killed while writing (never complete events)."""
        try:
            entries = list(os.scandir(self.pending_dir))
        except FileNotFoundError:
            return
        now = time.time()
        for entry in entries:
            if entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > _STALE_TEMP_SECONDS:
                        os.unlink(entry.path)


def _read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path`` (at most ``limit``); ``OSError`` when it is not a readable regular file.

    Opened without following links and without blocking, so a FIFO or a device never hangs a drain."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise OSError(0, f"{kind} (mode {stat.filemode(mode)})")
        if limit == 0:
            return b""
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def configured_outbox() -> Outbox:
    """The outbox at ``[lineage_provider] outbox_dir``."""
    from airflow_lineage_provider import conf

    return Outbox(conf.outbox_dir())


def outbox_status() -> tuple[int, datetime | None]:
    """(depth, oldest queued time) of the configured outbox, for ``status`` and ``doctor``."""
    return configured_outbox().status()
