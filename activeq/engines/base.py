"""The narrow interface every engine implements, and the plain data it returns.

An :class:`Engine` is opened from a URL or path and hands out :class:`Connection` objects. A
connection runs SQL text that is already rendered for its dialect (placeholders in the style of
``Connection.paramstyle``) and returns plain Python data: row tuples, a :class:`Result`, a
:class:`PlanData`. Every driver exception leaves a connection as an ``activeq.errors`` class,
raised ``from`` the driver's exception so nothing is lost.

A connection is used by one thread (or one task) at a time; pools hand out whole connections.

Transactions are driven through :meth:`Connection.begin`, :meth:`Connection.commit` and
:meth:`Connection.rollback` (not through ``execute("BEGIN")``): outside of them every statement
commits on its own, on every engine.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ..errors import ActiveqError, DatabaseError, UnsupportedError

__all__ = [
    "AsyncConnection",
    "AsyncEngine",
    "CommitWatch",
    "Connection",
    "Engine",
    "PlanData",
    "Result",
    "Row",
    "quote_identifier",
]

logger = logging.getLogger("activeq")
_T = TypeVar("_T")
Row = tuple[Any, ...]
Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    """What :meth:`Connection.execute` returns.

    >>> Result([(1,)], (("x", "INTEGER"),), -1).rows
    [(1,)]
    """

    rows: list[Row]
    """The rows the statement returned (RETURNING rows for a write), as tuples."""
    description: tuple[tuple[str, str | None], ...]
    """(column name, type name or None) for each result column; empty when none."""
    rowcount: int
    """Rows inserted, updated or deleted by a write statement; -1 for any other statement."""
    writes: bool = False
    """Whether the statement may have changed rows, schema or settings (so results computed
    before it may be stale): true for every write, also one with no rowcount (DDL)."""


@dataclass(frozen=True, slots=True)
class PlanData:
    """A query plan as data, the same on every engine.

    >>> plan = PlanData(rows=((1, 0, "SCAN t"),), full_scans=("t",))
    >>> plan.full_scans, plan.indexes
    (('t',), ())
    """

    rows: tuple[tuple[int, int, str], ...]
    """The plan steps as (id, parent id, detail); parent 0 is the root."""
    full_scans: tuple[str, ...] = ()
    """Tables read in full, without an index."""
    indexes: tuple[str, ...] = ()
    """Indexes the plan reads (``table(rowid)`` for SQLite's integer primary key)."""
    sorts: tuple[str, ...] = ()
    """What needs a sort step: "ORDER BY", "GROUP BY", "DISTINCT" (as far as the plan says)."""
    automatic_indexes: tuple[str, ...] = ()
    """Tables SQLite builds a transient index on for every run of the statement."""
    analyzed: bool = False
    """Whether the statement was run to get the plan (DuckDB chooses index scans while running)."""
    native: Any = field(default=None, compare=False)
    """The engine's own plan: SQLite's rows, PostgreSQL's JSON document, DuckDB's JSON tree."""


class CommitWatch(ABC):
    """Tells a connection that another connection (or process) committed to its database."""

    __slots__ = ()

    @abstractmethod
    def changed(self) -> bool:
        """True once after one or more commits by others since the previous call; never waits."""

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a commit by others; returns :meth:`changed`."""
        deadline = time.monotonic() + timeout
        while True:
            if self.changed():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.005, left))

    @abstractmethod
    def close(self) -> None:
        """Release what the watch holds (idempotent)."""

    def __enter__(self) -> CommitWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def quote_identifier(name: str) -> str:
    """A table, column or savepoint name as a double-quoted SQL identifier.

    >>> print(quote_identifier('my "t"able'))
    "my ""t""able"
    """
    if not name or "\x00" in name:
        raise DatabaseError(f"not a usable SQL name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def transaction_sql(modes: dict[str, str], mode: str, dialect: str) -> str:
    """The BEGIN statement for ``mode`` from an engine's table of modes."""
    try:
        return modes[mode]
    except KeyError:
        known = ", ".join(repr(m) for m in modes)
        raise UnsupportedError(f"transaction mode {mode!r}", dialect, f"use one of {known}") from None


class Connection(ABC):
    """One connection to a database, behind the same methods on every engine."""

    __slots__ = ()

    dialect: ClassVar[str]
    """"sqlite", "postgres" or "duckdb": the SQL dialect the connection runs."""
    product: ClassVar[str]
    """The database's name for messages: "SQLite", "PostgreSQL", "DuckDB"."""
    paramstyle: ClassVar[str]
    """The placeholder style of the SQL it runs: "qmark" (``?``) or "format" (``%s``)."""
    has_last_id: ClassVar[bool] = False
    """Whether :meth:`last_id` works; elsewhere new keys come back through RETURNING."""
    has_savepoints: ClassVar[bool] = True
    """Whether savepoints exist (DuckDB has none)."""

    raw: Any
    """The driver's own connection object."""

    reader: Any
    """The fastest statement runner the driver has, for a session's hot paths:
    ``reader.execute(sql, params).fetchall()`` runs one compiled statement and returns its rows
    (no rows for a write without RETURNING; then :meth:`last_changes` counts them). On SQLite it
    is APSW's own cursor, so a primary-key lookup crosses no Python frame of activeq's. It
    raises the driver's exceptions (:attr:`driver_errors`): a caller that retries translates
    them with :meth:`translate`."""

    driver_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    """The exception classes the driver raises (caught around :attr:`reader`)."""

    def last_changes(self) -> int:
        """Rows changed by the latest write run through :attr:`reader` (or :meth:`execute`)."""
        return self.changes()

    def total_changes(self) -> int | None:
        """Rows changed on this connection since it opened, or None when the driver cannot
        tell (then a failed batch cannot name the row that failed)."""
        return None

    def pause(self, seconds: float) -> None:
        """Wait before trying again (a retry's back-off): ``time.sleep`` here; on an event
        loop's bridged connection an ``asyncio.sleep`` that lets other tasks run."""
        time.sleep(seconds)

    def set_busy_timeout(self, milliseconds: int) -> None:  # noqa: B027 (optional hook)
        """How long the driver itself waits on a lock held by another connection (SQLite's busy
        handler); engines whose server queues lock requests ignore it."""

    watches_file: ClassVar[bool] = False
    """Whether the database is a file that can be deleted or replaced under an open
    connection, so that writes are checked first (:meth:`check_not_moved`)."""

    def check_not_moved(self, doing: str) -> None:  # noqa: B027 (optional hook)
        """Raise ``OperationalError`` when the database file was deleted, renamed or replaced
        while open, before ``doing`` (a write that would be lost with the connection)."""

    def profile(self, callback: Callable[[dict[str, Any]], Any] | None, owner: object) -> None:
        """Call ``callback`` with the driver's statistics event after every statement (SQLite's
        profile trace with its ``stmt_status`` counters); None stops the calls ``owner`` asked
        for. Engines without per-statement counters refuse with ``UnsupportedError``."""
        raise UnsupportedError("per-statement counters", self.dialect)

    def configure(self) -> None:  # noqa: B027 (optional hook)
        """Apply the engine's per-connection settings (SQLite's pragmas) to a connection
        opened with ``Engine.connect(configure=False)``."""

    def begin_sql(self, mode: str = "deferred") -> str:
        """The BEGIN statement :meth:`begin` runs for ``mode`` (see :meth:`control`)."""
        return transaction_sql(self._modes, mode, self.dialect)

    _modes: ClassVar[dict[str, str]] = {}

    def control(self, sql: str) -> None:
        """Run one transaction-control statement as written: a :meth:`begin_sql` statement,
        ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT name``, ``RELEASE name`` or ``ROLLBACK TO name``.

        A session that logs the text it runs uses this instead of :meth:`begin`,
        :meth:`commit` and the savepoint methods; the connection keeps the same bookkeeping.
        """
        self._control(sql)

    @abstractmethod
    def executescript(self, sql: str) -> None:
        """Run every statement of a script in order, without parameters."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one statement; its rows, column description and row count."""

    @abstractmethod
    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one reading statement and return its rows: the lean path, no description.

        Use :meth:`execute` for writes: only it records :meth:`changes`.
        """

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement once per parameter row; the total number of rows changed.

        Outside a transaction it runs in one of its own, so it is all or nothing.
        """

    @abstractmethod
    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        """Run a statement with a RETURNING clause per parameter row; all returned rows, in order.

        This is how new keys come back on engines without :meth:`last_id`. Outside a
        transaction it runs in one of its own, so it is all or nothing.
        """

    @abstractmethod
    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk insert ``rows`` into ``table``: COPY on PostgreSQL, DuckDB's appender, else
        ``executemany``. Returns the number of rows inserted; all or nothing."""

    @abstractmethod
    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        """Yield the rows of a query in lists of at most ``batch`` rows, without holding them
        all (a server-side cursor on PostgreSQL). Close the generator to stop early."""

    def begin(self, mode: str = "deferred") -> None:
        """Start a transaction. Modes: "deferred", "immediate", "exclusive" everywhere (SQLite's
        locking modes; on PostgreSQL and DuckDB all three are a plain BEGIN), and on PostgreSQL
        also "read committed", "repeatable read", "serializable"."""
        self._control(self.begin_sql(mode))

    def commit(self) -> None:
        """Commit the open transaction."""
        self._control("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction."""
        self._control("ROLLBACK")

    def savepoint(self, name: str) -> None:
        """Mark a savepoint inside the open transaction."""
        self._control(f"SAVEPOINT {quote_identifier(name)}")

    def release(self, name: str) -> None:
        """Forget a savepoint, keeping what was done after it."""
        self._control(f"RELEASE SAVEPOINT {quote_identifier(name)}")

    def rollback_to(self, name: str) -> None:
        """Undo what was done after a savepoint; the savepoint stays."""
        self._control(f"ROLLBACK TO SAVEPOINT {quote_identifier(name)}")

    @abstractmethod
    def _control(self, sql: str) -> None:
        """Run a transaction-control statement."""

    def _whole(self, run: Callable[[], _T]) -> _T:
        """Run ``run`` in a transaction of its own unless one is open: all or nothing."""
        if self.in_transaction:
            return run()
        self.begin("immediate")
        try:
            done = run()
        except BaseException:
            try:
                self.rollback()
            except ActiveqError:
                logger.exception("rolling back after a failed batch failed")
            raise
        self.commit()
        return done

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""

    @abstractmethod
    def changes(self) -> int:
        """Rows changed by the latest write through :meth:`execute` (or the total of the
        latest :meth:`executemany` or :meth:`copy`)."""

    def last_id(self) -> Any:
        """The key the latest INSERT generated (SQLite's rowid)."""
        raise UnsupportedError("last insert id", self.dialect,
                               "new keys come back through RETURNING (executemany_returning)")

    @abstractmethod
    def explain(self, sql: str, params: Params = ()) -> PlanData:
        """The plan of a statement as data: steps, full scans, indexes used, sorts."""

    @abstractmethod
    def watch_commits(self, tables: Iterable[str] = ()) -> CommitWatch:
        """A watch reporting commits that other connections or processes make.

        ``tables`` matters on PostgreSQL only, where commits are announced by a trigger on
        each table watched (installed once); SQLite and DuckDB see every commit.
        """

    @staticmethod
    @abstractmethod
    def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
        """The activeq error for a driver exception (the caller raises it ``from`` the driver's)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Engine(ABC):
    """A database reached through one driver: opened from a URL, hands out connections."""

    dialect: ClassVar[str]
    """"sqlite", "postgres" or "duckdb"."""
    url: str
    """The URL or path it was opened with, any password replaced by ``***``."""

    @classmethod
    @abstractmethod
    def open(cls, url: str, **options: Any) -> Engine:
        """Open the database named by ``url``; errors (missing file, server down, login
        refused) are raised here as ``OperationalError``."""

    @abstractmethod
    def connect(self, configure: bool = True) -> Connection:
        """A connection of its own for the caller, who closes it.

        With ``configure=False`` the engine's per-connection settings are left for the caller
        to apply (:meth:`Connection.configure`), for a session that prepares connections in
        a hook of its own.
        """

    connection_class: ClassVar[type[Connection]]
    """The class of the connections :meth:`connect` returns."""

    def borrow(self) -> AbstractContextManager[Connection]:
        """``with engine.borrow() as conn:`` a connection of the engine's own pool for the
        block (psycopg_pool on PostgreSQL); engines without one refuse."""
        raise UnsupportedError("a pool of server connections", self.dialect)

    @property
    def private_memory(self) -> bool:
        """Whether the database lives inside one connection (SQLite's ":memory:"), so that
        a session must share that one connection between its threads."""
        return False

    @abstractmethod
    def close(self) -> None:
        """Close what the engine holds (idempotent); connections handed out stay open."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class AsyncConnection(ABC):
    """:class:`Connection` with awaitable methods, for drivers with native async I/O."""

    __slots__ = ()

    dialect: ClassVar[str]
    paramstyle: ClassVar[str]
    has_last_id: ClassVar[bool] = False
    has_savepoints: ClassVar[bool] = True
    raw: Any

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> Result:
        """See :meth:`Connection.execute`."""

    @abstractmethod
    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        """See :meth:`Connection.fetch`."""

    async def run(self, sql: str, params: Params = ()) -> list[Row]:
        """One compiled statement, read or write: its rows (RETURNING rows for a write), with
        :meth:`changes` counting a write; what :attr:`Connection.reader` does, awaited."""
        return (await self.execute(sql, params)).rows

    async def executescript(self, sql: str) -> None:
        """See :meth:`Connection.executescript`."""
        raise UnsupportedError("a script of several statements", self.dialect)

    async def control(self, sql: str) -> None:
        """See :meth:`Connection.control`."""
        raise UnsupportedError(f"the transaction statement {sql!r}", self.dialect)

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """See :meth:`Connection.executemany`."""

    @abstractmethod
    async def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        """See :meth:`Connection.executemany_returning`."""

    @abstractmethod
    async def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """See :meth:`Connection.copy`."""

    @abstractmethod
    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> AsyncIterator[list[Row]]:
        """See :meth:`Connection.stream`."""

    @abstractmethod
    async def begin(self, mode: str = "deferred") -> None:
        """See :meth:`Connection.begin`."""

    @abstractmethod
    async def commit(self) -> None:
        """See :meth:`Connection.commit`."""

    @abstractmethod
    async def rollback(self) -> None:
        """See :meth:`Connection.rollback`."""

    @abstractmethod
    async def savepoint(self, name: str) -> None:
        """See :meth:`Connection.savepoint`."""

    @abstractmethod
    async def release(self, name: str) -> None:
        """See :meth:`Connection.release`."""

    @abstractmethod
    async def rollback_to(self, name: str) -> None:
        """See :meth:`Connection.rollback_to`."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """See :attr:`Connection.in_transaction`."""

    @abstractmethod
    def changes(self) -> int:
        """See :meth:`Connection.changes`."""

    def last_id(self) -> Any:
        """See :meth:`Connection.last_id`."""
        raise UnsupportedError("last insert id", self.dialect,
                               "new keys come back through RETURNING (executemany_returning)")

    @abstractmethod
    async def explain(self, sql: str, params: Params = ()) -> PlanData:
        """See :meth:`Connection.explain`."""

    @abstractmethod
    async def watch_commits(self, tables: Iterable[str] = ()) -> CommitWatch:
        """See :meth:`Connection.watch_commits`."""

    @staticmethod
    @abstractmethod
    def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
        """See :meth:`Connection.translate`."""

    @abstractmethod
    async def close(self) -> None:
        """See :meth:`Connection.close`."""


class AsyncEngine(ABC):
    """:class:`Engine` for drivers with native async I/O."""

    dialect: ClassVar[str]
    url: str

    @classmethod
    @abstractmethod
    async def open(cls, url: str, **options: Any) -> AsyncEngine:
        """See :meth:`Engine.open`."""

    @abstractmethod
    async def connect(self) -> AsyncConnection:
        """See :meth:`Engine.connect`."""

    @abstractmethod
    async def close(self) -> None:
        """See :meth:`Engine.close`."""

    def borrow(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """``async with engine.borrow() as conn:`` a pooled connection for the block."""
        raise UnsupportedError("a pool of async connections", self.dialect)

    async def acquire(self) -> AsyncConnection:
        """A pooled connection, kept until :meth:`release` (what :meth:`borrow` does by hand)."""
        raise UnsupportedError("a pool of async connections", self.dialect)

    async def release(self, conn: AsyncConnection) -> None:
        """Give back a connection :meth:`acquire` lent, rolling back what it left open."""
        raise UnsupportedError("a pool of async connections", self.dialect)

    def reusable(self, conn: AsyncConnection) -> bool:
        """Whether an acquired ``conn`` may serve the next unit of work without going back to
        the pool first (False: always give it back)."""
        return False

    def bridge(self) -> Any:
        """A blocking :class:`Engine` whose connection runs each statement on the async
        connection of the greenlet calling it (see :mod:`activeq.engines.bridge`), so that
        activeq's synchronous session code runs on the event loop without a thread."""
        raise UnsupportedError("running the session on the event loop", self.dialect)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


OnConnect = Callable[[Any], Any]
