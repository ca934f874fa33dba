"""PostgreSQL through psycopg 3, blocking and async, with psycopg_pool for pools.

Connections run in autocommit mode and transactions are begun and ended by the engine, so a
statement outside :meth:`~PsycopgConnection.begin` commits on its own, as on SQLite. Errors map
by SQLSTATE: class 23 is an ``IntegrityError``; 40001 (serialization failure) and 40P01
(deadlock) a ``SerializationError``, which a retry of the whole transaction may cure; 55P03 (lock
not available) a ``BusyError``; everything else, connection failures (class 08) included, an
``OperationalError``.

Commit watching uses LISTEN/NOTIFY. :meth:`~PsycopgConnection.watch_commits` installs, once per
table, a statement-level trigger that calls ``pg_notify('activeq_commit', 'schema.table')`` on
every INSERT, UPDATE, DELETE and TRUNCATE; PostgreSQL delivers a notification only when the
writing transaction commits (never on rollback), to every listening session of every process,
whoever wrote (activeq or not). The watch listens on a connection of its own and finds out by
reading whatever arrived on that socket, without a round trip, so checking it costs one system
call. Notifications travel asynchronously: for a short moment after another process commits
(typically well under a millisecond on one machine) the watch may not have heard of it yet.
A version table or commit timestamps would close that window at the price of a round trip per
check, which would cost as much as many of the reads a cache saves.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import select
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
import psycopg_pool
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.generators import execute as _execute
from psycopg.rows import tuple_row
from sqlglot import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from ..errors import (
    ActiveqError,
    BusyError,
    CompileError,
    ConfigurationError,
    DatabaseError,
    IntegrityError,
    MultipleStatementsError,
    OperationalError,
    SerializationError,
)
from .base import (
    AsyncConnection,
    AsyncEngine,
    CommitWatch,
    Connection,
    Engine,
    OnConnect,
    Params,
    PlanData,
    Result,
    Row,
    logger,
    quote_identifier,
    transaction_sql,
)
from .bridge import BridgeEngine
from .lent import keep_open
from .urls import is_url, password_in, redact

__all__ = [
    "AsyncPsycopgConnection",
    "AsyncPsycopgEngine",
    "PostgresCommitWatch",
    "PsycopgConnection",
    "PsycopgEngine",
    "postgres_plan",
    "translate",
]

CHANNEL = "activeq_commit"
"""The LISTEN/NOTIFY channel commits are announced on."""
TRIGGER = "activeq_commit"
"""The name of the statement trigger that announces commits to a table."""
NOTIFY_FUNCTION = "activeq_notify_commit"

_NOTIFY_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
    RETURN NULL;
END
$$"""
_HAS_FUNCTION = f"SELECT to_regprocedure('{NOTIFY_FUNCTION}()') IS NOT NULL"
_HAS_TRIGGER = "SELECT to_regclass(%s)::oid, EXISTS (SELECT 1 FROM pg_trigger " \
               "WHERE tgrelid = to_regclass(%s) AND tgname = %s)"

_MODES = {
    # SQLite's locking modes: PostgreSQL takes row locks as it writes, so all three are BEGIN.
    "deferred": "BEGIN",
    "immediate": "BEGIN",
    "exclusive": "BEGIN",
    "read committed": "BEGIN ISOLATION LEVEL READ COMMITTED",
    "repeatable read": "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "serializable": "BEGIN ISOLATION LEVEL SERIALIZABLE",
}
_WRITE_TAGS = ("INSERT", "UPDATE", "DELETE", "MERGE")
_READ_TAGS = ("SELECT", "SHOW", "EXPLAIN", "FETCH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
              "RELEASE", "LISTEN", "VALUES")
_IDLE = pq.TransactionStatus.IDLE
_WHITESPACE = re.compile(r"\s")
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TEXT = pq.Format.TEXT
_BINARY = pq.Format.BINARY
_WRITE_TAGS_B = tuple(tag.encode() for tag in _WRITE_TAGS)


def error_class(sqlstate: str | None) -> type[DatabaseError]:
    """The activeq class for a SQLSTATE.

    >>> error_class("23505").__name__, error_class("40P01").__name__, error_class("08006").__name__
    ('IntegrityError', 'SerializationError', 'OperationalError')
    """
    if sqlstate is None:
        return OperationalError
    if sqlstate.startswith("23"):
        return IntegrityError
    if sqlstate in ("40001", "40P01"):
        return SerializationError
    if sqlstate == "55P03":
        return BusyError
    return OperationalError


def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
    """The activeq error for a psycopg exception, by SQLSTATE.

    >>> from psycopg import errors
    >>> e = translate(errors.UniqueViolation("duplicate key"))
    >>> type(e).__name__, e.sqlstate
    ('IntegrityError', '23505')
    """
    state = getattr(error, "sqlstate", None)
    text = str(error).strip()
    if sql is not None:
        text = f"{text}\n  while running: {sql}"
    return error_class(state)(text, sqlstate=state)


_POSTGRES = Dialect.get_or_raise("postgres")


def one_statement(sql: str, params: Params) -> tuple[str, Params | None]:
    """``sql`` and its parameters after checking the text holds one statement.

    With parameters psycopg uses the extended protocol, where the server refuses a second
    statement itself. Without, it sends the text through the simple query protocol, which
    runs every statement in it: then the text is read with sqlglot's PostgreSQL tokenizer
    (dollar quotes, comments, strings) and a statement after a ``;`` is refused.
    """
    if params:
        return sql, params
    try:
        tokens = _POSTGRES.tokenize(sql)
    except SqlglotError as e:
        raise CompileError(f"cannot read this SQL to check it is one statement: {e}") from None
    ended = False
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            ended = True
        elif ended:
            raise MultipleStatementsError(
                f"execute() runs one statement, and this SQL holds another: {sql[:60]!r}; "
                "run them one at a time")
    return sql, None


def raw_error(error: BaseException, sql: str) -> ActiveqError:
    """``translate`` for a raw statement: the server's refusal of a second statement is a
    ``MultipleStatementsError``."""
    if getattr(error, "sqlstate", None) == "42601" and "multiple commands" in str(error):
        return MultipleStatementsError(
            f"execute() runs one statement, and this SQL holds more: {sql[:60]!r}; run them "
            "one at a time")
    return translate(error, sql)


class _Target:
    """Where a URL or conninfo string points, for connecting and for messages."""

    __slots__ = ("conninfo", "host", "port", "dbname", "user", "password", "url")

    def __init__(self, url: str, connect_timeout: float | None) -> None:
        if is_url(url) and _WHITESPACE.search(url):
            # Whether libpq refuses a space in a URL depends on its version (the one psycopg 3.2
            # ships takes it into the password), and a tab or a newline it takes at every
            # version: refusing here gives one answer everywhere, and names no password.
            raise OperationalError(f"not a PostgreSQL URL: {redact(url)}: it holds whitespace; "
                                   "percent-encode it (a space is %20)") from None
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as e:
            # The driver's message may quote any part of the string, the password included.
            text = str(e).strip()
            for secret in password_in(url):
                text = text.replace(secret, "***")
            raise OperationalError(f"not a PostgreSQL URL: {redact(url)}: {text}") from None
        if connect_timeout is not None and "connect_timeout" not in params:
            params["connect_timeout"] = max(1, int(connect_timeout))
        self.conninfo = make_conninfo("", **params)
        self.host = str(params.get("host") or params.get("hostaddr") or "localhost")
        self.port = str(params.get("port") or "5432")
        self.dbname = str(params.get("dbname") or params.get("user") or "")
        self.user = str(params.get("user") or "")
        self.password = str(params.get("password") or "")
        user = f"{self.user}@" if self.user else ""
        self.url = f"postgresql://{user}{self.host}:{self.port}/{self.dbname}"

    def open_error(self, error: BaseException) -> OperationalError:
        text = str(error).strip()
        if self.password:
            text = text.replace(self.password, "***")
        return OperationalError(
            f"cannot connect to PostgreSQL at {self.host}:{self.port} "
            f"(database {self.dbname!r}, user {self.user!r}): {text}",
            sqlstate=getattr(error, "sqlstate", None))


def _conninfo_of(raw: Any) -> str:
    """A conninfo string reaching the same server as an open connection (password included)."""
    info = raw.info
    return make_conninfo(info.dsn, password=info.password or None)


def _description(cur: Any) -> tuple[tuple[str, str | None], ...]:
    columns = cur.description
    if columns is None:
        return ()
    return tuple((c.name, getattr(c, "type_display", None)) for c in columns)


def _rowcount(cur: Any) -> int:
    status = cur.statusmessage or ""
    return int(cur.rowcount) if status.startswith(_WRITE_TAGS) else -1


def _forget_prepared(raw: Any, status: str) -> None:
    """After a DEALLOCATE or DISCARD the caller ran, clear psycopg's map of the statements it
    prepared, which the server may no longer have. Recent psycopg clears it after DEALLOCATE
    ALL and DISCARD ALL, but not after DEALLOCATE of one name; older releases (3.2.1) after
    neither, and went on running the statements by name, which failed."""
    if status.startswith(("DEALLOCATE", "DISCARD")):
        prepared = getattr(raw, "_prepared", None)
        if prepared is not None:
            prepared.clear()


def _has_rows(cur: Any) -> bool:
    result = cur.pgresult
    return result is not None and result.status == _TUPLES_OK


def _copy_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(quote_identifier(c) for c in columns)
    return f"COPY {quote_identifier(table)} ({names}) FROM STDIN"


def _no_transaction(sql: str) -> OperationalError:
    # PostgreSQL only warns; SQLite and DuckDB refuse, and so does every engine here.
    return OperationalError(f"cannot {sql}: no transaction is open\n  while running: {sql}")


def _commit_failed() -> OperationalError:
    return OperationalError("COMMIT rolled the transaction back: a statement in it had failed, "
                            "so nothing of it was saved")


def postgres_plan(document: Any) -> PlanData:
    """Read the output of ``EXPLAIN (FORMAT JSON)`` as data.

    >>> plan = postgres_plan([{"Plan": {"Node Type": "Sort", "Plans": [
    ...     {"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "t"}]}}])
    >>> plan.rows, plan.full_scans, plan.sorts
    (((1, 0, 'Sort'), (2, 1, 'Seq Scan on t')), ('t',), ('ORDER BY',))
    """
    rows: list[tuple[int, int, str]] = []
    scans: list[str] = []
    indexes: list[str] = []
    sorts: list[str] = []
    numbers = itertools.count(1)

    def walk(node: dict[str, Any], parent: int, parent_kind: str) -> None:
        number = next(numbers)
        kind = str(node.get("Node Type", "?"))
        relation = node.get("Relation Name")
        index = node.get("Index Name")
        detail = kind
        if index:
            detail += f" using {index}"
            if index not in indexes:
                indexes.append(index)
        if relation:
            alias = node.get("Alias")
            detail += f" on {relation}" + (f" {alias}" if alias and alias != relation else "")
            if kind.endswith("Seq Scan") and relation not in scans:
                scans.append(relation)
        if kind in ("Sort", "Incremental Sort"):
            what = {"Aggregate": "GROUP BY", "Unique": "DISTINCT"}.get(parent_kind, "ORDER BY")
            if what not in sorts:
                sorts.append(what)
        rows.append((number, parent, detail))
        for child in node.get("Plans", ()):
            walk(child, number, kind)

    for entry in document:
        walk(entry["Plan"], 0, "")
    return PlanData(tuple(rows), tuple(scans), tuple(indexes), tuple(sorts), native=document)


class PostgresCommitWatch(CommitWatch):
    """Hears the commit notifications of other sessions on a listening connection of its own.

    Notifications from ``own_pid`` (the backend of the connection that asked for the watch)
    are ignored: a session knows what it committed itself.
    """

    __slots__ = ("_listener", "_pg", "_own_pid")

    def __init__(self, listener: Any, own_pid: int) -> None:
        self._listener = listener
        self._pg = listener.pgconn
        self._own_pid = own_pid

    def changed(self) -> bool:
        pg = self._pg
        try:
            pg.consume_input()  # reads what has arrived; libpq's socket never blocks here
        except psycopg.Error as e:
            raise translate(e, f"LISTEN {CHANNEL}") from e
        seen = False
        while (note := pg.notifies()) is not None:
            if note.be_pid != self._own_pid:
                seen = True
        return seen

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.changed():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self._pg.socket], [], [], left)
        return True

    def close(self) -> None:
        # finish() is what psycopg's close() does; it also needs no event loop for an async one.
        if self._pg.status != pq.ConnStatus.BAD:
            self._pg.finish()


def _trigger_statements(table: str) -> str:
    return (f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {quote_identifier(table)} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {NOTIFY_FUNCTION}()")


class _Reader:
    """:attr:`PsycopgConnection.reader`: runs a compiled statement, keeps its rows and count.

    A statement psycopg has already prepared on this connection runs on a shorter path: the
    query is converted and its values dumped as the cursor does (same transformer, so the same
    adapters and text result format), then the prepared statement is sent and awaited with the
    connection's own ``wait`` (which cancels the query on Ctrl-C). The cursor's bookkeeping of
    results and of each result's state is left out. Everything else (a statement run before
    psycopg prepares it, psycopg's prepared-statement cache turned off, a pipeline, a row
    factory other than tuples) goes through the cursor, which also keeps psycopg's cache of
    prepared statements up to date: the short path only reads it.
    """

    __slots__ = ("_conn", "_cursor", "_rows", "_raw", "_names", "_sql", "_tx", "_formats",
                 "_plan")

    def __init__(self, conn: PsycopgConnection) -> None:
        self._conn = conn
        self._raw = raw = conn.raw
        self._cursor = cur = raw.cursor()
        self._rows: list[Row] = []
        self._names = _prepared_names(raw, cur)
        self._sql: str | None = None
        self._tx: Any = None
        self._formats: dict[Any, pq.Format] = {}
        self._plan: tuple[bytes, Any, int] | None = None

    def execute(self, sql: str, params: Params = ()) -> _Reader:
        cur = self._cursor
        names = self._names
        if names and params:
            plan = self._plan
            if sql is self._sql and plan is not None and len(params) == plan[2] \
                    and type(params) in _SEQUENCES:
                # The statement run last, again: its text converted then (placeholders to
                # $n) stands; only the values are dumped, as PostgresQuery.dump does.
                tx = self._tx
                dumped = tx.dump_sequence(params, plan[1])
                key = (plan[0], tx.types or ())
                formats = tx.formats
            else:
                if sql is not self._sql:
                    # A transformer per statement text, as the cursor keeps one per query.
                    self._tx = Transformer(cur)
                    self._sql = sql
                pgq = cur._query_cls(self._tx)
                pgq.convert(sql, params)
                self._plan = _plan_of(pgq)
                dumped = pgq.params
                key = (pgq.query, pgq.types)
                formats = pgq.formats
            name = names.get(key)
            if name is not None and self._raw._pipeline is None and \
                    cur._row_factory is tuple_row:
                return self._run_prepared(cur, dumped, formats, key, name)
        cur.execute(sql, params or None)
        self._rows = cur.fetchall() if _has_rows(cur) else []
        rowcount = _rowcount(cur)
        if rowcount >= 0:
            self._conn._changes = rowcount
        return self

    def _run_prepared(self, cur: Any, params: Any, formats: Any, key: Any,
                      name: bytes) -> _Reader:
        raw = self._raw
        fmt = self._formats.get(key)
        with raw.lock:
            pgconn = raw.pgconn
            pgconn.send_query_prepared(name, params, param_formats=formats,
                                       result_format=_TEXT if fmt is None else fmt)
            # The least recently run statement is the one psycopg deallocates first.
            self._names.move_to_end(key)
            results = raw.wait(_execute(pgconn))
        if len(results) != 1:
            raise psycopg.InternalError(f"{len(results)} results for one statement")
        result = results[0]
        status = result.status
        if status == _TUPLES_OK:
            tx = self._tx
            tx.set_pgresult(result)
            rows = self._rows = tx.load_rows(0, result.ntuples, tuple)
            count = len(rows)
            if fmt is None:
                self._formats[key] = _result_format(result, raw.adapters)
        elif status == _COMMAND_OK:
            self._rows = []
            count = result.command_tuples
            if count is None:
                count = -1
        else:
            cur._raise_for_result(result)
        if result.command_status.startswith(_WRITE_TAGS_B):
            self._conn._changes = count
        return self

    def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows


# Types whose binary form psycopg's default loaders turn into the very value its text loaders
# give (a float4 would not: its text is rounded to the digits a float4 holds).
_SAME_IN_BINARY = frozenset(psycopg.postgres.types[name].oid for name in (
    "int2", "int4", "int8", "oid", "text", "varchar", "bpchar", "name", "bool", "float8",
    "bytea"))


def _result_format(result: Any, adapters: Any) -> pq.Format:
    """The format a prepared statement's rows are read in from its next run on: binary when
    every column has a type of ``_SAME_IN_BINARY`` and the connection loads it with psycopg's
    default loaders (none replaced by the application), else text. Ints decode faster from
    binary; the values are the same."""
    defaults = psycopg.postgres.adapters
    for i in range(result.nfields):
        oid = result.ftype(i)
        if oid not in _SAME_IN_BINARY:
            return _TEXT
        for fmt in (_TEXT, _BINARY):
            if adapters.get_loader(oid, fmt) is not defaults.get_loader(oid, fmt):
                return _TEXT
    return _BINARY


_SEQUENCES = (tuple, list)


def _plan_of(pgq: Any) -> tuple[bytes, Any, int] | None:
    """What a converted query keeps for its statement's next run: the query text in
    PostgreSQL's form, the formats its values are dumped in and their number. None for named
    placeholders (values reordered from a mapping), or when this psycopg keeps them
    elsewhere: such statements are converted on every run."""
    formats = getattr(pgq, "_want_formats", None)
    parts = getattr(pgq, "_parts", None)
    if formats is None or parts is None or getattr(pgq, "_order", True) is not None:
        return None
    return pgq.query, formats, len(parts) - 1


def _prepared_names(raw: Any, cur: Any) -> Any:
    """psycopg's map of the statements it prepared on ``raw`` (``(query, types)`` to name),
    or None when this psycopg lacks a part the short path of :class:`_Reader` uses."""
    names = getattr(getattr(raw, "_prepared", None), "_names", None)
    parts = (getattr(raw, "lock", None), getattr(cur, "_query_cls", None), getattr(cur, "_raise_for_result", None))
    if names is None or not hasattr(names, "move_to_end") or None in parts \
            or not hasattr(raw, "_pipeline") or not hasattr(cur, "_row_factory"):
        return None
    return names


class PsycopgConnection(Connection):
    """One psycopg connection (in autocommit mode; transactions are begun explicitly)."""

    product = "PostgreSQL"
    dialect = "postgres"
    paramstyle = "format"
    driver_errors = (psycopg.Error,)
    _modes = _MODES

    __slots__ = ("raw", "_cursor", "_changes", "_streams", "_conninfo", "reader")

    def __init__(self, raw: psycopg.Connection[Any], conninfo: str | None = None) -> None:
        self.raw = raw
        self._cursor = raw.cursor()
        self._changes = 0
        self._streams = itertools.count(1)
        self._conninfo = conninfo
        self.reader = _Reader(self)

    def control(self, sql: str) -> None:
        if sql == "COMMIT":
            self.commit()
        else:
            self._control(sql)

    def executescript(self, sql: str) -> None:
        try:
            # Without parameters psycopg sends the simple query protocol: every statement runs.
            self._cursor.execute(sql.encode())
        except psycopg.Error as e:
            raise translate(e, sql) from e
        _forget_prepared(self.raw, self._cursor.statusmessage or "")

    def execute(self, sql: str, params: Params = ()) -> Result:
        cur = self._cursor
        try:
            cur.execute(*one_statement(sql, params))
            rows = cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as e:
            raise raw_error(e, sql) from e
        rowcount = _rowcount(cur)
        if rowcount >= 0:
            self._changes = rowcount
        status = cur.statusmessage or ""
        _forget_prepared(self.raw, status)
        return Result(rows, _description(cur), rowcount, not status.startswith(_READ_TAGS))

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        cur = self._cursor
        try:
            cur.execute(sql, params or None)
            return cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as e:
            raise translate(e, sql) from e

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        def run() -> int:
            cur = self.raw.cursor()
            try:
                cur.executemany(sql, rows)
            except psycopg.Error as e:
                raise translate(e, sql) from e
            return max(cur.rowcount, 0)

        self._changes = self._whole(run)
        return self._changes

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        def run() -> list[Row]:
            cur = self.raw.cursor()
            returned: list[Row] = []
            count = 0
            try:
                cur.executemany(sql, rows, returning=True)
                while True:
                    if _has_rows(cur):
                        returned.extend(cur.fetchall())
                    count += max(cur.rowcount, 0)
                    if not cur.nextset():
                        break
            except psycopg.Error as e:
                raise translate(e, sql) from e
            self._changes = count
            return returned

        return self._whole(run)

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        sql = _copy_sql(table, columns)
        cur = self.raw.cursor()
        try:
            with cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as e:
            raise translate(e, sql) from e
        self._changes = max(cur.rowcount, 0)
        return self._changes

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        # Outside a transaction the cursor must outlive the statement's own implicit one.
        name = f"aq_stream_{next(self._streams)}"
        cur = self.raw.cursor(name=name, withhold=not self.in_transaction)
        try:
            cur.execute(sql, params or None)
            while True:
                rows = cur.fetchmany(batch)
                if not rows:
                    return
                yield rows
        except psycopg.Error as e:
            raise translate(e, sql) from e
        finally:
            try:
                cur.close()
            except psycopg.Error:
                logger.debug("closing server-side cursor %s failed", name, exc_info=True)

    def begin(self, mode: str = "deferred") -> None:
        self._control(transaction_sql(_MODES, mode, self.dialect))

    def commit(self) -> None:
        if not self.in_transaction:
            raise _no_transaction("COMMIT")
        self._control("COMMIT")
        if self._cursor.statusmessage == "ROLLBACK":
            raise _commit_failed()

    def rollback(self) -> None:
        if not self.in_transaction:
            raise _no_transaction("ROLLBACK")
        self._control("ROLLBACK")

    def _control(self, sql: str) -> None:
        try:
            self._cursor.execute(sql)
        except psycopg.Error as e:
            raise translate(e, sql) from e

    @property
    def in_transaction(self) -> bool:
        return self.raw.pgconn.transaction_status != _IDLE

    def changes(self) -> int:
        return self._changes

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        text = f"EXPLAIN (FORMAT JSON) {sql}"
        try:
            document = self._cursor.execute(*one_statement(text, params)).fetchall()[0][0]
        except psycopg.Error as e:
            raise raw_error(e, text) from e
        return postgres_plan(document)

    def watch_commits(self, tables: Iterable[str] = ()) -> PostgresCommitWatch:
        tables = list(tables)
        if tables:
            self._whole(lambda: self._install_triggers(tables))
        conninfo = self._conninfo or _conninfo_of(self.raw)
        try:
            listener = psycopg.connect(conninfo, autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as e:
            raise translate(e, f"LISTEN {CHANNEL}") from e
        return PostgresCommitWatch(listener, self.raw.info.backend_pid)

    def _install_triggers(self, tables: list[str]) -> None:
        if not self.fetch(_HAS_FUNCTION)[0][0]:
            self.execute(_NOTIFY_FUNCTION_SQL)
        for table in tables:
            name = quote_identifier(table)
            oid, present = self.fetch(_HAS_TRIGGER, (name, name, TRIGGER))[0]
            if oid is None:
                raise OperationalError(f"cannot watch commits to {table!r}: no such table")
            if not present:
                self.execute(_trigger_statements(table))

    translate = staticmethod(translate)

    def close(self) -> None:
        self.raw.close()


class PsycopgEngine(Engine):
    """A PostgreSQL server through psycopg 3.

    Args:
        url: ``postgresql://user:password@host:port/dbname`` (also ``postgres://``, or a libpq
            ``key=value`` string).
        pool_size: the most connections :meth:`borrow` keeps open (psycopg_pool).
        pool_timeout: seconds :meth:`borrow` waits for a free connection.
        connect_timeout: seconds to wait for the server when connecting (unless the URL says).
        on_connect: called with every new psycopg connection.

    :meth:`open` connects once, so a server that is down or refuses the login is reported
    there, as an ``OperationalError`` naming host and port (never the password).
    """

    dialect = "postgres"
    connection_class = PsycopgConnection

    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 30.0,
                 connect_timeout: float | None = 10, on_connect: OnConnect | None = None) -> None:
        self._target = _Target(url, connect_timeout)
        self.url = self._target.url
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.on_connect = on_connect
        self._spare: PsycopgConnection | None = None
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, **options: Any) -> PsycopgEngine:
        engine = cls(url, **options)
        engine._spare = engine._new()
        return engine

    def _new(self) -> PsycopgConnection:
        try:
            raw = psycopg.connect(self._target.conninfo, autocommit=True)
        except psycopg.Error as e:
            raise self._target.open_error(e) from e
        if self.on_connect is not None:
            self.on_connect(raw)
        return PsycopgConnection(raw, self._target.conninfo)

    def connect(self, configure: bool = True) -> PsycopgConnection:
        spare, self._spare = self._spare, None
        return spare if spare is not None else self._new()

    @contextmanager
    def borrow(self) -> Iterator[PsycopgConnection]:
        """A pooled connection for the block, given back at its end; a transaction the block
        left open is rolled back."""
        pool = self._pool
        if pool is None:
            with self._pool_lock:
                pool = self._pool
                if pool is None:
                    pool = self._pool = psycopg_pool.ConnectionPool(
                        self._target.conninfo, min_size=1, max_size=self.pool_size,
                        kwargs={"autocommit": True}, configure=self.on_connect,
                        timeout=self.pool_timeout, name="activeq", open=True)
        try:
            raw = pool.getconn()
        except psycopg_pool.PoolTimeout as e:
            raise OperationalError(f"no pooled connection to {self.url} within "
                                   f"{self.pool_timeout} s: {e}") from e
        conn = PsycopgConnection(raw, self._target.conninfo)
        try:
            yield conn
        finally:
            try:
                if conn.in_transaction and not raw.closed:
                    conn.rollback()  # nothing a block left unfinished is committed
            finally:
                pool.putconn(raw)

    def close(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class AsyncPsycopgConnection(AsyncConnection):
    """One psycopg ``AsyncConnection``: the methods of :class:`PsycopgConnection`, awaited."""

    dialect = "postgres"
    paramstyle = "format"

    __slots__ = ("raw", "_cursor", "_changes", "_streams", "_conninfo")

    def __init__(self, raw: psycopg.AsyncConnection[Any], conninfo: str | None = None) -> None:
        self.raw = raw
        self._cursor = raw.cursor()
        self._changes = 0
        self._streams = itertools.count(1)
        self._conninfo = conninfo

    async def execute(self, sql: str, params: Params = ()) -> Result:
        cur = self._cursor
        try:
            await cur.execute(*one_statement(sql, params))
            rows = await cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as e:
            raise raw_error(e, sql) from e
        rowcount = _rowcount(cur)
        if rowcount >= 0:
            self._changes = rowcount
        status = cur.statusmessage or ""
        _forget_prepared(self.raw, status)
        return Result(rows, _description(cur), rowcount, not status.startswith(_READ_TAGS))

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        cur = self._cursor
        try:
            await cur.execute(sql, params or None)
            return await cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as e:
            raise translate(e, sql) from e

    async def run(self, sql: str, params: Params = ()) -> list[Row]:
        cur = self._cursor
        try:
            await cur.execute(sql, params or None)
            rows = await cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as e:
            raise translate(e, sql) from e
        rowcount = _rowcount(cur)
        if rowcount >= 0:
            self._changes = rowcount
        return rows

    async def executescript(self, sql: str) -> None:
        try:
            # Without parameters psycopg sends the simple query protocol: every statement runs.
            await self._cursor.execute(sql.encode())
        except psycopg.Error as e:
            raise translate(e, sql) from e

    async def control(self, sql: str) -> None:
        if sql == "COMMIT":
            await self.commit()
        else:
            await self._control(sql)

    async def _whole_async(self, run: Any) -> Any:
        if self.in_transaction:
            return await run()
        await self.begin("immediate")
        try:
            done = await run()
        except BaseException:
            try:
                await self.rollback()
            except ActiveqError:
                logger.exception("rolling back after a failed batch failed")
            raise
        await self.commit()
        return done

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        async def run() -> int:
            cur = self.raw.cursor()
            try:
                await cur.executemany(sql, rows)
            except psycopg.Error as e:
                raise translate(e, sql) from e
            return max(cur.rowcount, 0)

        self._changes = await self._whole_async(run)
        return self._changes

    async def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        async def run() -> list[Row]:
            cur = self.raw.cursor()
            returned: list[Row] = []
            count = 0
            try:
                await cur.executemany(sql, rows, returning=True)
                while True:
                    if _has_rows(cur):
                        returned.extend(await cur.fetchall())
                    count += max(cur.rowcount, 0)
                    if not cur.nextset():
                        break
            except psycopg.Error as e:
                raise translate(e, sql) from e
            self._changes = count
            return returned

        return await self._whole_async(run)  # type: ignore[no-any-return]

    async def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        sql = _copy_sql(table, columns)
        cur = self.raw.cursor()
        try:
            async with cur.copy(sql) as copy:
                for row in rows:
                    await copy.write_row(row)
        except psycopg.Error as e:
            raise translate(e, sql) from e
        self._changes = max(cur.rowcount, 0)
        return self._changes

    async def stream(self, sql: str, params: Params = (),
                     batch: int = 1000) -> AsyncIterator[list[Row]]:
        name = f"aq_stream_{next(self._streams)}"
        cur = self.raw.cursor(name=name, withhold=not self.in_transaction)
        try:
            await cur.execute(sql, params or None)
            while True:
                rows = await cur.fetchmany(batch)
                if not rows:
                    return
                yield rows
        except psycopg.Error as e:
            raise translate(e, sql) from e
        finally:
            try:
                await cur.close()
            except psycopg.Error:
                logger.debug("closing server-side cursor %s failed", name, exc_info=True)

    async def begin(self, mode: str = "deferred") -> None:
        await self._control(transaction_sql(_MODES, mode, self.dialect))

    async def commit(self) -> None:
        if not self.in_transaction:
            raise _no_transaction("COMMIT")
        await self._control("COMMIT")
        if self._cursor.statusmessage == "ROLLBACK":
            raise _commit_failed()

    async def rollback(self) -> None:
        if not self.in_transaction:
            raise _no_transaction("ROLLBACK")
        await self._control("ROLLBACK")

    async def savepoint(self, name: str) -> None:
        await self._control(f"SAVEPOINT {quote_identifier(name)}")

    async def release(self, name: str) -> None:
        await self._control(f"RELEASE SAVEPOINT {quote_identifier(name)}")

    async def rollback_to(self, name: str) -> None:
        await self._control(f"ROLLBACK TO SAVEPOINT {quote_identifier(name)}")

    async def _control(self, sql: str) -> None:
        try:
            await self._cursor.execute(sql)
        except psycopg.Error as e:
            raise translate(e, sql) from e

    @property
    def in_transaction(self) -> bool:
        return self.raw.pgconn.transaction_status != _IDLE

    def changes(self) -> int:
        return self._changes

    async def explain(self, sql: str, params: Params = ()) -> PlanData:
        text = f"EXPLAIN (FORMAT JSON) {sql}"
        try:
            await self._cursor.execute(*one_statement(text, params))
            document = (await self._cursor.fetchall())[0][0]
        except psycopg.Error as e:
            raise raw_error(e, text) from e
        return postgres_plan(document)

    async def watch_commits(self, tables: Iterable[str] = ()) -> PostgresCommitWatch:
        tables = list(tables)
        if tables:
            await self._whole_async(lambda: self._install_triggers(tables))
        conninfo = self._conninfo or _conninfo_of(self.raw)
        try:
            listener = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            await listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as e:
            raise translate(e, f"LISTEN {CHANNEL}") from e
        return PostgresCommitWatch(listener, self.raw.info.backend_pid)

    async def _install_triggers(self, tables: list[str]) -> None:
        if not (await self.fetch(_HAS_FUNCTION))[0][0]:
            await self.execute(_NOTIFY_FUNCTION_SQL)
        for table in tables:
            name = quote_identifier(table)
            oid, present = (await self.fetch(_HAS_TRIGGER, (name, name, TRIGGER)))[0]
            if oid is None:
                raise OperationalError(f"cannot watch commits to {table!r}: no such table")
            if not present:
                await self.execute(_trigger_statements(table))

    translate = staticmethod(translate)

    async def close(self) -> None:
        await self.raw.close()


class AsyncPsycopgEngine(AsyncEngine):
    """:class:`PsycopgEngine` on psycopg's ``AsyncConnection`` and ``AsyncConnectionPool``:
    queries run on the event loop, never on a worker thread."""

    dialect = "postgres"
    connection_class = PsycopgConnection

    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 30.0,
                 connect_timeout: float | None = 10, on_connect: OnConnect | None = None) -> None:
        self._target = _Target(url, connect_timeout)
        self.url = self._target.url
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.on_connect = on_connect
        self._spare: AsyncPsycopgConnection | None = None
        self._pool: psycopg_pool.AsyncConnectionPool[Any] | None = None
        self._pool_lock: asyncio.Lock | None = None  # made on the loop that first borrows
        self.waiting = 0
        """Tasks waiting in :meth:`acquire` for a pooled connection right now."""

    @classmethod
    async def open(cls, url: str, **options: Any) -> AsyncPsycopgEngine:
        engine = cls(url, **options)
        engine._spare = await engine._new()
        return engine

    async def _new(self) -> AsyncPsycopgConnection:
        try:
            raw = await psycopg.AsyncConnection.connect(self._target.conninfo, autocommit=True)
        except psycopg.Error as e:
            raise self._target.open_error(e) from e
        if self.on_connect is not None:
            await _maybe_await(self.on_connect(raw))
        return AsyncPsycopgConnection(raw, self._target.conninfo)

    async def connect(self) -> AsyncPsycopgConnection:
        spare, self._spare = self._spare, None
        return spare if spare is not None else await self._new()

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[AsyncPsycopgConnection]:
        """A pooled connection for the block (psycopg_pool's ``AsyncConnectionPool``)."""
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.release(conn)

    async def acquire(self) -> AsyncPsycopgConnection:
        """A pooled connection, kept until :meth:`release` (waiting at most ``pool_timeout``)."""
        self.waiting += 1
        try:
            pool = self._pool or await self._open_pool()
            raw = await pool.getconn()
        except psycopg_pool.PoolTimeout as e:
            raise OperationalError(f"no pooled connection to {self.url} within "
                                   f"{self.pool_timeout} s: {e}") from e
        finally:
            self.waiting -= 1
        return AsyncPsycopgConnection(raw, self._target.conninfo)

    async def release(self, conn: AsyncConnection) -> None:
        """Give ``conn`` back to the pool, rolled back if a transaction is left open on it."""
        raw = conn.raw
        try:
            if not raw.closed and conn.in_transaction:
                await conn.rollback()  # nothing a unit of work left unfinished is committed
        finally:
            if self._pool is not None:
                await self._pool.putconn(raw)
            else:  # the pool closed while the connection was out
                await raw.close()

    def reusable(self, conn: AsyncConnection) -> bool:
        """Whether ``conn`` may serve the next unit of work without going back to the pool:
        no transaction left open, not broken, and nobody waiting for a pooled connection."""
        raw = conn.raw
        return (self.waiting == 0 and self._pool is not None and not raw.closed
                and not raw.broken and not conn.in_transaction)

    async def _open_pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        async with self._pool_lock:
            if self._pool is None:
                configure = self.on_connect

                async def setup(raw: Any) -> None:
                    if configure is not None:
                        await _maybe_await(configure(raw))

                pool = psycopg_pool.AsyncConnectionPool(
                    self._target.conninfo, min_size=1, max_size=self.pool_size,
                    kwargs={"autocommit": True}, configure=setup, timeout=self.pool_timeout,
                    name="activeq", open=False)
                await pool.open()
                self._pool = pool
            return self._pool

    def bridge(self) -> BridgeEngine:
        return BridgeEngine(self, PsycopgConnection)

    async def close(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            await spare.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _maybe_await(value: Any) -> None:
    if hasattr(value, "__await__"):
        await value


def lend(raw: psycopg.Connection[Any]) -> Connection:
    """``raw`` as a connection activeq runs on without closing it.

    activeq begins and ends its transactions itself, so the connection must be in autocommit
    mode (``psycopg.connect(..., autocommit=True)``); it is not switched behind the
    application's back.
    """
    if not isinstance(raw, psycopg.Connection):
        raise ConfigurationError("Database.from_connection() takes a synchronous psycopg "
                                 "connection")
    if not raw.autocommit:
        raise ConfigurationError(
            "Database.from_connection() needs the psycopg connection in autocommit mode "
            "(psycopg.connect(..., autocommit=True)): activeq begins and commits its own "
            "transactions")
    return keep_open(PsycopgConnection)(raw)  # type: ignore[call-arg]
