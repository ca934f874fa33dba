"""SQLite through the standard library's ``sqlite3`` module, for a connection an application lends.

activeq opens its own SQLite connections with APSW; this engine exists so that an application
holding a ``sqlite3.Connection`` can run activeq on it (``Database.from_connection(conn)``).
It needs the connection in autocommit mode, ``sqlite3.connect(path, isolation_level=None)``
(or ``autocommit=True`` on Python 3.12+): the module's default opens a transaction behind the
caller's back before every INSERT, UPDATE or DELETE, and activeq begins and commits its own.

Values SQLite has no type for (dates, decimals, UUIDs, enums) are bound in activeq's stored
forms, the same text APSW connections store, without touching the module's global adapters.
Rows come back as plain tuples whatever ``row_factory`` the application set. Errors map by
SQLite result code (``sqlite_errorcode``), as on APSW.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from ..errors import (
    BusyError,
    ConfigurationError,
    DatabaseError,
    IntegrityError,
    LockedError,
    MultipleStatementsError,
    OperationalError,
)
from ..rawsql import DML, OTHER_WRITE, READ, plain_kind, refuse_second_statement
from .apsw import _DATA_VERSION, _MODES, SqliteCommitWatch, convert_binding, sqlite_plan
from .base import Connection, Params, PlanData, Result, Row, quote_identifier
from .lent import keep_open

__all__ = ["Sqlite3CommitWatch", "Sqlite3Connection", "bindable", "lend", "second_statement",
           "translate"]

_CONSTRAINT, _BUSY, _LOCKED = 19, 5, 6
_BY_CODE: dict[int, type[DatabaseError]] = {
    _CONSTRAINT: IntegrityError,
    _BUSY: BusyError,
    _LOCKED: LockedError,
}
_PLAIN = (int, float, str, bytes, type(None))
# First words of statements that read only (transaction control changes no rows either).
_READ_WORDS = frozenset(("SELECT", "VALUES", "EXPLAIN", "BEGIN", "COMMIT", "END", "ROLLBACK",
                         "SAVEPOINT", "RELEASE"))
_ROW_WORDS = frozenset(("INSERT", "UPDATE", "DELETE", "REPLACE"))


def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
    """The activeq error for a ``sqlite3`` exception, by SQLite result code.

    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> _ = conn.execute("CREATE TABLE t (x UNIQUE)"); _ = conn.execute("INSERT INTO t VALUES (1)")
    >>> try:
    ...     conn.execute("INSERT INTO t VALUES (1)")
    ... except sqlite3.Error as e:
    ...     error = translate(e)
    >>> type(error).__name__, error.result_code, error.extended_code
    ('IntegrityError', 19, 2067)
    """
    extended = getattr(error, "sqlite_errorcode", None)
    code = None if extended is None else extended & 0xFF
    if code is not None:
        cls = _BY_CODE.get(code, OperationalError)
    elif isinstance(error, sqlite3.IntegrityError):  # raised by the module itself: no code
        cls = IntegrityError
    else:
        cls = OperationalError
    text = str(error)
    if sql is not None:
        text = f"{text}\n  while running: {sql}"
    return cls(text, result_code=code, extended_code=extended)


def bindable(params: Params) -> Params:
    """``params`` with every value SQLite has no type for in its stored form (as APSW binds it).

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> bindable((1, dt.date(2020, 1, 2), Decimal("1.50")))
    (1, '2020-01-02', '1.50')
    >>> bindable({"a": dt.datetime(2020, 1, 2, 3, 4)})
    {'a': '2020-01-02 03:04:00'}
    """
    if isinstance(params, dict):
        if all(type(v) in _PLAIN for v in params.values()):
            return params
        return {k: v if type(v) in _PLAIN else convert_binding(None, i, v)
                for i, (k, v) in enumerate(params.items(), 1)}
    if all(type(v) in _PLAIN for v in params):
        return params
    return tuple(v if type(v) in _PLAIN else convert_binding(None, i, v)
                 for i, v in enumerate(params, 1))


def _statement_kind(sql: str) -> int:
    """READ, DML or OTHER_WRITE from the statement's first word; WITH counts as DML (a WITH
    that only reads changes no rows, which is what its count then says)."""
    word = sql.lstrip().split(None, 1)[:1]
    first = word[0].upper() if word else ""
    if first in _ROW_WORDS or first == "WITH":
        return DML
    if first in _READ_WORDS:
        return READ
    return OTHER_WRITE


def second_statement(sql: str) -> MultipleStatementsError:
    """The error for SQL holding more than one statement (``sqlite3`` refuses it unrun)."""
    end = sql.find(";")
    while end >= 0 and not sqlite3.complete_statement(sql[:end + 1]):
        end = sql.find(";", end + 1)
    return refuse_second_statement(sql, end + 1 if end >= 0 else len(sql))


def _execute(cur: sqlite3.Cursor, sql: str, params: Params) -> sqlite3.Cursor:
    """Run one statement on ``cur`` with its values in stored forms; driver errors pass."""
    try:
        return cur.execute(sql, bindable(params))
    except sqlite3.ProgrammingError as e:
        if "one statement at a time" in str(e):
            raise second_statement(sql) from e
        raise


class _Reader:
    """The ``reader`` of :class:`Sqlite3Connection`: one cursor, values bound in stored forms.

    ``last`` is the cursor of the latest statement the connection ran, which holds its
    row count and the rowid it inserted.
    """

    __slots__ = ("cursor", "last")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = self.last = cursor

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        cur = self.last = self.cursor
        return _execute(cur, sql, params)


class Sqlite3Connection(Connection):
    """One ``sqlite3`` connection, in autocommit mode (see the module's notes)."""

    product = "SQLite"
    dialect = "sqlite"
    paramstyle = "qmark"
    has_last_id = True
    driver_errors = (sqlite3.Error,)
    _modes = _MODES

    __slots__ = ("raw", "path", "reader", "_changes")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        names = {name: file for _, name, file in raw.execute("PRAGMA database_list").fetchall()}
        self.path = names.get("main") or ":memory:"
        self.reader = _Reader(self._cursor())
        self._changes = 0

    def _cursor(self) -> sqlite3.Cursor:
        cur = self.raw.cursor()
        cur.row_factory = None  # plain tuples, whatever the application's connection makes
        return cur

    def _run(self, cur: sqlite3.Cursor, sql: str, params: Params) -> sqlite3.Cursor:
        self.reader.last = cur
        try:
            return _execute(cur, sql, params)
        except sqlite3.Error as e:
            raise translate(e, sql) from e

    def last_changes(self) -> int:
        count = self.reader.last.rowcount
        return count if count >= 0 else 0

    def total_changes(self) -> int:
        return self.raw.total_changes

    def executescript(self, sql: str) -> None:
        try:
            self._cursor().executescript(sql)
        except sqlite3.Error as e:
            raise translate(e, sql) from e

    def execute(self, sql: str, params: Params = ()) -> Result:
        kind = plain_kind(sql)
        if kind is None:
            kind = _statement_kind(sql)
        raw = self.raw
        before = raw.total_changes
        cur = self._run(self._cursor(), sql, params)
        try:
            rows = cur.fetchall()
        except sqlite3.Error as e:
            raise translate(e, sql) from e
        description = tuple((d[0], None) for d in cur.description or ())
        rowcount = -1
        if kind == DML:
            rowcount = cur.rowcount
            if rowcount < 0:
                # A write behind WITH, which the module does not count: ask SQLite.
                moved = raw.total_changes != before
                rowcount = raw.execute("SELECT changes()").fetchone()[0] if moved else 0
            self._changes = rowcount
        return Result(rows, description, rowcount, kind != READ)

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self.reader.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise translate(e, sql) from e

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self._whole(lambda: self._many(sql, rows, False))[0]

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        return self._whole(lambda: self._many(sql, rows, True))[1]

    def _many(self, sql: str, rows: Iterable[Params], returning: bool) -> tuple[int, list[Row]]:
        raw = self.raw
        before = raw.total_changes
        returned: list[Row] = []
        if returning:
            # The module's executemany refuses statements that return rows: one at a time.
            cur = self._cursor()
            for params in rows:
                returned.extend(self._run(cur, sql, params).fetchall())
        else:
            cur = self.reader.last = self._cursor()
            try:
                cur.executemany(sql, (bindable(p) for p in rows))
            except sqlite3.Error as e:
                raise translate(e, sql) from e
        self._changes = raw.total_changes - before
        return self._changes, returned

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join(quote_identifier(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})"
        return self.executemany(sql, rows)

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        cur = self._run(self._cursor(), sql, params)
        try:
            while True:
                rows = list(islice(cur, batch))
                if not rows:
                    return
                yield rows
        except sqlite3.Error as e:
            raise translate(e, sql) from e
        finally:
            cur.close()

    def _control(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except sqlite3.Error as e:
            raise translate(e, sql) from e

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def changes(self) -> int:
        return self._changes

    def last_id(self) -> Any:
        return self.reader.last.lastrowid

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        text = f"EXPLAIN QUERY PLAN {sql}"
        return sqlite_plan(self._run(self._cursor(), text, params).fetchall())

    def watch_commits(self, tables: Iterable[str] = ()) -> SqliteCommitWatch:
        return Sqlite3CommitWatch(self.raw, self.path)

    translate = staticmethod(translate)

    def close(self) -> None:
        self.raw.close()


class Sqlite3CommitWatch(SqliteCommitWatch):
    """:class:`SqliteCommitWatch` over a ``sqlite3`` connection."""

    __slots__ = ()

    def _data_version(self) -> int:
        try:
            ((version,),) = self._conn.execute(_DATA_VERSION).fetchall()  # one row, one int
        except sqlite3.Error as e:
            raise translate(e, _DATA_VERSION) from e
        return version  # type: ignore[return-value]


def _autocommit(raw: sqlite3.Connection) -> bool:
    """Whether the connection leaves transactions to the statements it runs."""
    mode = getattr(raw, "autocommit", None)  # Python 3.12+
    if mode is True:
        return True
    if mode is False:
        return False
    return raw.isolation_level is None


def lend(raw: sqlite3.Connection) -> Connection:
    """``raw`` as a connection activeq runs on without closing it.

    activeq begins and ends its transactions itself, so the connection must be in autocommit
    mode; it is not switched behind the application's back. Converters (``detect_types``) and
    a ``text_factory`` other than ``str`` would change the values activeq reads back, so the
    latter is refused and the former must stay off.
    """
    if not _autocommit(raw):
        raise ConfigurationError(
            "Database.from_connection() needs the sqlite3 connection in autocommit mode "
            "(sqlite3.connect(path, isolation_level=None), or autocommit=True on Python 3.12+): "
            "activeq begins and commits its own transactions")
    if raw.text_factory is not str:
        raise ConfigurationError(
            "Database.from_connection() needs the sqlite3 connection's text_factory to be str "
            f"(it is {raw.text_factory!r}): activeq reads text columns as str")
    try:
        return keep_open(Sqlite3Connection)(raw)  # type: ignore[call-arg]
    except sqlite3.Error as e:
        raise translate(e, "PRAGMA database_list") from e
