"""Which connection each thread uses, and the write lock that keeps a transaction its thread's.

An APSW connection serves one thread at a time (a call made while another thread's call runs
on it raises ``ThreadingViolationError``), and a transaction belongs to a connection. So:

* a ``Database`` on a file gives every thread a connection of its own (in WAL mode they read
  at the same time, each seeing the last commit);
* a ``:memory:`` database lives inside one connection: threads share it, and each statement
  runs under the write lock, so a thread waits while another thread's transaction is open;
* with ``pool_size`` one shared connection writes and reads borrow pooled connections
  (:mod:`activeq.pool`).

Every autocommit write and every transaction, from BEGIN to COMMIT or ROLLBACK, holds the
database's one :class:`WriteLock`. Another thread's write therefore never lands inside a
transaction nor is rolled back with it, and threads of one process queue on the lock instead of
polling SQLite's busy handler. Time spent waiting for the lock counts against
``busy_timeout_ms``: the statement that follows is given only what is left of it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from .engines import Connection
from .errors import BusyError
from .retry import rerun, retry_statement
from .values import raise_unbindable

if TYPE_CHECKING:
    from .compiler import Compiled
    from .database import Database

__all__ = ["Link", "ThreadState", "WriteLock", "is_memory", "serialize_reads"]


def is_memory(path: str) -> bool:
    """Whether ``path`` names an in-memory database (private to one connection).

    >>> is_memory(":memory:"), is_memory("file:x?mode=memory"), is_memory("app.db")
    (True, True, False)
    """
    return path in ("", ":memory:") or "mode=memory" in path


class Link:
    """One open connection and the ``PRAGMA data_version`` the commit watch last read on it."""

    __slots__ = ("conn", "seen", "__weakref__")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.seen: int | None = None
        """None until the commit watch first reads it (then any value counts as a change)."""


ThreadState = threading.local
"""A thread's state in a Database (``Database._thread()``), set when the thread first uses it:

* ``conn``, ``cursor``, ``link``: the engine connection its statements run on, that
  connection's ``reader`` (the driver's fastest statement runner), and its :class:`Link`;
* ``depth``: open transaction levels of this thread (0: autocommit);
* ``journal``: the :class:`~activeq.journal.Journal` of the records its open transaction
  wrote (None until the first one);
* ``cache_writes``: what its open transaction wrote, for the caches
  (:class:`~activeq.cache.TransactionWrites`; None when nothing cached is affected);
* ``connecting``: True while ``Database.connect()`` prepares a new connection of this thread;
* ``deadline``: ``perf_counter_ns()`` past which no lock wait or retry may go (0: none beyond
  the busy timeout), set by ``db.atomic()`` so that its tries share one budget;
* ``timeout_cut``: whether the connection's busy timeout was shortened to what a lock wait
  left over.

A plain ``threading.local`` (a subclass costs a generic attribute lookup on every access).
"""


class WriteLock:
    """The database's write lock: re-entrant within a thread, bounded by the busy timeout.

    ``acquire`` returns 0 when the lock was free, else the ``perf_counter_ns()`` at which the
    wait began, so that retries after it keep to the same budget.
    """

    __slots__ = ("rlock", "timeout_ms")

    def __init__(self, timeout_ms: int) -> None:
        self.rlock = threading.RLock()
        self.timeout_ms = timeout_ms

    def acquire(self, state: ThreadState) -> int:
        if self.rlock.acquire(False):
            if state.deadline:
                self.cut(state, state.deadline)
            return 0
        return self.wait(state)

    def try_acquire(self) -> bool:
        """Take the lock only if no other thread holds it."""
        return self.rlock.acquire(False)

    def release(self, state: ThreadState) -> None:
        if state.timeout_cut:
            self.restore(state)
        self.rlock.release()

    def restore(self, state: ThreadState) -> None:
        """Give the connection its full busy timeout back after :meth:`cut`."""
        state.timeout_cut = False
        state.conn.set_busy_timeout(self.timeout_ms)

    def release_plain(self) -> None:
        """Release what :meth:`try_acquire` took."""
        self.rlock.release()

    def wait(self, state: ThreadState) -> int:
        """The slow path of :meth:`acquire`: wait within the budget, else BusyError."""
        started = perf_counter_ns()
        deadline = state.deadline or started + self.timeout_ms * 1_000_000
        left = (deadline - started) / 1e9
        if left <= 0 or not self.rlock.acquire(True, left):
            busy = BusyError(
                f"the database stayed busy: another thread of this process held its write lock "
                f"for {(perf_counter_ns() - started) / 1e6:.0f} ms (busy_timeout_ms is "
                f"{self.timeout_ms})")
            raise busy
        self.cut(state, deadline)
        return started

    def cut(self, state: ThreadState, deadline: int) -> None:
        """Let SQLite's own busy handler wait only for what is left before ``deadline``."""
        left_ms = (deadline - perf_counter_ns()) // 1_000_000
        if left_ms < self.timeout_ms:
            state.conn.set_busy_timeout(max(0, left_ms))
            state.timeout_cut = True


def serialize_reads(db: Database) -> None:
    """Make every read of ``db`` hold the write lock (for a connection threads share).

    Only this instance changes: file databases keep reads free of any lock.
    """
    plain_stream = type(db)._stream
    lock = db._writer

    log = db.log
    rlock = lock.rlock
    driver_errors = db._driver_errors

    def _select(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool) -> list[Any]:
        # Database._select with the lock around it, inline: every read of an in-memory
        # database passes here, and a wrapper's extra call costs more than the lock.
        state = db._local
        try:
            held = state.depth
        except AttributeError:  # the thread's first statement
            held = db._thread().depth
        if not held:
            if rlock.acquire(False):
                if state.deadline:
                    lock.cut(state, state.deadline)
            else:
                lock.wait(state)
        try:
            cur = state.cursor
            t0 = perf_counter_ns()
            try:
                rows = cur.execute(entry.sql, values).fetchall()
            except driver_errors as e:
                rows = retry_statement(db, e, entry.sql, rerun(cur, entry.sql, values), t0)
            except (OverflowError, UnicodeEncodeError) as e:
                raise_unbindable(e, values)
            log.record(entry.sql, shape, values, compile_ns, perf_counter_ns() - t0, len(rows),
                       hit)
            return rows
        finally:
            if not held:
                if state.timeout_cut:
                    lock.restore(state)
                rlock.release()

    def _stream(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool,
                batch: int) -> Any:
        state = db._thread()
        if state.depth:
            yield from plain_stream(db, entry, values, shape, compile_ns, hit, batch)
            return
        # Read whole under the lock: a statement left open between batches on a shared
        # connection would see (or be aborted by) another thread's transaction.
        lock.acquire(state)
        try:
            batches = list(plain_stream(db, entry, values, shape, compile_ns, hit, batch))
        finally:
            lock.release(state)
        yield from batches

    db._select = _select  # type: ignore[method-assign]
    db._stream = _stream  # type: ignore[method-assign]


def stream_rows(db: Database, conn: Connection, entry: Compiled, values: Any, shape: Any,
                compile_ns: int, hit: bool, batch: int) -> Iterator[list[Any]]:
    """Run a SELECT through the engine's stream and yield its rows in lists of at most ``batch``.

    One timing record is written when the stream ends, with the time spent in the driver.
    """
    elapsed = 0
    count = 0
    t0 = perf_counter_ns()
    parts = iter(conn.stream(entry.sql, values, batch))
    try:
        for rows in parts:
            elapsed += perf_counter_ns() - t0
            count += len(rows)
            yield rows
            t0 = perf_counter_ns()
        elapsed += perf_counter_ns() - t0
    except (OverflowError, UnicodeEncodeError) as e:
        raise_unbindable(e, values)
    finally:
        close = getattr(parts, "close", None)
        if close is not None:
            close()  # ends the statement when the caller stops early
        db.log.record(entry.sql, shape, values, compile_ns, elapsed, count, hit)
