"""A bounded pool of reader connections: borrowing with a timeout, hand-off, statistics.

In WAL mode any number of readers proceed while one writer writes, and APSW releases the GIL
while SQLite works, so reads on separate connections in separate threads really run at the
same time. A ``Database(path, pool_size=N)`` keeps its one connection for writes (and for
reads inside a transaction, which must see their own writes) and reads everywhere else on a
pooled connection. The pool hands a released connection straight to the longest waiting
borrower, thread or asyncio task alike, so nobody waits while another borrower jumps ahead.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .connections import is_memory, stream_rows
from .engines import Connection
from .errors import ActiveqError, ConfigurationError
from .values import raise_unbindable

if TYPE_CHECKING:
    from .database import Database

__all__ = ["ConnectionPool", "PoolStats", "PoolTimeoutError", "attach_pool", "attach_server_pool"]

T = TypeVar("T")


def check_pool_size(size: Any, timeout: Any, error: type[ActiveqError] = ConfigurationError) -> None:
    """Refuse a pool size that is not a positive integer, or a negative or missing timeout.

    >>> check_pool_size(0, 5.0)
    Traceback (most recent call last):
    ...
    activeq.errors.ConfigurationError: pool_size must be a positive integer, not 0
    """
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise error(f"pool_size must be a positive integer, not {size!r}")
    if (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout != timeout
            or timeout < 0):
        raise error(f"pool_timeout must be a non-negative number of seconds, not {timeout!r}")


class PoolTimeoutError(ActiveqError, TimeoutError):
    """No pooled connection became free within the borrow timeout.

    Attributes:
        timeout: the seconds waited.
        size: the pool's size.

    >>> from activeq import ActiveqError, PoolTimeoutError
    >>> error = PoolTimeoutError(timeout=5.0, size=4, in_use=4)
    >>> isinstance(error, TimeoutError) and isinstance(error, ActiveqError), error.size
    (True, 4)
    """

    def __init__(self, timeout: float, size: int, in_use: int) -> None:
        super().__init__(
            f"no reader connection became free within {timeout:g} s: all {size} are in use "
            f"({in_use} borrowed); raise pool_size or pool_timeout, or keep fewer reads in flight"
        )
        self.timeout = timeout
        self.size = size


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of a pool's counters.

    >>> import asyncio, os, tempfile
    >>> from activeq import AsyncDatabase
    >>> async def main():
    ...     db = AsyncDatabase(os.path.join(tempfile.mkdtemp(), 'pool.db'), pool_size=2)
    ...     stats = db.pool_stats()
    ...     await db.close()
    ...     return stats.size
    >>> asyncio.run(main())
    2
    """

    size: int
    """The most connections the pool opens."""
    opened: int
    """Connections opened so far."""
    in_use: int
    """Connections borrowed right now."""
    idle: int
    """Open connections waiting to be borrowed."""
    waiting: int
    """Borrowers waiting for a connection right now."""
    borrows: int
    """Successful borrows since the pool was created."""
    waits: int
    """Borrows that had to wait for a connection."""
    timeouts: int
    """Borrows that gave up after the timeout."""
    peak_in_use: int
    """The most connections ever borrowed at once."""
    wait_ns: int
    """Total time borrowers spent waiting, in nanoseconds."""
    max_wait_ns: int
    """The longest single wait, in nanoseconds."""


class _ThreadWaiter:
    __slots__ = ("event", "item")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.item: Any = None

    def give(self, item: Any) -> bool:
        self.item = item
        self.event.set()
        return True


class _TaskWaiter:
    __slots__ = ("loop", "future", "item")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.item: Any = None

    def give(self, item: Any) -> bool:
        self.item = item
        try:
            self.loop.call_soon_threadsafe(_wake, self.future)
        except RuntimeError:  # its event loop is closed: nobody is left to take the item
            self.item = None
            return False
        return True


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ConnectionPool(Generic[T]):
    """A bounded set of connections opened on demand and lent out one borrower at a time.

    Args:
        factory: opens a new connection.
        size: the most connections open at once (at least 1).
        timeout: default seconds a borrower waits before :class:`PoolTimeoutError`.
        close: closes a connection (when the pool closes).

    >>> pool = ConnectionPool(object, size=1, timeout=0.01)
    >>> with pool.borrow() as conn:
    ...     pool.acquire()
    Traceback (most recent call last):
    ...
    activeq.pool.PoolTimeoutError: no reader connection became free within 0.01 s: all 1 are in use (1 borrowed); raise pool_size or pool_timeout, or keep fewer reads in flight
    >>> pool.stats().timeouts
    1
    """

    def __init__(self, factory: Callable[[], T], size: int, timeout: float = 5.0,
                 close: Callable[[T], None] | None = None) -> None:
        check_pool_size(size, timeout, ActiveqError)
        self.factory = factory
        self.size = size
        self.timeout = float(timeout)
        self._close_item = close
        self._lock = threading.Lock()
        self._idle: list[T] = []
        self._waiters: deque[Any] = deque()
        self._opened = 0
        self._in_use = 0
        self._closed = False
        self._borrows = 0
        self._waits = 0
        self._timeouts = 0
        self._peak = 0
        self._wait_ns = 0
        self._max_wait_ns = 0
        self.held = threading.local()
        """``held.conn``: a connection the current thread borrowed for a whole unit of work."""

    # borrowing -----------------------------------------------------------------------------
    def try_acquire(self) -> T | None:
        """A connection if one is idle or may be opened now, else None (never waits)."""
        with self._lock:
            if self._closed:
                raise ActiveqError("the connection pool is closed")
            if self._idle:
                return self._lent(self._idle.pop())
            if self._opened >= self.size:
                return None
            self._opened += 1
        return self._open()

    def acquire(self, timeout: float | None = None) -> T:
        """Borrow a connection, waiting up to ``timeout`` seconds (default: the pool's)."""
        item = self.try_acquire()
        if item is not None:
            return item
        timeout = self.timeout if timeout is None else timeout
        waiter = _ThreadWaiter()
        with self._lock:
            if self._idle:  # released between the two locked sections
                return self._lent(self._idle.pop())
            self._waiters.append(waiter)
        t0 = perf_counter_ns()
        waiter.event.wait(timeout)
        with self._lock:
            if waiter.item is None:
                self._abandon(waiter, True)
                raise PoolTimeoutError(timeout, self.size, self._in_use)
            self._count_wait(perf_counter_ns() - t0)
        return waiter.item  # type: ignore[no-any-return]

    async def acquire_async(self, timeout: float | None = None) -> T:
        """Borrow a connection from asyncio code without blocking the event loop."""
        item = self.try_acquire()
        if item is not None:
            return item
        timeout = self.timeout if timeout is None else timeout
        waiter = _TaskWaiter(asyncio.get_running_loop())
        with self._lock:
            if self._idle:
                return self._lent(self._idle.pop())
            self._waiters.append(waiter)
        t0 = perf_counter_ns()
        try:
            await asyncio.wait_for(waiter.future, timeout)
        except BaseException as e:
            with self._lock:
                given = waiter.item
                if given is None:
                    self._abandon(waiter, isinstance(e, TimeoutError))
                    if isinstance(e, TimeoutError):
                        raise PoolTimeoutError(timeout, self.size, self._in_use) from None
                    raise
                self._count_wait(perf_counter_ns() - t0)
            if isinstance(e, TimeoutError):
                return given  # type: ignore[no-any-return]  # handed over just as time ran out
            self.release(given)  # cancelled after the hand-off: give it to the next borrower
            raise
        with self._lock:
            self._count_wait(perf_counter_ns() - t0)
        return waiter.item  # type: ignore[no-any-return]

    def release(self, item: T) -> None:
        """Return a borrowed connection (to the first waiter, if any)."""
        with self._lock:
            if not self._closed:
                while self._waiters:
                    waiter = self._waiters.popleft()
                    if waiter.give(item):
                        self._borrows += 1
                        return
                self._in_use -= 1
                self._idle.append(item)
                return
            self._in_use -= 1
            self._opened -= 1
        self._dispose(item)

    @contextmanager
    def borrow(self, timeout: float | None = None) -> Iterator[T]:
        """``with pool.borrow() as conn:`` acquire, then release whatever happens."""
        item = self.acquire(timeout)
        try:
            yield item
        finally:
            self.release(item)

    def fill(self) -> None:
        """Open every connection now (so none is opened later, e.g. on an event loop)."""
        items = []
        try:
            while True:
                item = self.try_acquire()
                if item is None:
                    break
                items.append(item)
        finally:
            for item in items:
                self.release(item)

    # internals (called with the lock held) -------------------------------------------------
    def _lent(self, item: T) -> T:
        self._in_use += 1
        self._borrows += 1
        if self._in_use > self._peak:
            self._peak = self._in_use
        return item

    def _open(self) -> T:
        try:
            item = self.factory()
        except BaseException:
            with self._lock:
                self._opened -= 1
            raise
        with self._lock:
            return self._lent(item)

    def _abandon(self, waiter: Any, timed_out: bool) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass
        if timed_out:
            self._timeouts += 1

    def _count_wait(self, ns: int) -> None:
        # The hand-off kept in_use as it was: the releaser's count passed to the waiter.
        self._waits += 1
        self._wait_ns += ns
        if ns > self._max_wait_ns:
            self._max_wait_ns = ns

    def _dispose(self, item: T) -> None:
        if self._close_item is not None:
            self._close_item(item)

    # state ---------------------------------------------------------------------------------
    def stats(self) -> PoolStats:
        """The pool's counters right now."""
        with self._lock:
            return PoolStats(
                size=self.size, opened=self._opened, in_use=self._in_use, idle=len(self._idle),
                waiting=len(self._waiters), borrows=self._borrows, waits=self._waits,
                timeouts=self._timeouts, peak_in_use=self._peak, wait_ns=self._wait_ns,
                max_wait_ns=self._max_wait_ns,
            )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close idle connections now and borrowed ones as they come back (idempotent)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
        for item in idle:
            self._dispose(item)

    def __repr__(self) -> str:
        s = self.stats()
        return f"<ConnectionPool size={s.size} open={s.opened} in_use={s.in_use} waiting={s.waiting}>"


# Database integration --------------------------------------------------------------------

def _run_select(db: Database, conn: Connection, entry: Any, values: Any, shape: Any,
                compile_ns: int, hit: bool) -> list[Any]:
    """One compiled SELECT on a borrowed connection, logged like ``Database._select``."""
    t0 = perf_counter_ns()
    try:
        rows = conn.reader.execute(entry.sql, values).fetchall()
    except conn.driver_errors as e:
        raise conn.translate(e, entry.sql) from e
    except (OverflowError, UnicodeEncodeError) as e:
        raise_unbindable(e, values)
    db.log.record(entry.sql, shape, values, compile_ns, perf_counter_ns() - t0, len(rows), hit)
    return rows


def attach_server_pool(db: Database) -> None:
    """Make ``db`` read on its engine's own pool (psycopg_pool on PostgreSQL).

    A server keeps its connections' transactions apart itself, so unlike :func:`attach_pool`
    nothing is funnelled through one writer: reads outside the calling thread's transaction
    borrow a pooled connection for the statement (or the whole stream), while writes and
    transactions stay on the thread's own connection. Only this instance's read methods change.
    """
    engine = db.engine
    local = db._local
    cls = type(db)
    plain_select = cls._select
    plain_stream = cls._stream

    def _select(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool) -> list[Any]:
        # getattr: a thread that only reads needs no connection of its own.
        if getattr(local, "depth", 0):  # inside this thread's transaction: see its own writes
            return plain_select(db, entry, values, shape, compile_ns, hit)
        with engine.borrow() as conn:
            return _run_select(db, conn, entry, values, shape, compile_ns, hit)

    def _stream(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool,
                batch: int) -> Iterator[list[Any]]:
        if getattr(local, "depth", 0):
            yield from plain_stream(db, entry, values, shape, compile_ns, hit, batch)
            return
        with engine.borrow() as conn:
            yield from stream_rows(db, conn, entry, values, shape, compile_ns, hit, batch)

    db._select = _select  # type: ignore[method-assign]
    db._stream = _stream  # type: ignore[method-assign]

def attach_pool(db: Database, size: int, timeout: float) -> ConnectionPool[Connection]:
    """Give ``db`` a pool of reader connections; its shared connection becomes the writer.

    Reads outside a transaction run on a pooled connection (read-only: ``query_only``);
    reads inside the current thread's transaction, and every write, use the writer under the
    database's write lock. Only this instance's read methods change, so databases without a
    pool keep the plain path.
    """
    if is_memory(db.path):
        raise ActiveqError(
            "a connection pool needs a database file: an in-memory database is private to "
            "one connection"
        )

    def open_reader() -> Connection:
        conn = db._open_connection()
        try:
            conn.execute("PRAGMA query_only=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    pool: ConnectionPool[Connection] = ConnectionPool(
        open_reader, size, timeout, close=lambda conn: conn.close()
    )
    held = pool.held
    cls = type(db)
    plain_select = cls._select
    plain_stream = cls._stream

    run_select = functools.partial(_run_select, db)

    def _select(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool) -> list[Any]:
        conn = getattr(held, "conn", None)
        if conn is not None:
            return run_select(conn, entry, values, shape, compile_ns, hit)
        if db._thread().depth:  # inside this thread's transaction: see its own writes
            return plain_select(db, entry, values, shape, compile_ns, hit)
        conn = pool.acquire()
        try:
            return run_select(conn, entry, values, shape, compile_ns, hit)
        finally:
            pool.release(conn)

    def _stream(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool,
                batch: int) -> Iterator[list[Any]]:
        conn: Connection | None = getattr(held, "conn", None)
        if conn is None and db._thread().depth:
            yield from plain_stream(db, entry, values, shape, compile_ns, hit, batch)
            return
        borrowed = conn is None
        if conn is None:
            conn = pool.acquire()
        try:
            yield from stream_rows(db, conn, entry, values, shape, compile_ns, hit, batch)
        finally:
            if borrowed:
                pool.release(conn)

    plain_close = cls.close

    def close() -> None:
        pool.close()
        plain_close(db)

    db._select = _select  # type: ignore[method-assign]
    db._stream = _stream  # type: ignore[method-assign]

    db.close = close  # type: ignore[method-assign]
    return pool
