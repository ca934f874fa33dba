"""SQLite through APSW: the embedded default engine.

Connections get the recommended pragmas (WAL, foreign keys, a busy timeout, ...), APSW's
prepared-statement cache, and a binding converter that stores values SQLite has no type for in
their canonical text form. Errors map by SQLite result code.

Commits by other connections or processes are noticed through ``PRAGMA data_version``, with a
cheap pre-check of the WAL index header (:class:`SqliteCommitWatch`).
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from time import perf_counter_ns
from typing import Any

import apsw

from ..ast import Unbound
from ..errors import (
    ArgumentTypeError,
    BusyError,
    CompileError,
    DatabaseError,
    IntegrityError,
    LockedError,
    OperationalError,
)
from ..pragmas import check_pragmas, pragma_statement
from ..rawsql import DML, READ, check_single, plain_kind
from ..values import NO_FORM, stored_form
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
)
from .filemoved import check_not_moved
from .lent import keep_open

__all__ = ["ApswConnection", "ApswEngine", "SqliteCommitWatch", "apply_pragmas",
           "recommended_pragmas", "sqlite_path", "translate"]

_MEMORY = ("", ":memory:")


def recommended_pragmas(busy_timeout_ms: int = 5000) -> dict[str, Any]:
    """The pragmas applied to every new connection unless overridden.

    WAL lets readers proceed while one writer writes; synchronous=NORMAL is durable across
    application crashes in WAL mode; the cache, temp store and mmap settings trade memory for
    fewer system calls.

    >>> recommended_pragmas(100)["busy_timeout"]
    100
    """
    return {
        "journal_mode": "wal",
        "synchronous": "normal",
        "foreign_keys": "on",
        "busy_timeout": busy_timeout_ms,
        "cache_size": -64000,
        "temp_store": "memory",
        "mmap_size": 268435456,
    }


_BY_CODE: dict[int, type[DatabaseError]] = {
    apsw.SQLITE_CONSTRAINT: IntegrityError,
    apsw.SQLITE_BUSY: BusyError,
    apsw.SQLITE_LOCKED: LockedError,
}


def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
    """The activeq error for an APSW exception, by SQLite result code.

    >>> translate(apsw.ConstraintError("UNIQUE constraint failed: t.x")).__class__.__name__
    'IntegrityError'
    """
    code = getattr(error, "result", None)
    extended = getattr(error, "extendedresult", None)
    if code is None and isinstance(error, apsw.Error):
        code = _CODE_BY_CLASS.get(type(error))
    cls = _BY_CODE.get(code, OperationalError) if code is not None else OperationalError
    text = str(error)
    if sql is not None:
        text = f"{text}\n  while running: {sql}"
    return cls(text, result_code=code, extended_code=extended)


# APSW exceptions made by hand (not raised by SQLite) carry no result code attribute.
_CODE_BY_CLASS: dict[type, int] = {
    apsw.ConstraintError: apsw.SQLITE_CONSTRAINT,
    apsw.BusyError: apsw.SQLITE_BUSY,
    apsw.LockedError: apsw.SQLITE_LOCKED,
}


def sqlite_path(url: str) -> str:
    """The file name (or ":memory:", or a ``file:`` URI) a SQLite URL or path names.

    >>> sqlite_path("sqlite:///app.db"), sqlite_path("sqlite:////var/app.db"), sqlite_path("app.db")
    ('app.db', '/var/app.db', 'app.db')
    >>> sqlite_path("sqlite://"), sqlite_path("sqlite:///:memory:")
    (':memory:', ':memory:')
    """
    if not url.startswith("sqlite:"):
        return url
    rest = url[len("sqlite:"):]
    if rest.startswith("///"):
        rest = rest[3:]
    elif rest.startswith("//"):
        rest = rest[2:]
    return rest or ":memory:"


def convert_binding(cursor: Any, index: int, value: Any) -> Any:
    """Store Python values SQLite has no type for in their canonical text form."""
    form = stored_form(value)
    if form is not NO_FORM:
        return form
    if isinstance(value, Unbound):
        raise CompileError(
            f"no value for BindParam({value.name!r}): run the query through "
            f"query.compile().execute({value.name}=...)"
        )
    raise ArgumentTypeError(
        f"cannot bind a value of type {type(value).__name__} (parameter {index}): SQLite stores "
        "None, int, float, str, bytes, and activeq adds dates, times, decimals, UUIDs and enums")


def apply_pragmas(conn: apsw.Connection, pragmas: dict[str, Any], memory: bool,
                  busy_timeout_ms: int) -> None:
    """Run ``PRAGMA name=value`` for each (already checked) setting on a new connection.

    Switching a new file to WAL needs an exclusive lock, and SQLite reports SQLITE_BUSY for it
    at once, without its busy handler, while another connection opens the same file. That
    switch is tried again until ``busy_timeout_ms`` has passed.
    """
    for name, value in pragmas.items():
        sql = pragma_statement(name, value)
        if name == "journal_mode":
            if not memory:
                _switch_journal(conn, sql, busy_timeout_ms)
            continue
        try:
            conn.execute(sql).fetchall()
        except apsw.Error as e:
            raise translate(e, sql) from e


def _switch_journal(conn: apsw.Connection, sql: str, busy_timeout_ms: int) -> None:
    deadline = perf_counter_ns() + busy_timeout_ms * 1_000_000
    delay = 0.001
    while True:
        try:
            conn.execute(sql).fetchall()
            return
        except apsw.BusyError as e:
            if perf_counter_ns() >= deadline:
                raise translate(e, sql) from e
        except apsw.Error as e:
            raise translate(e, sql) from e
        time.sleep(min(delay, max(0.0, (deadline - perf_counter_ns()) / 1e9)))
        delay = min(delay * 2, 0.05)


def is_memory(path: str) -> bool:
    """Whether ``path`` names an in-memory database (private to one connection).

    >>> is_memory(":memory:"), is_memory("file:x?mode=memory"), is_memory("app.db")
    (True, True, False)
    """
    return path in _MEMORY or "mode=memory" in path


_MODES = {
    "deferred": "BEGIN DEFERRED",
    "immediate": "BEGIN IMMEDIATE",
    "exclusive": "BEGIN EXCLUSIVE",
}


class ApswConnection(Connection):
    """One APSW connection."""

    product = "SQLite"
    dialect = "sqlite"
    paramstyle = "qmark"
    has_last_id = True
    watches_file = True
    driver_errors = (apsw.Error,)
    _modes = _MODES

    # Driver methods bound once, as attributes: a session calls them with no frame between.
    __slots__ = ("raw", "path", "_cursor", "_changes", "_engine", "reader", "last_changes",
                 "total_changes", "set_busy_timeout")

    def __init__(self, raw: apsw.Connection, path: str = ":memory:",
                 engine: ApswEngine | None = None) -> None:
        self.raw = raw
        self.path = path
        self._cursor = self.reader = raw.cursor()
        self._changes = 0
        self._engine = engine
        self.last_changes = raw.changes  # type: ignore[method-assign]
        self.total_changes = raw.total_changes  # type: ignore[method-assign]
        self.set_busy_timeout = raw.set_busy_timeout  # type: ignore[method-assign]

    def profile(self, callback: Callable[[dict[str, Any]], Any] | None, owner: object) -> None:
        if callback is None:
            self.raw.trace_v2(0, None, id=owner)
        else:
            self.raw.trace_v2(apsw.SQLITE_TRACE_PROFILE, callback, id=owner)

    def check_not_moved(self, doing: str) -> None:
        check_not_moved(self.raw, doing)

    def configure(self) -> None:
        engine = self._engine
        if engine is not None:
            apply_pragmas(self.raw, engine.pragmas, is_memory(self.path), engine.busy_timeout_ms)

    def executescript(self, sql: str) -> None:
        try:
            for _ in self.raw.cursor().execute(sql):
                pass
        except apsw.Error as e:
            raise translate(e, sql) from e

    def execute(self, sql: str, params: Params = ()) -> Result:
        cur = self.raw.cursor()
        # One statement only; whether it writes rows is SQLite's answer (see activeq.rawsql).
        kind = plain_kind(sql)
        check = None if kind is not None else check_single(cur, sql)
        try:
            cur.execute(sql, params)
            try:
                description = tuple(cur.get_description())
            except apsw.ExecutionCompleteError:
                description = ()
            rows = cur.fetchall()
        except apsw.Error as e:
            raise translate(e, sql) from e
        rowcount = -1
        if check is not None:
            kind = check.kind
        if kind == DML:
            rowcount = self._changes = self.raw.changes()
        return Result(rows, description, rowcount, kind is not None and kind != READ)

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._cursor.execute(sql, params).fetchall()  # type: ignore[no-any-return]
        except apsw.ThreadingViolationError:
            # The shared cursor is busy in another thread: use one of our own.
            return self._fetch_alone(sql, params)
        except apsw.Error as e:
            raise translate(e, sql) from e

    def _fetch_alone(self, sql: str, params: Params) -> list[Row]:
        try:
            return self.raw.cursor().execute(sql, params).fetchall()  # type: ignore[no-any-return]
        except apsw.Error as e:
            raise translate(e, sql) from e

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self._whole(lambda: self._many(sql, rows, False))[0]

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        return self._whole(lambda: self._many(sql, rows, True))[1]

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join(quote_identifier(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})"
        return self.executemany(sql, rows)

    def _many(self, sql: str, rows: Iterable[Params], returning: bool) -> tuple[int, list[Row]]:
        raw = self.raw
        before = raw.total_changes()
        try:
            returned = raw.cursor().executemany(sql, rows).fetchall()
        except apsw.Error as e:
            raise translate(e, sql) from e
        self._changes = raw.total_changes() - before
        return self._changes, returned if returning else []

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        cur = self.raw.cursor()
        try:
            cur.execute(sql, params)
            while True:
                rows = list(islice(cur, batch))
                if not rows:
                    return
                yield rows
        except apsw.Error as e:
            raise translate(e, sql) from e
        finally:
            cur.close()

    def _control(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except apsw.Error as e:
            raise translate(e, sql) from e

    @property
    def in_transaction(self) -> bool:
        return not self.raw.get_autocommit()

    def changes(self) -> int:
        return self._changes

    def last_id(self) -> Any:
        return self.raw.last_insert_rowid()

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        text = f"EXPLAIN QUERY PLAN {sql}"
        cur = self.raw.cursor()
        check_single(cur, text)
        try:
            raw = cur.execute(text, params).fetchall()
        except apsw.Error as e:
            raise translate(e, text) from e
        return sqlite_plan(raw)

    def watch_commits(self, tables: Iterable[str] = ()) -> SqliteCommitWatch:
        return SqliteCommitWatch(self.raw, self.path)

    translate = staticmethod(translate)

    def close(self) -> None:
        self.raw.close()


def sqlite_plan(raw: list[tuple[Any, ...]]) -> PlanData:
    """Read SQLite's EXPLAIN QUERY PLAN rows (id, parent, notused, detail) as data."""
    scans: list[str] = []
    indexes: list[str] = []
    sorts: list[str] = []
    autos: list[str] = []
    for row in raw:
        detail = row[-1]
        words = detail.split()
        if words[:1] == ["SCAN"] and "USING" not in words:
            table = words[1]
            if table not in scans and not detail.startswith("SCAN CONSTANT"):
                scans.append(table)
        if detail.startswith("USE TEMP B-TREE FOR "):
            what = detail[len("USE TEMP B-TREE FOR "):]
            what = what.replace("RIGHT PART OF ", "").replace("LAST TERM OF ", "")
            if what not in sorts:
                sorts.append(what)
        if "AUTOMATIC" in words and "INDEX" in words and words[1:2] and words[1] not in autos:
            autos.append(words[1])
        if "USING" in words:
            rest = words[words.index("USING") + 1:]
            if rest[:2] == ["INTEGER", "PRIMARY"]:
                name = f"{words[1]}(rowid)"
            elif "AUTOMATIC" in rest or "INDEX" not in rest:
                continue
            else:
                name = rest[rest.index("INDEX") + 1]
            if name not in indexes:
                indexes.append(name)
    rows = tuple((int(r[0]), int(r[1]), str(r[-1])) for r in raw)
    return PlanData(rows, tuple(scans), tuple(indexes), tuple(sorts), tuple(autos), native=raw)


class ApswEngine(Engine):
    """SQLite files (and ":memory:") through APSW.

    Args:
        url: a path, ":memory:", a ``file:`` URI, or ``sqlite:///path``.
        pragmas: overrides merged onto :func:`recommended_pragmas` (None values remove one).
        busy_timeout_ms: how long SQLite waits on a lock before reporting busy.
        statement_cache_size: APSW's prepared-statement cache size per connection.
        on_connect: called with every new APSW connection (functions, collations, ...).

    Every :meth:`connect` opens a new connection to the file; on ":memory:" that is a new,
    empty database, so share one connection there.

    >>> engine = ApswEngine.open("sqlite://")
    >>> conn = engine.connect()
    >>> conn.fetch("SELECT 1 + ?", (1,))
    [(2,)]
    >>> conn.close(); engine.close()
    """

    dialect = "sqlite"
    connection_class = ApswConnection

    def __init__(self, path: str, *, pragmas: dict[str, Any] | None = None,
                 busy_timeout_ms: int = 5000, statement_cache_size: int = 256,
                 on_connect: OnConnect | None = None) -> None:
        self.path = path
        self.url = path
        self.busy_timeout_ms = busy_timeout_ms
        self.statement_cache_size = statement_cache_size
        settings = recommended_pragmas(busy_timeout_ms)
        settings.update(pragmas or {})
        # Checked before any connection opens: a pragma's value is written into its SQL.
        self.pragmas = check_pragmas({k: v for k, v in settings.items() if v is not None})
        self.on_connect = on_connect
        self._spare: ApswConnection | None = None

    @classmethod
    def open(cls, url: str, **options: Any) -> ApswEngine:
        engine = cls(sqlite_path(url), **options)
        engine._spare = engine._new()
        return engine

    def _new(self, configure: bool = True) -> ApswConnection:
        flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE | apsw.SQLITE_OPEN_URI
        try:
            raw = apsw.Connection(self.path, flags=flags,
                                  statementcachesize=self.statement_cache_size)
        except apsw.Error as e:
            raise OperationalError(f"cannot open SQLite database {self.path!r}: {e}",
                                   result_code=getattr(e, "result", None)) from e
        raw.convert_binding = convert_binding
        raw.set_busy_timeout(self.busy_timeout_ms)
        conn = ApswConnection(raw, self.path, self)
        if configure:
            try:
                conn.configure()
            except BaseException:
                raw.close()
                raise
            if self.on_connect is not None:
                self.on_connect(raw)
        return conn

    @property
    def private_memory(self) -> bool:
        return is_memory(self.path)

    def connect(self, configure: bool = True) -> ApswConnection:
        spare, self._spare = self._spare, None
        if spare is not None and not configure:
            spare.close()  # opened configured: a caller preparing its own wants a bare one
            spare = None
        return spare if spare is not None else self._new(configure)

    def close(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()


_DATA_VERSION = "PRAGMA data_version"
_HEADER = 48  # one copy of the wal-index header: change counter, frame count, salts, checksum


class SqliteCommitWatch(CommitWatch):
    """``changed()`` is True once after each commit made by another connection.

    ``PRAGMA data_version`` is the authoritative answer, but it opens and closes a read
    transaction (file locks, about as much work as a primary-key lookup). In WAL mode every
    commit rewrites the wal-index header at the start of the ``-shm`` file, so a read of those
    48 bytes from a shared mapping tells cheaply that nothing at all was committed; only when
    they changed (our own commit, or someone else's) is the pragma consulted.

    The mapping is safe to read while our connection is open: SQLite only truncates the
    ``-shm`` file when the first connection attaches, and then to a few bytes, never to zero.
    """

    __slots__ = ("_conn", "_cursor", "_version", "_shm", "_hdr", "_fd")

    def __init__(self, connection: apsw.Connection, path: str) -> None:
        self._conn = connection
        self._cursor = connection.cursor()
        self._shm: Any = None
        self._hdr = b""
        self._fd = -1
        self._version = self._data_version()  # also makes the connection open the -shm file
        mode = connection.execute("PRAGMA journal_mode").fetchall()[0][0]
        shm_path = path + "-shm"
        if str(mode).lower() == "wal" and os.path.exists(shm_path):
            try:
                self._fd = os.open(shm_path, os.O_RDONLY)
                self._shm = mmap.mmap(self._fd, _HEADER, mmap.MAP_SHARED, mmap.PROT_READ)
            except OSError:
                self.close()
            else:
                self._hdr = self._shm[0:_HEADER]
                self._version = self._data_version()

    def _data_version(self) -> int:
        version = 0
        try:
            try:
                rows = self._cursor.execute(_DATA_VERSION)
            except apsw.ThreadingViolationError:  # the shared cursor is busy in another thread
                rows = self._conn.execute(_DATA_VERSION)
            # Iterate to the end: a statement left mid-result would hold a read transaction.
            for (version,) in rows:  # noqa: B007
                pass
        except apsw.Error as e:
            raise translate(e, _DATA_VERSION) from e
        return version

    def changed(self) -> bool:
        """Whether another connection committed since the previous call."""
        shm = self._shm
        if shm is not None:
            hdr = shm[0:_HEADER]
            if hdr == self._hdr:
                return False
            # Read before the pragma: a commit landing in between is seen next time.
            self._hdr = hdr
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        return True

    @property
    def mapped(self) -> bool:
        """Whether the cheap wal-index check is in use (WAL mode on a file)."""
        return self._shm is not None

    def close(self) -> None:
        """Release the mapping; later calls fall back to the pragma."""
        shm, fd = self._shm, self._fd
        self._shm, self._fd = None, -1
        if shm is not None:
            shm.close()
        if fd >= 0:
            os.close(fd)


def lend(raw: apsw.Connection) -> Connection:
    """``raw`` as a connection activeq runs on without closing it; its settings (pragmas,
    busy timeout) stay the application's. Values SQLite has no type for are bound in
    activeq's stored forms unless the application converts bindings itself."""
    if raw.convert_binding is None:
        raw.convert_binding = convert_binding
    return keep_open(ApswConnection)(raw, raw.filename or ":memory:", None)  # type: ignore[call-arg]
