"""DuckDB, in-process: files and ":memory:".

Connections of one engine are cursors of one DuckDB database instance (on ":memory:" they share
the data). DuckDB has no savepoints: they raise ``UnsupportedError``. Errors map by exception
class: constraint violations are an ``IntegrityError``; a write-write conflict between two
transactions a ``SerializationError``; a file locked by another process a ``BusyError``;
everything else an ``OperationalError``.

Commit watching: a DuckDB file is written by one process at a time (DuckDB locks it), so every
commit a connection can miss comes from the same process. The connections of every engine on
the same file share a commit counter, which each commit (and each write outside a transaction)
made through them advances; a watch compares it with what its own connection did. Writes made
on the driver's connection object directly, bypassing the engine, are not seen.

DuckDB picks index scans while it runs a query, not while planning, so :meth:`explain` runs a
SELECT (``EXPLAIN ANALYZE``) to report the indexes it really used; other statements are
explained without running them.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import duckdb

from ..errors import (
    BusyError,
    DatabaseError,
    IntegrityError,
    MultipleStatementsError,
    OperationalError,
    SerializationError,
    UnsupportedError,
)
from .base import (
    CommitWatch,
    Connection,
    Engine,
    OnConnect,
    Params,
    PlanData,
    Result,
    Row,
    quote_identifier,
    transaction_sql,
)
from .lent import keep_open

__all__ = ["DuckdbCommitWatch", "DuckdbConnection", "DuckdbEngine", "duckdb_path", "duckdb_plan",
           "translate"]

_MODES = {
    # DuckDB has one isolation level (snapshot) and takes no locks when a transaction begins.
    "deferred": "BEGIN TRANSACTION",
    "immediate": "BEGIN TRANSACTION",
    "exclusive": "BEGIN TRANSACTION",
}
_READS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "SET", "VARIABLE_SET", "TRANSACTION", "CALL",
                    "RELATION", "ANALYZE"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE_INTO"})
_RETURNS_ROWS = _WRITES | {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "RELATION", "UNKNOWN"}


def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
    """The activeq error for a DuckDB exception, by its class.

    >>> translate(duckdb.ConstraintException("Duplicate key")).__class__.__name__
    'IntegrityError'
    """
    text = str(error)
    lowered = text.lower()
    cls: type[DatabaseError] = OperationalError
    if isinstance(error, duckdb.IntegrityError):
        cls = IntegrityError
    elif isinstance(error, duckdb.TransactionException) and "conflict" in lowered:
        cls = SerializationError
    elif isinstance(error, duckdb.IOException) and "lock" in lowered:
        cls = BusyError
    if sql is not None:
        text = f"{text}\n  while running: {sql}"
    return cls(text)


def duckdb_path(url: str) -> str:
    """The file (or ":memory:") a ``duckdb:`` URL names.

    >>> duckdb_path("duckdb:///data.duckdb"), duckdb_path("duckdb:////srv/data.duckdb")
    ('data.duckdb', '/srv/data.duckdb')
    >>> duckdb_path("duckdb://:memory:"), duckdb_path("duckdb://")
    (':memory:', ':memory:')
    """
    if not url.startswith("duckdb:"):
        return url
    rest = url[len("duckdb:"):]
    if rest.startswith("///"):
        rest = rest[3:]
    elif rest.startswith("//"):
        rest = rest[2:]
    return rest or ":memory:"


class _Commits:
    """The commit counter the connections to one database share."""

    __slots__ = ("count", "lock", "__weakref__")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


_by_file: weakref.WeakValueDictionary[str, _Commits] = weakref.WeakValueDictionary()
_by_file_lock = threading.Lock()


def _commits_for(path: str) -> _Commits:
    if path == ":memory:" or path.startswith(":memory:"):
        return _Commits()
    key = os.path.realpath(path)
    with _by_file_lock:
        found = _by_file.get(key)
        if found is None:
            found = _by_file[key] = _Commits()
        return found


@lru_cache(maxsize=1024)
def _statement_types(sql: str) -> frozenset[str]:
    """The type of the one DuckDB statement in ``sql``; a second one is refused before
    anything runs (``MultipleStatementsError``), as SQLite's ``execute`` does."""
    with _parser_lock:
        statements = _parser().extract_statements(sql)
    if len(statements) > 1:
        raise MultipleStatementsError(
            f"execute() runs one statement, and this SQL holds {len(statements)}: "
            f"{sql[:60]!r}; run them one at a time")
    return frozenset(s.type.name for s in statements)


_parser_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> Any:
    return duckdb.connect(":memory:")


def _kinds(sql: str) -> frozenset[str]:
    try:
        return _statement_types(sql)
    except duckdb.Error:
        return frozenset({"UNKNOWN"})


class _Reader:
    """:attr:`DuckdbConnection.reader`: runs a compiled statement, keeps its rows and count."""

    __slots__ = ("_conn", "_rows")

    def __init__(self, conn: DuckdbConnection) -> None:
        self._conn = conn
        self._rows: list[Row] = []

    def execute(self, sql: str, params: Params = ()) -> _Reader:
        conn = self._conn
        raw = conn.raw
        raw.execute(sql, params or None)
        counted = raw.rowcount
        # A write without RETURNING reports its count as a one-row result: not rows.
        self._rows = rows = raw.fetchall() if counted < 0 else []
        kinds = _kinds(sql)
        if counted >= 0:
            conn._changes = counted
        elif kinds & _WRITES:
            conn._changes = len(rows)
        if not kinds <= _READS:
            conn._written()
        return self

    def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows


class DuckdbConnection(Connection):
    """One DuckDB connection (a cursor of the engine's database instance)."""

    product = "DuckDB"
    dialect = "duckdb"
    paramstyle = "qmark"
    has_savepoints = False
    driver_errors = (duckdb.Error,)
    _modes = _MODES

    __slots__ = ("raw", "_changes", "_in_tx", "_wrote", "_commits", "_own", "reader")

    def __init__(self, raw: duckdb.DuckDBPyConnection, commits: _Commits | None = None) -> None:
        self.raw = raw
        self._changes = 0
        self._in_tx = False
        self._wrote = False
        self._commits = commits if commits is not None else _Commits()
        self._own = 0
        self.reader = _Reader(self)

    def control(self, sql: str) -> None:
        word = sql.split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            self._control(sql)
            self._in_tx = True
            self._wrote = False
        elif sql == "COMMIT":
            self.commit()
        elif sql == "ROLLBACK":
            self.rollback()
        else:
            self.savepoint(sql)

    def executescript(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except duckdb.Error as e:
            raise translate(e, sql) from e
        self._written()

    def _written(self) -> None:
        """Note a write: counted as a commit at once outside a transaction, else at COMMIT."""
        if self._in_tx:
            self._wrote = True
            return
        commits = self._commits
        with commits.lock:
            commits.count += 1
            self._own += 1

    def execute(self, sql: str, params: Params = ()) -> Result:
        raw = self.raw
        kinds = _kinds(sql)
        try:
            raw.execute(sql, params or None)
            counted = raw.rowcount
            # A write without RETURNING reports its count as a one-row result: not rows.
            rows = raw.fetchall() if counted < 0 else []
            description = raw.description
        except duckdb.Error as e:
            raise translate(e, sql) from e
        if counted >= 0 or not kinds & _RETURNS_ROWS:
            description = None  # the count column of a write or DDL statement
        rowcount = counted
        if counted < 0 and kinds & _WRITES:
            rowcount = len(rows)  # INSERT/UPDATE/DELETE ... RETURNING
        if rowcount >= 0:
            self._changes = rowcount
        writes = not kinds <= _READS
        if writes:
            self._written()
        return Result(rows, tuple((d[0], str(d[1])) for d in description or ()), rowcount,
                      writes)

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        raw = self.raw
        try:
            rows = raw.execute(sql, params or None).fetchall()
        except duckdb.Error as e:
            raise translate(e, sql) from e
        if raw.rowcount >= 0:
            self._written()
            return []
        return rows  # type: ignore[no-any-return]

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        batch = rows if isinstance(rows, (list, tuple)) else list(rows)
        if not batch:
            return 0

        def run() -> int:
            try:
                self.raw.executemany(sql, batch)
            except duckdb.Error as e:
                raise translate(e, sql) from e
            self._written()
            return max(self.raw.rowcount, 0)

        self._changes = self._whole(run)
        return self._changes

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        # DuckDB's executemany keeps only the last statement's result.
        def run() -> list[Row]:
            returned: list[Row] = []
            raw = self.raw
            try:
                for params in rows:
                    returned.extend(raw.execute(sql, params).fetchall())
            except duckdb.Error as e:
                raise translate(e, sql) from e
            self._written()
            return returned

        done = self._whole(run)
        self._changes = len(done)
        return done

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        batch = rows if isinstance(rows, (list, tuple)) else list(rows)
        if not batch:
            return 0
        if not hasattr(self.raw, "appender"):  # DuckDB before the appender API
            names = ", ".join(quote_identifier(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})"
            return self.executemany(sql, batch)
        try:
            appender = self.raw.appender(table, columns=list(columns))
            appender.append_rows(batch)
            appender.flush()  # one statement: all rows or none
        except duckdb.Error as e:
            raise translate(e, f"append to {table}") from e
        self._written()
        self._changes = len(batch)
        return self._changes

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        if self._in_tx:
            # A second cursor would not see this transaction's writes, and another statement
            # on this one would end the result: take the rows whole, hand them out in batches.
            rows = self.fetch(sql, params)
            for start in range(0, len(rows), batch):
                yield rows[start:start + batch]
            return
        cur = self.raw.cursor()
        try:
            cur.execute(sql, params or None)
            while True:
                part = cur.fetchmany(batch)
                if not part:
                    return
                yield part
        except duckdb.Error as e:
            raise translate(e, sql) from e
        finally:
            cur.close()

    def begin(self, mode: str = "deferred") -> None:
        self._control(transaction_sql(_MODES, mode, self.dialect))
        self._in_tx = True
        self._wrote = False

    def commit(self) -> None:
        try:
            self._control("COMMIT")
        finally:
            # A failed COMMIT ends the transaction too (DuckDB rolls it back).
            self._in_tx = False
        if self._wrote:
            self._wrote = False
            self._written()

    def rollback(self) -> None:
        try:
            self._control("ROLLBACK")
        finally:
            self._in_tx = False
            self._wrote = False

    def savepoint(self, name: str) -> None:
        raise UnsupportedError("SAVEPOINT", self.dialect,
                               "DuckDB has no savepoints, so transactions cannot nest")

    def release(self, name: str) -> None:
        self.savepoint(name)

    def rollback_to(self, name: str) -> None:
        self.savepoint(name)

    def _control(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except duckdb.Error as e:
            raise translate(e, sql) from e

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    def changes(self) -> int:
        return self._changes

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        analyze = _kinds(sql) == {"SELECT"}
        text = f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) {sql}"
        try:
            found = self.raw.execute(text, params or None).fetchall()
        except duckdb.Error as e:
            raise translate(e, text) from e
        document = json.loads(found[0][-1])
        return duckdb_plan(document, analyze, self._index_names)

    def _index_names(self, table: str) -> list[tuple[str, str]]:
        """(index name, indexed expressions) of a table's declared indexes."""
        sql = "SELECT index_name, expressions FROM duckdb_indexes() WHERE table_name = ?"
        try:
            rows = self.raw.execute(sql, (table,)).fetchall()
        except duckdb.Error as e:
            raise translate(e, sql) from e
        return [(str(name), str(expressions)) for name, expressions in rows]

    def watch_commits(self, tables: Iterable[str] = ()) -> DuckdbCommitWatch:
        return DuckdbCommitWatch(self)

    translate = staticmethod(translate)

    def close(self) -> None:
        self.raw.close()


_SKIPPED = frozenset({"RESULT_COLLECTOR", "EXPLAIN_ANALYZE", "QUERY"})
_SORTS = frozenset({"ORDER_BY", "TOP_N"})


def duckdb_plan(document: Any, analyzed: bool = False,
                index_names: Any = None) -> PlanData:
    """Read DuckDB's JSON plan (``EXPLAIN (FORMAT JSON)``, with or without ANALYZE) as data.

    ``index_names(table)`` lists (name, expressions) of the table's indexes; DuckDB's plan
    says an index scan happened but not which index, so the one on a filtered column is named.

    >>> plan = duckdb_plan([{"name": "SEQ_SCAN ", "children": [],
    ...                      "extra_info": {"Table": "memory.main.t", "Type": "Sequential Scan"}}])
    >>> plan.rows, plan.full_scans
    (((1, 0, 'SEQ_SCAN t'),), ('t',))
    """
    rows: list[tuple[int, int, str]] = []
    scans: list[str] = []
    indexes: list[str] = []
    sorts: list[str] = []

    def node(item: dict[str, Any], parent: int) -> None:
        name = str(item.get("name", item.get("operator_name", "?"))).strip()
        info = item.get("extra_info") or {}
        number = parent
        if name not in _SKIPPED:
            number = len(rows) + 1
            table = str(info.get("Table", "")).rsplit(".", 1)[-1]
            rows.append((number, parent, f"{name} {table}".strip()))
            scan_type = info.get("Type")
            if table and scan_type == "Sequential Scan" and table not in scans:
                scans.append(table)
            elif table and scan_type == "Index Scan":
                index = _index_used(table, str(info.get("Filters", "")), index_names)
                if index not in indexes:
                    indexes.append(index)
            if name in _SORTS and "ORDER BY" not in sorts:
                sorts.append("ORDER BY")
        for child in item.get("children") or ():
            node(child, number)

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for entry in item:
                walk(entry)
        elif isinstance(item, dict):
            if "children" in item or "extra_info" in item:
                node(item, 0)
            else:
                for value in item.values():
                    walk(value)

    walk(document)
    return PlanData(tuple(rows), tuple(scans), tuple(indexes), tuple(sorts),
                    analyzed=analyzed, native=document)


def _index_used(table: str, filters: str, index_names: Any) -> str:
    words = set(filters.replace("(", " ").replace(")", " ").split())
    if index_names is not None:
        for name, expressions in index_names(table):
            columns = expressions.strip("[]").replace('"', "").split(", ")
            if columns and columns[0] in words:
                return name
    return f"{table}(primary key)"


class DuckdbCommitWatch(CommitWatch):
    """Commits by the other connections of this process to the same database."""

    __slots__ = ("_conn", "_seen")

    def __init__(self, conn: DuckdbConnection) -> None:
        self._conn = conn
        self._seen = conn._commits.count - conn._own

    def changed(self) -> bool:
        conn = self._conn
        others = conn._commits.count - conn._own
        if others == self._seen:
            return False
        self._seen = others
        return True

    def close(self) -> None:
        pass


class DuckdbEngine(Engine):
    """A DuckDB database file (or ":memory:") in this process.

    Args:
        url: ``duckdb:///path.duckdb``, ``duckdb://:memory:``, or a path.
        read_only: open the file read-only (several processes may do so at once).
        config: DuckDB configuration options (``threads``, ``memory_limit``, ...).
        on_connect: called once with the database's first connection; the functions and
            settings made there are shared by every connection of a DuckDB database.

    >>> engine = DuckdbEngine.open("duckdb://:memory:")
    >>> conn = engine.connect()
    >>> conn.fetch("SELECT 1 + ?", (1,))
    [(2,)]
    >>> conn.close(); engine.close()
    """

    dialect = "duckdb"
    connection_class = DuckdbConnection

    def __init__(self, path: str, *, read_only: bool = False,
                 config: dict[str, Any] | None = None,
                 on_connect: OnConnect | None = None) -> None:
        self.path = path
        self.url = f"duckdb:///{path}" if path != ":memory:" else "duckdb://:memory:"
        self.read_only = read_only
        self.config = dict(config or {})
        self.on_connect = on_connect
        self._db: duckdb.DuckDBPyConnection | None = None
        self._commits = _commits_for(path)

    @classmethod
    def open(cls, url: str, **options: Any) -> DuckdbEngine:
        engine = cls(duckdb_path(url), **options)
        try:
            engine._db = duckdb.connect(engine.path, read_only=engine.read_only,
                                        config=engine.config)
        except duckdb.Error as e:
            error = translate(e)
            raise type(error)(f"cannot open DuckDB database {engine.path!r}: {e}") from e
        if engine.on_connect is not None:
            engine.on_connect(engine._db)
        return engine

    def connect(self, configure: bool = True) -> DuckdbConnection:
        if self._db is None:
            raise OperationalError(f"the DuckDB engine for {self.path!r} is closed")
        raw = self._db.cursor()
        return DuckdbConnection(raw, self._commits)

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()


def lend(raw: duckdb.DuckDBPyConnection) -> Connection:
    """``raw`` as a connection activeq runs on without closing it."""
    return keep_open(DuckdbConnection)(raw)  # type: ignore[call-arg]
