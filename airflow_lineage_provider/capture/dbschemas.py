"""Schema facets of tables a DB-API hook ran SQL against, read from the database's ``information_schema``.

Imported only by a task whose hooks ran SQL on a database other than SQLite (SQLite files are read
directly, :mod:`.schemas`). For each connection the task used, one query of
``information_schema.columns`` names the columns of every table it touched, in order:

* **the hook's own connection** is used when it is still open and idle (``PostgresHook`` keeps the
  last one it made); otherwise the hook makes one, as it does for each of its own calls, and it is
  closed at once. The query goes straight to the DB-API cursor: through the hook it would be
  reported as more hook lineage. A connection whose transaction is in progress is never touched.
* **within the capture budget**: nothing is asked once the budget is spent, and on PostgreSQL the
  query's ``statement_timeout`` is what is left of it (extraction itself runs under the budget, so
  a connection that hangs costs the task nothing).
* **row counts** of the PostgreSQL tables the task wrote (their approximate fingerprint,
  :mod:`.fingerprints`) are asked in the same connection and transaction, after the columns, within
  ``fingerprint_timeout`` (its own ``statement_timeout``); a table whose schema facet came from the
  operator gets no connection, so no count.
* **cached per connection**, for the process: a table only read is not asked again; a table the
  task wrote is always read again (it may just have been created or altered). A database that
  has no ``information_schema`` is asked once, and its error recorded once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture import facets, fingerprints
from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.core.fingerprints import table_fingerprint
from airflow_lineage_provider.emit.budget import budget_deadline

Fields = list[tuple[str, str | None]]
Key = tuple[str, str]  # (namespace, dataset name)
After = Callable[[Any, list[Any]], None]  # more to ask, given the cursor and the columns found

# PostgreSQL's udt_name (int4, varchar) is what the OpenLineage provider's SQL operators report: one
# table gets one schema whichever of them captured it. Elsewhere the standard data_type.
_TYPE = {"postgres": "udt_name"}
_QUERY = (
    "SELECT table_catalog, table_schema, table_name, column_name, {type}"
    " FROM information_schema.columns WHERE table_name IN ({names})"
    " ORDER BY table_catalog, table_schema, table_name, ordinal_position"
)
_PLACEHOLDERS = ("%s", "?")
_IDLE = 0  # psycopg2's TRANSACTION_STATUS_IDLE and psycopg 3's TransactionStatus.IDLE

_cache: dict[tuple[str, str], dict[str, Fields]] = {}  # (namespace, conn id) -> dataset name -> fields
_without: set[tuple[str, str]] = set()  # connections whose database answered no information_schema


class Touched:
    """The tables one connection's SQL touched in a task: what is read, what is written."""

    __slots__ = ("hook", "dialect", "read", "written")

    def __init__(self, hook: Any, dialect: str) -> None:
        self.hook, self.dialect = hook, dialect
        self.read: set[Key] = set()
        self.written: set[Key] = set()


def connection_key(hook: Any, namespace: str) -> tuple[str, str]:
    """(namespace, connection id) of a hook: what the cache and the one query are per."""
    if hasattr(hook, "get_conn_id"):
        return namespace, str(hook.get_conn_id())
    return namespace, str(getattr(hook, str(getattr(hook, "conn_name_attr", "")), "") or "")


def add_schemas(lineage: Lineage, touched: dict[tuple[str, str], Touched]) -> None:
    """Give the datasets of ``touched`` without a schema facet their columns (one query a connection)."""
    for key, tables in touched.items():
        entries = {
            k: e
            for k in (*tables.read, *tables.written)
            if (e := lineage.outputs.get(k) or lineage.inputs.get(k)) is not None and "schema" not in e.facets
        }
        if not entries or key in _without:
            continue
        known = _cache.setdefault(key, {})
        wanted = {name for (_, name) in entries if name not in known or (key[0], name) in tables.written}
        for name in wanted:
            known.pop(name, None)  # a table written may be gone
        if wanted:
            count = _counter(lineage, key, tables)
            with never_raise("table schemas", on_error=_failed(lineage, key)):
                known.update(_read(tables.hook, tables.dialect, sorted(wanted), count))
        for (_, name), entry in entries.items():
            if known.get(name):
                entry.facets["schema"] = facets.schema(known[name])


def _failed(lineage: Lineage, key: tuple[str, str]) -> Callable[[BaseException], None]:
    """Record a failed read, and ask that connection no more (a database without information_schema)."""
    record = lineage.failed(f"table schemas of {key[0]} (connection {key[1]})")

    def failed(exc: BaseException) -> None:
        if not isinstance(exc, TimeoutError):  # a spent budget says nothing of the database
            _without.add(key)
        record(exc)

    return failed


def _parts(name: str) -> list[str]:
    return [
        part[1:-1] if part[:1] == part[-1:] == '"' and len(part) > 1 else part for part in name.split(".")
    ]


def _read(hook: Any, dialect: str, names: list[str], after: After | None = None) -> dict[str, Fields]:
    """Columns of each dataset name (``[db.][schema.]table``) found in the connection's database
    (``after``: more to ask in the same connection and transaction, given the cursor)."""
    remaining = _remaining()
    if remaining is not None and remaining <= 0:
        raise TimeoutError("the capture budget was spent before the table schemas were read")
    placeholder = getattr(hook, "placeholder", "%s")
    if placeholder not in _PLACEHOLDERS:
        raise ValueError(f"the hook's SQL placeholder {placeholder!r} is not one of {_PLACEHOLDERS}")
    wanted = {name: _parts(name) for name in names}
    tables = sorted({parts[-1] for parts in wanted.values()})
    sql = _QUERY.format(type=_TYPE.get(dialect, "data_type"), names=", ".join([placeholder] * len(tables)))
    rows = _query(hook, dialect, sql, tables, remaining, after)
    return {name: fields for name, parts in wanted.items() if (fields := _matching(rows, parts))}


def _matching(rows: list[tuple[Any, ...]], parts: list[str]) -> Fields:
    """The columns of the one table ``parts`` names: ``[catalog.][schema.]table``, or ``catalog.table``
    (a hook that names no schema) when one schema of the catalog has it; exact case before any case."""
    for fold in (lambda text: text, str.casefold):
        want = [fold(p) for p in parts]
        tables: dict[tuple[str, ...], Fields] = {}
        for catalog, schema, table, column, kind in rows:
            where = tuple(fold(str(x)) for x in (catalog, schema, table))
            if list(where[-len(want) :]) == want or (len(want) == 2 and [where[0], where[2]] == want):
                tables.setdefault(where, []).append((str(column), None if kind is None else str(kind)))
        if len(tables) == 1:
            return next(iter(tables.values()))
    return []


def _remaining() -> float | None:
    deadline = budget_deadline()
    return None if deadline is None else deadline - time.monotonic()


def _held(hook: Any) -> Any:
    """The hook's own open connection when it is idle (no transaction of the task's in progress)."""
    held = getattr(hook, "conn", None)
    if held is None or getattr(held, "closed", True):
        return None
    status = getattr(getattr(held, "info", None), "transaction_status", None)
    return held if status is not None and int(status) == _IDLE else None


def _query(
    hook: Any, dialect: str, sql: str, params: list[str], remaining: float | None, after: After | None = None
) -> list[Any]:
    held = _held(hook)
    kept = getattr(hook, "conn", None)
    conn = held if held is not None else hook.get_conn()
    try:
        cursor = conn.cursor()
        try:
            if dialect == "postgres" and remaining is not None and not getattr(conn, "autocommit", False):
                # transaction-local: it ends with the rollback below
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", (str(max(1, int(remaining * 1000))),)
                )
            cursor.execute(sql, params)
            found = list(cursor.fetchall())
            if after is not None and not getattr(conn, "autocommit", False):
                after(cursor, found)
            return found
        finally:
            cursor.close()
            if not getattr(conn, "autocommit", False):
                conn.rollback()  # the connection is left as it was found: idle
    finally:
        if held is None:
            conn.close()
            if hasattr(hook, "conn"):
                hook.conn = kept  # PostgresHook keeps the last connection made: not ours


def _quoted(name: str) -> str:
    """``schema.table`` of a ``database.schema.table`` name, each part quoted for PostgreSQL."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in _parts(name)[-2:])


def _counter(lineage: Lineage, key: tuple[str, str], tables: Touched) -> After | None:
    """What counts the rows of the PostgreSQL tables a task wrote and the schema query found, given its
    cursor and the columns it found."""
    namespace = key[0]
    written = [e for k in sorted(tables.written) if (e := lineage.outputs.get(k)) is not None]
    if tables.dialect != "postgres" or not written or conf.fingerprint_timeout() <= 0:
        return None

    def count(cursor: Any, columns: list[Any]) -> None:
        visible = [e for e in written if _matching(columns, _parts(e.name))]  # committed, ours to see
        if not visible:
            return
        what = f"row counts of {namespace} (connection {key[1]})"
        with never_raise(what, on_error=lineage.failed(what)):
            remaining, limit = _remaining(), conf.fingerprint_timeout()
            milliseconds = int(1000 * (limit if remaining is None else min(remaining, limit)))
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", (str(max(1, milliseconds)),))
            counts = ", ".join(f"(SELECT count(*) FROM {_quoted(e.name)})" for e in visible)
            cursor.execute(f"SELECT {counts}")
            for entry, rows in zip(visible, cursor.fetchone(), strict=True):
                entry.facets[fingerprints.FACET] = fingerprints.facet(table_fingerprint(int(rows)))

    return count
