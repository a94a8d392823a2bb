"""Tamper evidence: every raw event is chained to the one stored before it by a SHA-256 hash.

``chain_hash(n) = sha256(chain_hash(n-1) + "\\n" + canonical(event n))`` in event id order, starting
from :data:`GENESIS`. The canonical form is JSON with sorted keys, compact separators and ASCII only,
so it is the same text whether the payload comes back from SQLite's JSON or PostgreSQL's JSONB
(which reorders keys and spells ``1e+23`` as ``100000000000000000000000``): every number is written
as its normalised decimal value. Writers append while holding the one row of
``lineage_chain_head`` (a row lock on PostgreSQL, the write lock on SQLite), so concurrent writers
still build one chain; the head also records the last event, so deleting the newest rows is
detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.upserts import fetch

GENESIS = "0" * 64
_NUMBER = "\x00n:"
_EXACT = Context(prec=4000)
_BATCH = 500


def _normal(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = Decimal(repr(value) if isinstance(value, float) else value)
        return _NUMBER + str(_EXACT.normalize(number))  # NUL cannot occur in a stored string
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _number(text: str) -> str:
    return _NUMBER + str(_EXACT.normalize(Decimal(text)))


def canonical(event_key: str, payload: Any, encoded: str | None = None) -> str:
    """The text a chain hash covers: the event's key and its payload, canonically encoded.

    Equal to encoding ``_normal(payload)``, but computed in C: the payload is encoded once and
    decoded with every number turned into its normalised decimal text (JSON writes a float as its
    ``repr`` and an int as its digits, the texts ``_normal`` starts from). ``encoded``, the payload's
    text with sorted keys, compact separators and ASCII only (what validation computed), saves the
    first encoding, and when the payload holds no number it already is the canonical payload text.
    The walk remains for payloads JSON cannot encode."""
    numbers = 0

    def number(text: str) -> str:
        nonlocal numbers
        numbers += 1
        return _number(text)

    try:
        text = encoded if encoded is not None else json.dumps(payload, allow_nan=False)
        normal = json.loads(text, parse_int=number, parse_float=number)
    except (TypeError, ValueError):
        normal = _normal(payload)
        encoded = None
    if encoded is not None and not numbers:
        return f'{{"key":{json.dumps(event_key)},"payload":{encoded}}}'
    return json.dumps(
        {"key": event_key, "payload": normal},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def link(previous: str, event_key: str, payload: Any, encoded: str | None = None) -> str:
    """The chain hash of one event, given the chain hash of the event before it (``encoded``: see
    :func:`canonical`)."""
    return hashlib.sha256(f"{previous}\n{canonical(event_key, payload, encoded)}".encode()).hexdigest()


Head = tuple[int | None, str]  # (the last event's id, its chain hash)


def lock_head(conn: Connection) -> str:
    """Take the chain head for this transaction (blocks other writers); return the last hash."""
    return lock(conn)[1]


def lock(conn: Connection) -> Head:
    """:func:`lock_head`, returning the whole head: every append moves it, so a writer that finds the
    head where it left it knows no other writer appended meanwhile (``LineageStore``'s node cache)."""
    fetch(conn, "chain.lock", _lock_statement)
    found = fetch(conn, "chain.head", _head_statement)
    if not found:  # a store migrated without its head row: start it from the stored events
        return None, _rebuild_head(conn)
    last_id, last = found[0]
    return (None if last_id is None else int(last_id)), str(last)


def _rebuild_head(conn: Connection) -> str:
    row = conn.execute(select(t.Event.id, t.Event.chain_hash).order_by(t.Event.id.desc()).limit(1)).first()
    last_id, last_hash = (row.id, row.chain_hash or GENESIS) if row else (None, GENESIS)
    conn.execute(insert(t.ChainHead).values(id=1, last_event_id=last_id, last_hash=last_hash))
    return str(last_hash)


def move_head(conn: Connection, last_event_id: int, last_hash: str) -> None:
    fetch(conn, "chain.move", _move_statement, event_id=last_event_id, hash=last_hash)


def _lock_statement(_conn: Connection) -> Any:
    return update(t.ChainHead).where(t.ChainHead.id == 1).values(last_hash=t.ChainHead.last_hash)


def _head_statement(_conn: Connection) -> Any:
    return select(t.ChainHead.last_event_id, t.ChainHead.last_hash).where(t.ChainHead.id == 1)


def _move_statement(_conn: Connection) -> Any:
    return (
        update(t.ChainHead)
        .where(t.ChainHead.id == 1)
        .values(last_event_id=bindparam("event_id"), last_hash=bindparam("hash"))
    )


@dataclass(frozen=True)
class Verification:
    """The result of re-checking the chain: ``ok``, how many events were checked, the first bad one."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    first_bad_key: str | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "firstBadEventId": self.first_bad_id,
            "firstBadEventKey": self.first_bad_key,
            "problem": self.problem,
        }


def _rows(conn: Connection) -> Iterator[Any]:
    after = 0
    while True:
        rows = conn.execute(
            select(t.Event.id, t.Event.event_key, t.Event.payload, t.Event.chain_hash)
            .where(t.Event.id > after)
            .order_by(t.Event.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def verify(conn: Connection) -> Verification:
    """Recompute the chain over every stored event; report the first event whose hash does not match."""
    previous, checked, last_id = GENESIS, 0, None
    for row in _rows(conn):
        expected = link(previous, row.event_key, row.payload)
        if row.chain_hash != expected:
            what = "has no chain hash" if row.chain_hash is None else "does not match its chain hash"
            return Verification(
                False,
                checked,
                row.id,
                row.event_key,
                f"event {row.id} {what}: its content, or an event before it, was changed or removed",
            )
        previous, checked, last_id = expected, checked + 1, row.id
    head = conn.execute(select(t.ChainHead.last_event_id, t.ChainHead.last_hash)).first()
    if head is not None and (head.last_event_id != last_id or head.last_hash != previous):
        return Verification(
            False,
            checked,
            head.last_event_id,
            None,
            f"the chain head names event {head.last_event_id}, but the last stored event is {last_id}: "
            "events at the end were removed or changed",
        )
    return Verification(True, checked)


def reseal(conn: Connection) -> int:
    """Recompute the chain over the stored events after an authorised rewrite (``prune`` removes old
    events, ``erase`` scrubs a dataset out of them); return how many hashes changed.

    Holds the chain head for the transaction, so no writer appends meanwhile. ``verify`` then checks
    the resealed chain: tampering after the rewrite is still detected."""
    lock_head(conn)
    previous, last_id, changed = GENESIS, None, 0
    for row in list(_rows(conn)):
        expected = link(previous, row.event_key, row.payload)
        if row.chain_hash != expected:
            conn.execute(update(t.Event).where(t.Event.id == row.id).values(chain_hash=expected))
            changed += 1
        previous, last_id = expected, row.id
    conn.execute(
        update(t.ChainHead).where(t.ChainHead.id == 1).values(last_event_id=last_id, last_hash=previous)
    )
    return changed
