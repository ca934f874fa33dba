"""activeq statements on an application's SQLAlchemy ``Connection``.

``Database.from_connection(sa_conn)`` wraps a SQLAlchemy 2 ``Connection`` (SQLite through the
standard ``sqlite3`` driver, PostgreSQL through psycopg 3). Every statement runs through
``Connection.exec_driver_sql``, so the host's event hooks, logging and transaction see it;
the dialect comes from ``conn.dialect.name``.

Transactions stay the host's. SQLAlchemy begins a transaction on a connection's first
statement and the host ends it (``conn.commit()``, or the end of ``engine.begin()``): what
activeq writes there is committed or rolled back with the rest of the host's work.
``db.transaction()`` inside the host's transaction is a savepoint (``begin_nested()``), so
an exception in it undoes only its own part; started while the host has no transaction open
it is a transaction of its own that activeq commits. A batch (``insert_many``) runs in a
savepoint too, so a failing row leaves nothing of the batch behind.

This module is imported only when a SQLAlchemy connection is lent: ``import activeq`` never
imports SQLAlchemy.
"""

from __future__ import annotations

import sqlite3 as _sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from typing import Any, ClassVar, TypeVar

import sqlalchemy
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import (
    ActiveqError,
    ArgumentTypeError,
    DatabaseError,
    OperationalError,
    UnsupportedError,
)
from ..rawsql import DML, plain_kind
from .apsw import _MODES as _SQLITE_MODES
from .apsw import sqlite_plan
from .base import Connection, Params, PlanData, Result, Row, quote_identifier
from .lent import keep_open
from .sqlite3 import Sqlite3CommitWatch, bindable, second_statement
from .sqlite3 import translate as sqlite_translate

__all__ = ["PostgresOnSqlalchemy", "SqlalchemyConnection", "SqliteOnSqlalchemy", "lend"]

_T = TypeVar("_T")
_NO_PARAMETERS = {"no_parameters": True}
_STREAM = {"stream_results": True}


class _Reader:
    """:attr:`SqlalchemyConnection.reader`: runs a compiled statement, keeps its rows."""

    __slots__ = ("_conn", "_rows")

    def __init__(self, conn: SqlalchemyConnection) -> None:
        self._conn = conn
        self._rows: list[Row] = []

    def execute(self, sql: str, params: Params = ()) -> _Reader:
        self._rows = self._conn._run(sql, params)[0]
        return self

    def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows


class SqlalchemyConnection(Connection):
    """A SQLAlchemy ``Connection`` lent by the application (see the module's notes)."""

    driver_errors = (SQLAlchemyError,)
    watches_file = False

    _mark: ClassVar[str]
    """The placeholder of the dialect's parameter style."""

    __slots__ = ("raw", "reader", "_changes", "_last", "_levels")

    def __init__(self, raw: sqlalchemy.Connection) -> None:
        self.raw = raw
        self.reader = _Reader(self)
        self._changes = 0
        self._last: Any = None
        # activeq's open levels, outermost first: SQLAlchemy transactions, each with whether
        # it was rolled back to its savepoint (then RELEASE only forgets it).
        self._levels: list[list[Any]] = []

    # statements ---------------------------------------------------------------------------
    def _bind(self, params: Params) -> Params:
        """``params`` as the driver binds them: a dict or a tuple (SQLAlchemy reads a list as
        rows for executemany)."""
        return params if isinstance(params, (tuple, dict)) else tuple(params)

    def _run(self, sql: str, params: Params) -> tuple[list[Row], int]:
        """Run one statement; its rows as tuples and its row count (-1 when not a write)."""
        bound = self._bind(params) if params else None
        try:
            # Without values the driver gets the text alone: '%' means nothing to psycopg then.
            result = self.raw.exec_driver_sql(sql, bound, execution_options=(
                None if bound else _NO_PARAMETERS))
            rows = [tuple(r) for r in result] if result.returns_rows else []
        except SQLAlchemyError as e:
            raise self._error(e, sql) from e
        self._last = result
        count = result.rowcount if not result.returns_rows or _writes(sql) else -1
        if count >= 0:
            self._changes = count
        return rows, count

    def _error(self, error: SQLAlchemyError, sql: str) -> ActiveqError:
        """The activeq error for a failed statement (a refused second statement included)."""
        return self.translate(error, sql)

    def _check_single(self, sql: str, params: Params) -> None:  # noqa: B027 (optional hook)
        """Refuse raw SQL holding more than one statement before it runs."""

    def last_changes(self) -> int:
        return self._changes

    def executescript(self, sql: str) -> None:
        for statement in self._statements(sql):
            self._run(statement, ())

    def _statements(self, script: str) -> list[str]:
        """The statements of a script, each run on its own through SQLAlchemy."""
        return [script]

    def execute(self, sql: str, params: Params = ()) -> Result:
        kind = plain_kind(sql)
        if kind is None:
            self._check_single(sql, params)
        rows, count = self._run(sql, params)
        result = self._last
        rows_changed = kind == DML if kind is not None else _writes(sql)
        description = tuple((name, None) for name in result.keys()) if result.returns_rows else ()
        writes = rows_changed or (kind is None and _first_word(sql) not in _READ_WORDS)
        return Result(rows, description, count if rows_changed else -1, writes)

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return self._run(sql, params)[0]

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        def run() -> int:
            batch = [self._bind(p) for p in rows]
            if not batch:
                return 0
            try:
                result = self.raw.exec_driver_sql(sql, batch)
            except SQLAlchemyError as e:
                raise self.translate(e, sql) from e
            return max(result.rowcount, 0)

        self._changes = self._whole(run)
        return self._changes

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        def run() -> list[Row]:
            returned: list[Row] = []
            count = 0
            for params in rows:  # sqlite3's executemany refuses statements returning rows
                got, changed = self._run(sql, params)
                returned.extend(got)
                count += max(changed, 0)
            self._changes = count
            return returned

        return self._whole(run)

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join(quote_identifier(c) for c in columns)
        marks = ", ".join(self._mark for _ in columns)
        return self.executemany(f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})",
                                rows)

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        try:
            result = self.raw.exec_driver_sql(sql, self._bind(params) if params else None,
                                              execution_options=_STREAM)
            for part in result.partitions(batch):
                yield [tuple(r) for r in part]
        except SQLAlchemyError as e:
            raise self.translate(e, sql) from e

    # transactions -------------------------------------------------------------------------
    def _control(self, sql: str) -> None:
        words = sql.upper().split()
        try:
            if words[0] == "BEGIN":
                self._begin(sql)
            elif words[0] == "SAVEPOINT":
                self._levels.append([self._nested(), False])
            elif words[0] == "COMMIT" or words[0] == "RELEASE":
                transaction, rolled_back = self._pop(sql)
                if not rolled_back:
                    transaction.commit()
            elif words[:2] == ["ROLLBACK", "TO"]:
                level = self._top(sql)
                level[0].rollback()
                level[1] = True
            elif words[0] == "ROLLBACK":
                transaction, rolled_back = self._pop(sql)
                if not rolled_back:
                    transaction.rollback()
            else:
                raise ArgumentTypeError(f"not a transaction-control statement: {sql!r}")
        except SQLAlchemyError as e:
            raise self.translate(e, sql) from e

    def _begin(self, sql: str) -> None:
        raw = self.raw
        if raw.in_transaction():
            # Inside the host's transaction: a savepoint, which the host's commit keeps.
            if sql not in self._plain_begins:
                raise UnsupportedError(f"{sql} inside the host's open transaction", self.dialect,
                                       "it runs as a savepoint of the host's transaction")
            self._levels.append([self._nested(sql), False])
            return
        transaction = raw.begin()
        self._levels.append([transaction, False])
        self._after_begin(sql)

    _plain_begins: ClassVar[tuple[str, ...]] = ()
    """The BEGIN statements that can run as a savepoint (those setting no isolation level)."""

    def _after_begin(self, sql: str) -> None:  # noqa: B027 (optional hook)
        """Make a transaction activeq began run in ``sql``'s mode."""

    def _nested(self, sql: str = "BEGIN") -> Any:
        """A savepoint inside the open transaction (``sql`` begins one where none is open)."""
        return self.raw.begin_nested()

    def _top(self, sql: str) -> list[Any]:
        if not self._levels:
            raise OperationalError(f"cannot {sql}: no transaction of activeq's is open")
        return self._levels[-1]

    def _pop(self, sql: str) -> list[Any]:
        level = self._top(sql)
        self._levels.pop()
        return level

    def _whole(self, run: Callable[[], _T]) -> _T:
        """Run ``run`` in a savepoint (or a transaction of its own): all or nothing, also
        inside the host's transaction."""
        self.begin()
        try:
            done = run()
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return done

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction()

    def changes(self) -> int:
        return self._changes

    def close(self) -> None:
        self.raw.close()


_READ_WORDS = frozenset(("SELECT", "VALUES", "EXPLAIN", "SHOW", "PRAGMA", "BEGIN", "COMMIT",
                         "END", "ROLLBACK", "SAVEPOINT", "RELEASE"))
_ROW_WORDS = frozenset(("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH"))


def _first_word(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[:1]
    return word[0].upper() if word else ""


def _writes(sql: str) -> bool:
    """Whether a statement changes rows (a write behind WITH included), by its first word."""
    return _first_word(sql) in _ROW_WORDS


class SqliteOnSqlalchemy(SqlalchemyConnection):
    """SQLite through SQLAlchemy's ``sqlite3`` (pysqlite) driver."""

    product = "SQLite"
    dialect = "sqlite"
    paramstyle = "qmark"
    has_last_id = True
    _mark = "?"
    _modes = _SQLITE_MODES
    _plain_begins = (*_SQLITE_MODES.values(), "BEGIN")
    __slots__ = ()

    @staticmethod
    def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
        return _unwrapped(error, sql, sqlite_translate)

    def _bind(self, params: Params) -> Params:
        return super()._bind(bindable(params))

    def _error(self, error: SQLAlchemyError, sql: str) -> ActiveqError:
        orig = error.orig if isinstance(error, DBAPIError) else None
        if isinstance(orig, _sqlite3.ProgrammingError) and "one statement at a time" in str(orig):
            return second_statement(sql)  # refused by the driver before anything ran
        return self.translate(error, sql)

    def _statements(self, script: str) -> list[str]:
        statements, start, end = [], 0, script.find(";")
        while end >= 0:
            if _sqlite3.complete_statement(script[start:end + 1]):
                statements.append(script[start:end + 1])
                start = end + 1
            end = script.find(";", end + 1)
        if script[start:].strip():
            statements.append(script[start:])
        return statements

    def last_id(self) -> Any:
        return self._last.lastrowid

    def _nested(self, sql: str = "BEGIN") -> Any:
        self._really_begun(sql)
        return self.raw.begin_nested()

    def _after_begin(self, sql: str) -> None:
        self._really_begun(sql)

    def _really_begun(self, sql: str = "BEGIN") -> None:
        # The sqlite3 driver begins a transaction only before INSERT, UPDATE or DELETE; a
        # SAVEPOINT outside one would start (and its RELEASE commit) a transaction of its own.
        driver = self.raw.connection.driver_connection
        if not driver.in_transaction:
            self.raw.exec_driver_sql(sql, execution_options=_NO_PARAMETERS)

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        return sqlite_plan(self.fetch(f"EXPLAIN QUERY PLAN {sql}", params))

    def watch_commits(self, tables: Iterable[str] = ()) -> Any:
        driver = self.raw.connection.driver_connection
        names = {name: file for _, name, file in driver.execute("PRAGMA database_list").fetchall()}
        return Sqlite3CommitWatch(driver, names.get("main") or ":memory:")


class PostgresOnSqlalchemy(SqlalchemyConnection):
    """PostgreSQL through SQLAlchemy's psycopg (3) driver."""

    product = "PostgreSQL"
    dialect = "postgres"
    paramstyle = "format"
    _mark = "%s"
    _plain_begins = ("BEGIN",)
    __slots__ = ()

    @staticmethod
    def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
        from .psycopg import translate  # psycopg is installed once such a connection exists

        return _unwrapped(error, sql, translate)

    def _check_single(self, sql: str, params: Params) -> None:
        from .psycopg import one_statement

        one_statement(sql, params)

    def _error(self, error: SQLAlchemyError, sql: str) -> ActiveqError:
        from .psycopg import raw_error

        orig = error.orig if isinstance(error, DBAPIError) else None
        return raw_error(orig, sql) if isinstance(orig, BaseException) else self.translate(error, sql)

    def _after_begin(self, sql: str) -> None:
        if sql != "BEGIN":  # an isolation level: the first statement of the transaction
            self.raw.exec_driver_sql(sql.replace("BEGIN", "SET TRANSACTION", 1),
                                     execution_options=_NO_PARAMETERS)

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        from .psycopg import postgres_plan

        return postgres_plan(self.fetch(f"EXPLAIN (FORMAT JSON) {sql}", params)[0][0])

    def watch_commits(self, tables: Iterable[str] = ()) -> Any:
        raise UnsupportedError("watching other sessions' commits on a SQLAlchemy connection",
                               self.dialect, "the result cache serves within this connection only")


def _unwrapped(error: BaseException, sql: str | None,
               translate: Callable[[BaseException, str | None], DatabaseError]) -> DatabaseError:
    """The activeq error for what SQLAlchemy raised: the driver's own error underneath,
    translated as on the driver's engine."""
    orig = error.orig if isinstance(error, DBAPIError) else None
    if isinstance(orig, BaseException):
        return translate(orig, sql)
    text = str(error) if sql is None else f"{error}\n  while running: {sql}"
    return OperationalError(text)


@cache
def _postgres() -> type[Connection]:
    """The PostgreSQL class with psycopg's transaction modes (psycopg imported on first use)."""
    from .psycopg import _MODES

    return keep_open(type("PostgresOnSqlalchemy", (PostgresOnSqlalchemy,),
                          {"__slots__": (), "_modes": _MODES, "__module__": __name__}))


def lend(raw: Any) -> Connection:
    """``raw``, a SQLAlchemy ``Connection``, as a connection activeq runs on without closing it."""
    if not isinstance(raw, sqlalchemy.Connection):
        raise ArgumentTypeError(
            f"Database.from_connection() takes a SQLAlchemy Connection (engine.connect()), "
            f"not {type(raw).__module__}.{type(raw).__qualname__}")
    if raw.closed:
        raise ArgumentTypeError("Database.from_connection() takes an open SQLAlchemy Connection")
    dialect, driver = raw.dialect.name, raw.dialect.driver
    if (dialect, driver) == ("sqlite", "pysqlite"):
        return keep_open(SqliteOnSqlalchemy)(raw)  # type: ignore[call-arg]
    if (dialect, driver) == ("postgresql", "psycopg"):
        return _postgres()(raw)  # type: ignore[call-arg]
    raise UnsupportedError(
        f"a SQLAlchemy connection of {dialect}+{driver}", dialect,
        "activeq runs on SQLAlchemy connections of sqlite+pysqlite and postgresql+psycopg")
