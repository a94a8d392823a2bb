"""Dialect-aware INSERT ... ON CONFLICT statements (SQLite and PostgreSQL share the syntax), and
:func:`bulk`, which runs one for many rows straight through the DB-API cursor."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert(conn: Connection, table: Any) -> Any:
    """An ``INSERT`` that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    target: Table = table.__table__ if hasattr(table, "__table__") else table
    if conn.dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


_BUILT: dict[tuple[str, str], Any] = {}


def statement(conn: Connection, name: str, build: Callable[[Connection], Any]) -> Any:
    """The statement ``build`` makes, built once per dialect and reused: building an upsert (its
    ``excluded`` alias, its cache key) costs more than running it for a single row."""
    key = (conn.dialect.name, name)
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build(conn)
    return found


_PLAIN: dict[tuple[str, str], tuple[str, dict[str, Any], list[str] | None]] = {}


def fetch(conn: Connection, name: str, build: Callable[[Connection], Any], **params: Any) -> list[Any]:
    """Run a small statement (no expanding parameters; results of plain types: text, integers) through
    the DB-API cursor, compiled once per dialect; return its rows. A commit of one event runs a few of
    these, and SQLAlchemy's execution layer cost more than each of them."""
    key = (conn.dialect.name, name)
    found = _PLAIN.get(key)
    if found is None:
        compiled = statement(conn, name, build).compile(dialect=conn.dialect)
        order = list(compiled.positiontup or ()) if conn.dialect.paramstyle == "qmark" else None
        found = _PLAIN[key] = (compiled.string, dict(compiled.params), order)
    sql, defaults, order = found
    values = {**defaults, **params}
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(values[n] for n in order) if order is not None else values)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


_PAGE = 1000
COPY_FROM = 50  # from this many rows on, PostgreSQL takes them by COPY (a staging table for upserts)
_VALUES = re.compile(r"VALUES (\((?:[^()]|\([^()]*\))*\))")
_RETURNING = re.compile(r" RETURNING .*$", re.S)
_COMPILED: dict[tuple[str, str, tuple[str, ...]], tuple[str, str, list[tuple[str, Any]]]] = {}


def sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DateTime text (always with microseconds), formatted in C."""
    return None if value is None else value.isoformat(" ", "microseconds")


def _compiled(
    conn: Connection, name: str, build: Callable[[Connection], Any], names: tuple[str, ...]
) -> tuple[str, str, list[tuple[str, Any]]]:
    """(SQL, VALUES template or "", [(bind name, value processor)]) of a statement, compiled once."""
    key = (conn.dialect.name, name, names)
    found = _COMPILED.get(key)
    if found is None:
        compiled = statement(conn, name, build).compile(dialect=conn.dialect, column_keys=list(names))
        sql = _RETURNING.sub("", compiled.string)  # PostgreSQL's implicit RETURNING id: not wanted here
        processors: dict[str, Any] = dict(compiled._bind_processors)
        for bind_name, bind in compiled.binds.items():
            if conn.dialect.name == "sqlite" and isinstance(bind.type, DateTime):
                processors[bind_name] = sqlite_time
        template = ""
        if conn.dialect.paramstyle == "qmark":
            order = list(compiled.positiontup or ())
        else:  # pyformat: psycopg2's execute_values pages the rows into multi-row VALUES
            match = _VALUES.search(sql)
            if match is None:
                raise RuntimeError(f"{name}: no VALUES clause to page rows into: {sql}")
            template = match.group(1)
            sql = sql[: match.start(1)] + "%s" + sql[match.end(1) :]
            order = list(names)
        found = _COMPILED[key] = (sql, template, [(n, processors.get(n)) for n in order])
    return found


def bulk(
    conn: Connection,
    name: str,
    build: Callable[[Connection], Any],
    rows: Sequence[Mapping[str, Any]],
    names: Sequence[str] | None = None,
    raw: frozenset[str] = frozenset(),
) -> None:
    """Run the INSERT ``build`` makes for every row, through this connection's DB-API cursor.

    SQLAlchemy compiles the statement once (per dialect and column list) and its bind processors
    turn values into what the driver takes (JSON text; SQLite's datetime text); the rows then skip
    SQLAlchemy's per-row execution layer: ``executemany`` on SQLite, multi-row ``VALUES`` pages of
    1,000 rows on PostgreSQL. Rows are written in list order (ids follow it). Columns named in
    ``raw`` hold what the driver takes already (JSON text made by the caller): not processed."""
    if not rows:
        return
    sql, template, binds = _compiled(conn, name, build, tuple(names or rows[0]))
    if raw:
        binds = [(n, None if n in raw else p) for n, p in binds]
    values = _values(rows, binds)
    if (
        template
        and len(values) >= COPY_FROM
        and _staged_insert(conn, name, sql, template, [n for n, _ in binds], values)
    ):
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if not template:
            cursor.executemany(sql, values)
            return
        from psycopg2.extras import execute_values

        names = [n for n, _ in binds]
        execute_values(
            cursor,
            sql,
            [dict(zip(names, v, strict=True)) for v in values],
            template=template,
            page_size=_PAGE,
        )
    finally:
        cursor.close()


def _values(rows: Sequence[Mapping[str, Any]], binds: list[tuple[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as tuples in bind order, each value through its bind processor; built column by
    column with C-level ``itemgetter``/``map``/``zip`` (a per-cell Python loop cost more than the
    statement)."""
    getter = itemgetter(*(n for n, _ in binds))
    tuples: list[tuple[Any, ...]] = (
        [(getter(row),) for row in rows] if len(binds) == 1 else list(map(getter, rows))
    )
    processed = [(i, p) for i, (_, p) in enumerate(binds) if p is not None]
    if not processed:
        return tuples
    columns: list[Any] = list(zip(*tuples, strict=True))
    for i, process in processed:
        if process is sqlite_time:  # the commonest processor: a comprehension saves a call per cell
            columns[i] = [None if v is None else v.isoformat(" ", "microseconds") for v in columns[i]]
        else:
            columns[i] = list(map(process, columns[i]))
    return list(zip(*columns, strict=True))


# COPY's text format: a tab between columns, a newline between rows, \N for NULL, and in a value a
# backslash, tab, newline or carriage return written as its backslash escape.
def _copy_escape(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:  # never in JSON text (it escapes them)
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_column(values: Sequence[Any]) -> list[str]:
    """One column's values as COPY text (converted column by column: a comprehension per type)."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, str):
        return ["\\N" if v is None else _copy_escape(v) for v in values]
    if isinstance(sample, datetime):
        return ["\\N" if v is None else v.isoformat(" ") for v in values]
    if isinstance(sample, bool):
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    return ["\\N" if v is None else _copy_escape(str(v)) for v in values]


def copy_rows(conn: Connection, table: Any, rows: Sequence[Sequence[Any]], names: Sequence[str]) -> None:
    """PostgreSQL: append ``rows`` (tuples in ``names`` order, values as the driver takes them: JSON
    columns as their text) to ``table`` with one ``COPY ... FROM STDIN``, in list order (ids follow
    it). For tables where no row can conflict: COPY has no ``ON CONFLICT``."""
    if not rows:
        return
    target: Table = table.__table__ if hasattr(table, "__table__") else table
    text = _copy_text([_copy_column(column) for column in zip(*rows, strict=True)])
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY {target.name} ({', '.join(names)}) FROM STDIN", text, size=1 << 20)
    finally:
        cursor.close()


def _copy_text(columns: list[list[str]]) -> io.StringIO:
    """COPY's input: the columns' texts, a tab between cells, a newline after each row."""
    return io.StringIO("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n")


_INSERT = re.compile(r"^INSERT INTO (\S+) \(")
_BIND = re.compile(r"%\((\w+)\)s")
_STAGED: dict[tuple[str, str], tuple[str, str, str, list[str]]] = {}


def _staging(name: str, sql: str, template: str) -> tuple[str, str, str, list[str]]:
    """(CREATE of the staging table, its COPY, the INSERT from it, its columns) for a compiled
    ``INSERT ... VALUES %s ...``: the staging table has the target's columns of the statement (their
    types copied with ``WITH NO DATA``) and ``_ord``, the row's place in the list; the INSERT empties
    it as it reads it (``DELETE ... RETURNING``), in list order, with the statement's own
    ``ON CONFLICT`` clause."""
    key = (name, sql)
    found = _STAGED.get(key)
    if found is None:
        match = _INSERT.match(sql)
        columns = _BIND.findall(template)  # the INSERT's column order; binds are named by column
        if match is None or f"({', '.join(columns)}) VALUES %s" not in sql:
            raise RuntimeError(f"{name}: cannot stage rows for {sql}")
        table, listed = match.group(1), ", ".join(columns)
        stage = f"lineage_stage_{hashlib.sha1(key[1].encode()).hexdigest()[:12]}"
        create = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS "
            f"SELECT {listed}, 0::bigint AS _ord FROM {table} WITH NO DATA"
        )
        copy = f"COPY {stage} ({listed}, _ord) FROM STDIN"
        insert = f"WITH staged AS (DELETE FROM {stage} RETURNING *) " + sql.replace(
            "VALUES %s", f"SELECT {listed} FROM staged ORDER BY _ord"
        )
        found = _STAGED[key] = (create, copy, insert, columns)
    return found


_NO_TEMPORARY: set[str] = set()  # servers (their URL) where our role may not create temporary tables


def _staged_insert(
    conn: Connection, name: str, sql: str, template: str, names: list[str], values: list[tuple[Any, ...]]
) -> bool:
    """PostgreSQL: many rows of an ``INSERT ... ON CONFLICT`` through COPY into a session-local
    staging table and one ``INSERT ... SELECT`` (building a page of ``VALUES`` cost more Python, in
    psycopg2's ``mogrify`` per row, than the whole statement on the server). False, having written
    nothing, where the role lacks the ``TEMPORARY`` privilege (a hardened server): the caller then
    writes ``VALUES`` pages, as it does from then on for that server."""
    server = str(conn.engine.url)
    if server in _NO_TEMPORARY:
        return False
    create, copy, insert, columns = _staging(name, sql, template)
    position = {n: i for i, n in enumerate(names)}
    order = [position[c] for c in columns]
    cells = [_copy_column([v[i] for v in values]) for i in order]
    cells.append([str(i) for i in range(len(values))])
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if not _created(cursor, create):
            _NO_TEMPORARY.add(server)
            return False
        cursor.copy_expert(copy, _copy_text(cells), size=1 << 20)
        cursor.execute(insert)
        return True
    finally:
        cursor.close()


def _created(cursor: Any, create: str) -> bool:
    """Create the staging table (when missing) under a savepoint, so that a refusal leaves the
    transaction usable; False when the role may not create temporary tables."""
    from psycopg2.errors import InsufficientPrivilege

    cursor.execute("SAVEPOINT lineage_stage")
    try:
        cursor.execute(create)
    except InsufficientPrivilege:
        cursor.execute("ROLLBACK TO SAVEPOINT lineage_stage")
        return False
    cursor.execute("RELEASE SAVEPOINT lineage_stage")
    return True
