"""The async API: awaitable terminals over the synchronous machinery, run in worker threads.

``AsyncDatabase`` owns a synchronous :class:`~activeq.Database` with a reader pool (see
:mod:`activeq.pool`). A read borrows a reader connection on the event loop (waiting without
blocking it) and runs the ordinary synchronous terminal on a reader thread; APSW releases the
GIL while SQLite works, so reads gathered with ``asyncio.gather`` run in parallel. Writes run
in submission order on one writer thread over the one writer connection. Compilation, row
mapping, includes, batches and the query log are the synchronous code paths, unchanged: inside
a worker thread an ``AsyncActiveRecord`` behaves exactly like an ``ActiveRecord``.

On PostgreSQL there is no worker thread: the same synchronous code runs in a greenlet on the
event loop's thread over psycopg's ``AsyncConnection`` (see :mod:`activeq.engines.bridge`).
Each awaited call runs on one connection of psycopg_pool's ``AsyncConnectionPool`` (a
transaction keeps one until it ends), and its statements are awaited on the loop. The last
connection given back is kept out of the pool while nobody waits for one, so awaits one after
another reuse one server session without a trip to the pool, while gathered calls take more
pooled connections and run at once; the kept connection counts within ``pool_size``.
``find_by_id`` outside a transaction and without an instance cache awaits its one compiled
statement straight on that connection, with no greenlet (same statement, timing record and
row builder as the synchronous lookup).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from queue import SimpleQueue
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

from .database import Database, check_transaction_mode
from .engines import AsyncConnection, AsyncEngine, async_engine_for, dialect_of
from .errors import ActiveqError, ArgumentTypeError, CompileError
from .model import ActiveRecord
from .nplusone import call_sites, run_from
from .pool import PoolStats, check_pool_size
from .query import _SET_STATE, CompiledQuery, Query
from .results import Row
from .schema import check_bind
from .values import raise_unbindable

if TYPE_CHECKING:
    from .ast import ColumnRef

__all__ = ["AsyncActiveRecord", "AsyncCompiledQuery", "AsyncDatabase", "AsyncQuery",
           "AsyncTransaction"]

M = TypeVar("M")
R = TypeVar("R")

# Worker threads run the synchronous API: there, query() returns a plain Query and record
# methods return results instead of awaitables.
_worker = threading.local()

# The async transaction the current task runs in (inherited by tasks it starts).
_TX: ContextVar[AsyncTransaction | None] = ContextVar("activeq_transaction", default=None)


def _in_worker() -> bool:
    return getattr(_worker, "active", False)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _work(jobs: SimpleQueue[Any], held: threading.local) -> None:
    _worker.active = True
    get = jobs.get
    while True:
        job = get()
        if job is None:
            return
        fn, args, conn, pool, loop, future = job
        job = None
        result = error = None
        if conn is not None:
            held.conn = conn
        try:
            # A task cancelled before its job started needs no result: skip the work.
            if not future.cancelled():
                result = fn(*args)
        except BaseException as e:  # delivered to the awaiting task, never lost
            error = e
        finally:
            if conn is not None:
                held.conn = None
                if pool is not None:
                    pool.release(conn)
        try:
            loop.call_soon_threadsafe(_settle, future, result, error)
        except RuntimeError:  # the event loop closed while the job ran
            pass
        fn = args = conn = future = result = error = None


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Results nobody awaits any more (a cancelled caller) must not be reported as lost errors.
    if not future.cancelled():
        future.exception()


class AsyncDatabase:
    """A database for asyncio. SQLite (and DuckDB): pooled reads in parallel on reader
    threads, writes in order on one writer thread. PostgreSQL (``postgresql://...``):
    psycopg's async connections on the event loop, no thread.

    Args:
        path: file name, or ":memory:" (one connection: reads then run on the writer thread),
            or a URL (see ``Database``).
        pool_size: reader connections (and reader threads); on PostgreSQL the most
            connections of the async pool.
        pool_timeout: seconds a read waits for a free reader before ``PoolTimeoutError``.
        **options: passed to :class:`~activeq.Database` (pragmas, busy_timeout_ms,
            on_connect, slow_query_ms, ...). ``fetch_mode`` defaults to 'raise': relations
            are loaded with ``includes()``.

    >>> import asyncio
    >>> from activeq import AsyncActiveRecord, AsyncDatabase, Field
    >>> class Pet(AsyncActiveRecord):
    ...     __table_name__ = 'pets'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    >>> async def main():
    ...     async with AsyncDatabase(':memory:') as db:
    ...         db.bind(Pet)
    ...         await db.create_tables(Pet)
    ...         rex = Pet(name='Rex')
    ...         await rex.save()
    ...         return (await Pet.find_by_id(rex.id)).name
    >>> asyncio.run(main())
    'Rex'
    """

    def __init__(self, path: str = ":memory:", *, pool_size: int = 4, pool_timeout: float = 5.0,
                 **options: Any) -> None:
        memory = path in ("", ":memory:") or "mode=memory" in path
        # Reading an unloaded relation would run a query right there, blocking the event
        # loop: by default it raises and points to includes().
        options.setdefault("fetch_mode", "raise")
        self.path = path
        self._closing = False
        self._closed = False
        self._close_future: asyncio.Future[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._writes: SimpleQueue[Any] = SimpleQueue()
        self._reads: SimpleQueue[Any] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.native: AsyncEngine | None = None
        """The driver's async engine when it has one (PostgreSQL: psycopg's AsyncConnection and
        AsyncConnectionPool); None where statements run on worker threads (SQLite, DuckDB)."""
        native = async_engine_for(path)
        if native is not None:
            self._init_native(native, pool_size, pool_timeout, options)
            return
        # Reader threads on pooled connections for a SQLite file; DuckDB (one process holds
        # its file) and in-memory databases read on the writer thread.
        pooled = not memory and dialect_of(path) == "sqlite"
        self.sync = Database(path, pool_size=pool_size if pooled else None,
                             pool_timeout=pool_timeout, **options)
        """The synchronous Database doing the work (its own connection is the writer)."""
        self.pool = self.sync.pool
        """The reader pool, or None for an in-memory database (and on a native async engine)."""
        try:
            if self.pool is not None:
                # Opened now so that no connection is ever opened on the event loop.
                self.pool.fill()
        except BaseException:
            self.sync.close()
            raise
        held = self.pool.held if self.pool is not None else threading.local()
        self._threads = [threading.Thread(target=_work, args=(self._writes, held),
                                          name="activeq-writer", daemon=True)]
        for i in range(self.pool.size if self.pool is not None else 0):
            self._threads.append(threading.Thread(target=_work, args=(self._reads, held),
                                                  name=f"activeq-reader-{i}", daemon=True))
        for thread in self._threads:
            thread.start()

    @property
    def dialect(self) -> str:
        """The SQL dialect: "sqlite", "postgres" or "duckdb"."""
        return self.sync.dialect

    # native async engines ------------------------------------------------------------------
    def _init_native(self, engine_class: type[AsyncEngine], pool_size: int, pool_timeout: float,
                     options: dict[str, Any]) -> None:
        check_pool_size(pool_size, pool_timeout)
        on_connect = options.pop("on_connect", None)
        engine = engine_class(self.path, pool_size=pool_size,  # type: ignore[call-arg]
                              pool_timeout=pool_timeout, on_connect=on_connect)
        self.native = engine
        self._bridge = engine.bridge()
        self.sync = Database(self._bridge, **options)
        self.pool = None
        # The session's per-thread state as a fresh unit of work starts it (no transaction).
        self._baseline = dict(self.sync._local.__dict__)
        # Only the loop's thread uses the session, and its greenlets take turns: a plain
        # object whose attributes are the running unit's own dict (see _Unit.enter) replaces
        # the thread-local state.
        self.sync._local = _UnitState()  # type: ignore[assignment]
        self.sync._local.__dict__ = dict(self._baseline)
        self._opened = False
        self._open_lock: asyncio.Lock | None = None
        self._open_units = 0
        self._unchecked: list[type[ActiveRecord]] = []
        self._kept: AsyncConnection | None = None  # see _take

    async def _ready(self) -> None:
        """Connect once (a server that is down or refuses the login is reported here)."""
        if self._opened:
            return
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if not self._opened:
                first = await self.native.connect()  # type: ignore[union-attr]
                await first.close()
                self._opened = True

    async def _native_run(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        tx = _TX.get()
        if tx is not None and tx.db is self:
            return await tx._unit.run(fn, args)  # type: ignore[union-attr]
        if self._closing:
            raise ActiveqError("the AsyncDatabase is closed")
        conn = await self._take()
        unit = _Unit(self, conn)
        try:
            if self._unchecked:
                await unit.run(self._check_bound, ())
            return await unit.run(fn, args)
        finally:
            unit.end()
            await self._give(conn)

    def _find(self, model: Any, id: Any) -> Awaitable[Any]:
        """``await model.find_by_id(id)`` on a native async engine."""
        found = self.sync._find_entries.get(model)
        # The direct path needs the compiled lookup (made by the first call), no instance
        # cache, reads not replaced on the session, and no transaction of this task (whose
        # unit of work holds the connection and state the read must run in).
        if found is None or found[2] is not None or self._unchecked \
                or "_select" in self.sync.__dict__:
            return self._native_run(_find_by_id, (model, id))
        tx = _TX.get()
        if tx is not None and tx.db is self:
            return self._native_run(_find_by_id, (model, id))
        return self._find_direct(found[0], found[1], id)

    async def _find_direct(self, entry: Any, shape: Any, id: Any) -> Any:
        """The primary-key lookup of a cached shape, awaited straight on a connection.

        The same statement, timing record (query log, statistics, slow queries, N+1
        detection) and row builder as ``Database._find_by_id``, without entering a greenlet:
        one awaited statement has nothing to run in between.
        """
        if self._closing:
            raise ActiveqError("the AsyncDatabase is closed")
        conn = self._kept
        if conn is None:
            conn = await self._take()
        else:
            self._kept = None
        values = (id,)
        try:
            t0 = perf_counter_ns()
            try:
                rows = await conn.run(entry.sql, values)
            except (OverflowError, UnicodeEncodeError) as e:
                raise_unbindable(e, values)
            sync = self.sync
            sync.log.record(entry.sql, shape, values, 0, perf_counter_ns() - t0, len(rows), True)
        finally:
            if self._kept is None and not self._closing \
                    and self.native.reusable(conn):  # type: ignore[union-attr]
                self._kept = conn
            else:
                await self.native.release(conn)  # type: ignore[union-attr]
        if not rows:
            return None
        return entry.mapper(rows, sync._default_ctx)[0]

    async def _take(self) -> AsyncConnection:
        """A connection for one unit of work: the one the last unit gave back when it is free
        (awaits one after another run on one server session, with no trip to the pool), else a
        pooled one (gathered work runs at once, on at most ``pool_size`` connections)."""
        conn = self._kept
        if conn is None:
            await self._ready()
            conn = self._kept  # another unit may have ended while this one waited to open
            if conn is None:
                return await self.native.acquire()  # type: ignore[union-attr]
        self._kept = None
        return conn

    async def _give(self, conn: AsyncConnection) -> None:
        """End a unit of work on ``conn``: keep it for the next unit, or give it back to the
        pool when someone waits there (it counts within ``pool_size`` while kept), when a
        transaction was left open on it, or when it broke."""
        native = self.native
        if self._kept is None and not self._closing and native.reusable(conn):  # type: ignore[union-attr]
            self._kept = conn
        else:
            await native.release(conn)  # type: ignore[union-attr]

    def _check_bound(self) -> None:
        models, self._unchecked = self._unchecked, []
        try:
            check_bind(self.sync, models)
        except BaseException:
            self._unchecked[:0] = models
            raise

    # models --------------------------------------------------------------------------------
    def bind(self, *models: type[ActiveRecord]) -> None:
        """Make these async models (or ``AsyncActiveRecord`` for all of them) use this database.

        On a native async engine the check of existing tables against the models waits for
        the first awaited call (reading the catalog here would block the event loop).
        """
        if self.native is not None:
            self.sync._attach_models(models)
            self._unchecked.extend(models)
        else:
            self.sync.bind(*models)
        for model in models:
            type.__setattr__(model, "__async_database__", self)

    async def create_tables(self, *models: type[ActiveRecord], if_not_exists: bool = True) -> None:
        """CREATE TABLE and CREATE INDEX for each model (on the writer)."""
        await self._write(functools.partial(self.sync.create_tables, *models,
                                            if_not_exists=if_not_exists))

    async def drop_tables(self, *models: type[ActiveRecord], if_exists: bool = True) -> None:
        """DROP TABLE for each model (on the writer)."""
        await self._write(functools.partial(self.sync.drop_tables, *models, if_exists=if_exists))

    # execution -----------------------------------------------------------------------------
    async def execute(self, sql: str, params: Any = ()) -> Any:
        """Run raw SQL on the writer connection; returns the same ``Cursor`` as ``Database``."""
        return await self._write(self.sync.execute, sql, params)

    async def executescript(self, sql: str) -> None:
        """Run every statement of a script on the writer (see ``Database.executescript``)."""
        await self._write(self.sync.executescript, sql)

    async def run_sync(self, fn: Callable[[Database], R], *, write: bool = True) -> R:
        """Run ``fn(database)`` in a worker thread: the writer's (default) or a reader's.

        Inside ``fn`` every activeq call is synchronous, async models included.
        """
        if write:
            return await self._write(fn, self.sync)
        return await self._read(fn, self.sync)

    def _read(self, fn: Callable[..., R], *args: Any) -> Awaitable[R]:
        if self.sync.log.observers and fn is not run_from:
            # The statement runs on another stack: N+1 detection counts it at the caller's lines.
            fn, args = run_from, (call_sites(), fn, *args)  # type: ignore[assignment]
        if self.native is not None:
            return self._native_run(fn, args)
        tx = _TX.get()
        if self.pool is None or (tx is not None and tx.db is self):
            # Inside a transaction a read must see its own writes: it runs on the writer.
            return self._write(fn, *args)
        return self._pooled(fn, args)

    async def _pooled(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        if self._closing:
            raise ActiveqError("the AsyncDatabase is closed")
        pool = self.pool
        conn = pool.try_acquire()  # type: ignore[union-attr]
        if conn is None:
            conn = await pool.acquire_async()  # type: ignore[union-attr]
        if self._closing:
            pool.release(conn)  # type: ignore[union-attr]
            raise ActiveqError("the AsyncDatabase is closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._reads.put((fn, args, conn, pool, loop, future))
        return await future  # type: ignore[no-any-return]

    @asynccontextmanager
    async def _session(self) -> AsyncGenerator[Callable[..., Awaitable[Any]], None]:
        """Jobs that must share one connection across awaits (a cursor kept open)."""
        tx = _TX.get()
        if self.native is not None:
            if tx is not None and tx.db is self:
                unit = tx._unit
                yield lambda fn, *args: unit.run(fn, args)  # type: ignore[union-attr]
                return
            if self._closing:
                raise ActiveqError("the AsyncDatabase is closed")
            native_conn = await self._take()
            own = _Unit(self, native_conn)
            try:
                yield lambda fn, *args: own.run(fn, args)
            finally:
                own.end()
                await self._give(native_conn)
            return
        pool = self.pool
        if pool is None or (tx is not None and tx.db is self):
            yield self._write
            return
        if self._closing:
            raise ActiveqError("the AsyncDatabase is closed")
        conn = pool.try_acquire() or await pool.acquire_async()
        loop = asyncio.get_running_loop()

        def run(fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
            if self._closed:
                raise ActiveqError("the AsyncDatabase is closed")
            future = loop.create_future()
            # No pool in the job: the connection stays borrowed between jobs.
            self._reads.put((fn, args, conn, None, loop, future))
            return future

        try:
            yield run
        finally:
            pool.release(conn)

    async def _write(self, fn: Callable[..., R], *args: Any) -> R:
        if self.sync.log.observers and fn is not run_from:
            fn, args = run_from, (call_sites(), fn, *args)  # type: ignore[assignment]
        if self.native is not None:
            return await self._native_run(fn, args)
        tx = _TX.get()
        if tx is None or tx.db is not self:
            if self._closing:
                raise ActiveqError("the AsyncDatabase is closed")
            lock = self._tx_lock()
            if lock.locked():
                # Another task's transaction is open on the writer: wait until it ends rather
                # than land inside it.
                async with lock:
                    future = self._submit(fn, args)
                return await future  # type: ignore[no-any-return]
        return await self._submit(fn, args)  # type: ignore[no-any-return]

    def _submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._writes.put((fn, args, None, None, loop, future))
        return future

    def _tx_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._lock
        if lock is None or (self._lock_loop is not loop and not lock.locked()):
            lock = self._lock = asyncio.Lock()
            self._lock_loop = loop
        return lock

    # transactions --------------------------------------------------------------------------
    def transaction(self, mode: str = "immediate") -> AsyncTransaction:
        """``async with db.transaction():`` BEGIN IMMEDIATE by default; nested: savepoints.

        Statements of the task (and of tasks it starts) inside the block run on the writer;
        other tasks' writes wait until the block ends, their reads see the last commit. An
        exception or a cancellation rolls the block back.
        """
        return AsyncTransaction(self, mode)

    atomic = transaction

    @property
    def in_transaction(self) -> bool:
        """Whether some task has a transaction open on this database."""
        if self.native is not None:
            return self._open_units > 0
        return self._lock is not None and self._lock.locked()

    # monitoring ----------------------------------------------------------------------------
    @property
    def log(self) -> Any:
        """The query log shared by the writer and every reader."""
        return self.sync.log

    def track_queries(self) -> Any:
        """``with db.track_queries() as t:`` collect every statement run inside the block."""
        return self.sync.track_queries()

    def detect_n_plus_one(self, mode: str = "warn", threshold: int = 2) -> Any:
        """``with db.detect_n_plus_one():`` report a query shape awaited again and again from
        one line of async code (see ``Database.detect_n_plus_one``)."""
        return self.sync.detect_n_plus_one(mode, threshold)

    def slow_queries(self, threshold_ms: float | None = None) -> list[Any]:
        """Slow statements (``SlowQuery``: SQL, params, duration, time, plan), slowest first."""
        return self.sync.slow_queries(threshold_ms)

    def stats(self) -> list[Any]:
        """Statistics per query shape (``ShapeStats``), sorted by total execute time."""
        return self.sync.stats()

    @property
    def queries(self) -> list[Any]:
        """The most recent timing records, oldest first."""
        return self.sync.queries

    def pool_stats(self) -> PoolStats | None:
        """The reader pool's counters (None for an in-memory database, and on PostgreSQL,
        where psycopg_pool pools the connections)."""
        return self.pool.stats() if self.pool is not None else None

    # closing -------------------------------------------------------------------------------
    async def close(self) -> None:
        """Refuse new work, wait for the open transaction and the statements in flight, close.

        Idempotent: later calls wait for the first one to finish.
        """
        if self._close_future is not None:
            await asyncio.shield(self._close_future)
            return
        tx = _TX.get()
        if tx is not None and tx.db is self:
            raise ActiveqError("close() inside this database's transaction would wait for itself")
        self._close_future = asyncio.get_running_loop().create_future()
        self._closing = True
        try:
            if self.native is not None:
                kept, self._kept = self._kept, None
                if kept is not None:
                    await self.native.release(kept)
                await self.native.close()
                self.sync.close()
                return
            async with self._tx_lock():
                pass
            await asyncio.to_thread(self._shutdown)
        finally:
            self._closed = True
            self._close_future.set_result(None)

    aclose = close

    def _shutdown(self) -> None:
        # Each thread takes one end marker after every job queued before it.
        for thread in self._threads:
            (self._writes if thread.name == "activeq-writer" else self._reads).put(None)
        for thread in self._threads:
            thread.join()
        self.sync.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has finished."""
        return self._closed

    async def __aenter__(self) -> AsyncDatabase:
        if self.native is not None:
            await self._ready()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncDatabase {self.path!r}>"


class _UnitState:
    """The session state of the unit of work running now (see :class:`_Unit`)."""


class _Unit:
    """A unit of work on a native async engine: one pooled connection, and the session state
    (transaction depth, ...) of the statements run on it, kept between their greenlets."""

    __slots__ = ("db", "conn", "state", "lock", "local")

    def __init__(self, db: AsyncDatabase, conn: AsyncConnection, shared: bool = False) -> None:
        self.db = db
        self.conn = conn
        self.state = db._baseline.copy()
        # Tasks sharing a transaction take turns on its connection.
        self.lock = asyncio.Lock() if shared else None
        self.local = db.sync._local

    # Greenlets of several tasks share the loop's thread, and with it the session's state:
    # each gets its unit's own state dict while it runs (no copy either way).
    def enter(self) -> None:
        self.local.__dict__ = self.state
        _worker.active = True

    @staticmethod
    def leave() -> None:
        _worker.active = False

    def end(self) -> None:
        """The unit is over (its connection goes back, rolled back if a transaction is
        still open on it): settle cache writes that no COMMIT or ROLLBACK hook settled."""
        writes = self.state.get("cache_writes")
        if writes is not None:
            self.state["cache_writes"] = None
            self.db.sync._cache.end(writes, True)

    async def run(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        """``fn(*args)`` as synchronous activeq code whose statements run on this connection."""
        run = self.db._bridge.run
        if self.lock is None:
            return await run(fn, args, self.conn, self.enter, self.leave)  # type: ignore[no-any-return]
        async with self.lock:
            return await run(fn, args, self.conn, self.enter, self.leave)  # type: ignore[no-any-return]


class AsyncTransaction:
    """What ``AsyncDatabase.transaction()`` returns: an async context manager."""

    def __init__(self, db: AsyncDatabase, mode: str) -> None:
        check_transaction_mode(mode, db.sync.engine.connection_class._modes)
        self.db = db
        self.mode = mode
        self._cm: Any = None
        self._entered = False
        self._nested = False
        self._locked = False
        self._token: Any = None
        self._unit: _Unit | None = None
        self._borrowed: Any = None

    async def __aenter__(self) -> AsyncDatabase:
        db = self.db
        outer = _TX.get()
        self._nested = outer is not None and outer.db is db
        if db.native is not None:
            return await self._enter_native(outer)
        if not self._nested:
            if db._closing:
                raise ActiveqError("the AsyncDatabase is closed")
            await db._tx_lock().acquire()
            self._locked = True
        self._cm = db.sync.transaction(self.mode)
        future = db._submit(self._begin, ())
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError as e:
            # BEGIN runs anyway (the writer takes jobs in order): end the transaction right
            # after it, before any other write.
            future.add_done_callback(_retrieve)
            db._submit(self._end, (type(e), e, None)).add_done_callback(_retrieve)
            self._unlock()
            raise
        except BaseException:
            self._unlock()
            raise
        self._token = _TX.set(self)
        return db

    async def _enter_native(self, outer: AsyncTransaction | None) -> AsyncDatabase:
        # The transaction keeps one pooled connection from BEGIN to COMMIT; other tasks go on
        # on other connections, and the server keeps the transactions apart.
        db = self.db
        self._cm = db.sync.transaction(self.mode)
        if outer is not None and self._nested:
            self._unit = outer._unit
        else:
            if db._closing:
                raise ActiveqError("the AsyncDatabase is closed")
            self._borrowed = await db._take()
            self._unit = _Unit(db, self._borrowed, shared=True)
            db._open_units += 1
        try:
            await self._unit.run(self._begin, ())  # type: ignore[union-attr]
        except BaseException:
            await self._give_back()
            raise
        self._token = _TX.set(self)
        return db

    async def _give_back(self) -> None:
        borrowed, self._borrowed = self._borrowed, None
        if borrowed is not None:
            self.db._open_units -= 1
            self._unit.end()  # type: ignore[union-attr]
            await self.db._give(borrowed)  # rolls back what is left open

    async def __aexit__(self, et: Any, e: Any, tb: Any) -> bool:
        if self._token is not None:
            _TX.reset(self._token)
            self._token = None
        if self._unit is not None:
            try:
                return bool(await self._unit.run(self._end, (et, e, tb)))
            finally:
                await self._give_back()
        future = self.db._submit(self._end, (et, e, tb))
        # Queued before any later write, so other tasks may go ahead now.
        self._unlock()
        try:
            return bool(await asyncio.shield(future))
        except asyncio.CancelledError:
            future.add_done_callback(_retrieve)  # the commit or rollback still completes
            raise

    def _begin(self) -> None:
        self._cm.__enter__()
        self._entered = True

    def _end(self, et: Any, e: Any, tb: Any) -> bool:
        if not self._entered:
            return False
        self._entered = False
        sync = self.db.sync
        try:
            return bool(self._cm.__exit__(et, e, tb))
        finally:
            if not self._nested and sync._thread().conn.in_transaction:
                # A failed COMMIT leaves the transaction open; nothing may stay open after
                # the block.
                sync._exec_control("ROLLBACK")

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self.db._tx_lock().release()


def _async_db(model: Any) -> AsyncDatabase:
    db = model.__async_database__
    if db is None:
        raise ActiveqError(
            f"{model.__name__} is not bound to an AsyncDatabase: call "
            f"async_db.bind({model.__name__}) or async_db.bind(AsyncActiveRecord)"
        )
    return db  # type: ignore[no-any-return]


def _sync_query(query: Query[Any]) -> Query[Any]:
    # The same (immutable) state as a plain Query, for the synchronous terminals.
    q: Query[Any] = Query()
    _SET_STATE(q, query._s)
    return q


def _find_by_id(model: Any, id: Any) -> Any:
    return model.__database__._find_by_id(model, id)


class AsyncQuery(Query[M]):
    """The same immutable builder as :class:`~activeq.Query`; terminals are awaited.

    ``await q.all()``, ``await q.first()``, ``await q.count()``, ``async for m in q``, ...
    """

    __slots__ = ()

    if TYPE_CHECKING:
        # The builders are Query's; only their result types name the async class.
        @overload
        def select(self, *columns: str | ColumnRef[Any, M]) -> Self: ...

        @overload
        def select(self, *columns: Any) -> AsyncQuery[Row]: ...

        def select(self, *columns: Any) -> Any: ...

        def union(self, other: Query[Any]) -> AsyncQuery[Row]: ...

        def returning(self, *columns: Any) -> AsyncReturningQuery[M]: ...  # type: ignore[override]

        def union_all(self, other: Query[Any]) -> AsyncQuery[Row]: ...

        def intersect(self, other: Query[Any]) -> AsyncQuery[Row]: ...

        def except_(self, other: Query[Any]) -> AsyncQuery[Row]: ...

    def _db(self) -> AsyncDatabase:
        return _async_db(self._s["model"])

    def _reading(self, fn: Callable[..., R], *args: Any) -> Awaitable[R]:
        return self._db()._read(fn, _sync_query(self), *args)

    def _writing(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> Awaitable[R]:
        call = functools.partial(fn, _sync_query(self), *args, **kwargs)
        return self._db()._write(call)

    # terminals (reads) ----------------------------------------------------------------------
    async def all(self) -> list[M]:  # type: ignore[override]
        """Every result (models, partial models or Rows), includes loaded."""
        return await self._reading(Query.all)

    async def first(self) -> M | None:  # type: ignore[override]
        """The first result, or None."""
        return await self._reading(Query.first)

    async def one(self) -> M:  # type: ignore[override]
        """Exactly one result; NotFoundError when none, MultipleResultsError when more."""
        return await self._reading(Query.one)

    async def one_or_none(self) -> M | None:  # type: ignore[override]
        """One result or None; MultipleResultsError when more."""
        return await self._reading(Query.one_or_none)

    async def count(self) -> int:  # type: ignore[override]
        """The number of rows the query returns."""
        return await self._reading(Query.count)

    async def exists(self) -> bool:  # type: ignore[override]
        """Whether at least one row matches."""
        return await self._reading(Query.exists)

    async def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return await self._reading(Query.scalar)

    async def pluck(self, *columns: Any) -> list[Any]:  # type: ignore[override]
        """Values of one column (flat list) or of several (list of tuples)."""
        return await self._reading(Query.pluck, *columns)

    async def tuples(self) -> list[tuple[Any, ...]]:  # type: ignore[override]
        """Raw rows as tuples."""
        return await self._reading(Query.tuples)

    async def dicts(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """Raw rows as dicts keyed by attribute name or alias."""
        return await self._reading(Query.dicts)

    async def explain(self, analyze: bool = False) -> Any:
        """The query plan as a ``Plan``."""
        return await self._writing(Query.explain, analyze)

    async def iter(self, batch: int = 1000) -> AsyncIterator[M]:  # type: ignore[override]
        """``async for m in q.iter()``: stream results, one worker job per batch of rows."""
        db = self._db()
        stream: Iterator[M] = Query.iter(_sync_query(self), batch)

        def take() -> list[Any]:
            return list(itertools.islice(stream, batch))

        async with db._session() as run:
            try:
                while True:
                    chunk = await run(take)
                    for item in chunk:
                        yield item
                    if len(chunk) < batch:
                        break
            finally:
                await run(stream.close)  # type: ignore[attr-defined]

    async def chunks(self, size: int = 1000, *,  # type: ignore[override]
                     by: Any = None) -> AsyncIterator[list[M]]:
        """``async for chunk in q.chunks(size)``: keyset-paged lists, one query each."""
        db = self._db()
        pages: Iterator[list[M]] = Query.chunks(_sync_query(self), size, by=by)
        end = object()
        async with db._session() as run:
            try:
                while True:
                    chunk = await run(next, pages, end)
                    if chunk is end:
                        break
                    yield chunk
            finally:
                await run(pages.close)  # type: ignore[attr-defined]

    async def paginate(self, page: int, per_page: int = 20) -> Any:
        """Page ``page`` (from 1) as a ``Page``."""
        return await self._reading(Query.paginate, page, per_page)

    async def cursor_page(self, size: int = 20, after: str | None = None, *,
                          by: Any = None) -> Any:
        """``size`` results after an opaque cursor, as a ``CursorPage``."""
        return await self._reading(functools.partial(Query.cursor_page, by=by), size, after)

    def __aiter__(self) -> AsyncIterator[M]:
        return self.iter()

    def __iter__(self) -> Iterator[M]:
        raise ArgumentTypeError("an async query is iterated with 'async for', or awaited: await q.all()")

    # writes --------------------------------------------------------------------------------
    async def update(self, values: dict[str, Any] | None = None, *,  # type: ignore[override]
                     all_rows: bool = False, **kw: Any) -> int:
        """UPDATE the matching rows; returns the number changed (see ``Query.update``)."""
        return await self._writing(Query.update, values, all_rows=all_rows, **kw)

    async def delete(self, *, all_rows: bool = False) -> int:  # type: ignore[override]
        """DELETE the matching rows; returns the number deleted."""
        return await self._writing(Query.delete, all_rows=all_rows)

    def compile(self, dialect: str | None = None) -> AsyncCompiledQuery[M]:
        """A reusable prepared statement whose ``execute``/``first`` are awaited."""
        return AsyncCompiledQuery(_sync_query(self), dialect)


if TYPE_CHECKING:
    class AsyncReturningQuery(AsyncQuery[M]):
        """An async query after ``returning(...)`` as type checkers see it: awaiting
        ``update()`` or ``delete()`` gives the changed rows as ``Row``s."""

        async def update(self, values: dict[str, Any] | None = None, *,  # type: ignore[override]
                         all_rows: bool = False, **kw: Any) -> list[Row]: ...

        async def delete(self, *, all_rows: bool = False) -> list[Row]: ...  # type: ignore[override]


class AsyncCompiledQuery(CompiledQuery[M], Generic[M]):
    """A compiled query executed with ``await stmt.execute(name=value)``."""

    async def execute(self, **values: Any) -> list[M]:  # type: ignore[override]
        bound = self._bind(values)  # on the loop: the slot list is shared by every execution
        query = self.query
        entry = self._entry
        db = _async_db(query._s["model"])

        def run() -> list[M]:
            sync = query._s["model"].__database__
            rows = sync._select(entry, bound, query.key, 0, True)
            return query._finish(entry.mapper(rows, sync._context(query)), sync)

        return await db._read(run)

    async def first(self, **values: Any) -> M | None:  # type: ignore[override]
        results = await self.execute(**values)
        return results[0] if results else None


class AsyncActiveRecord(ActiveRecord):
    """A model whose queries and record methods are awaited.

    Declared exactly like ``ActiveRecord``; bound with ``AsyncDatabase.bind``. ``query()``
    builds an :class:`AsyncQuery`; ``find_by_id``, ``find_one``, ``find_all``, ``create``,
    ``insert_many``, ``save``, ``delete`` and ``refresh`` return awaitables. Relations load
    eagerly with ``includes()``; reading an unloaded one raises ``RelationNotLoadedError``.

    >>> import asyncio
    >>> from activeq import AsyncActiveRecord, AsyncDatabase, Field
    >>> class Owl(AsyncActiveRecord):
    ...     __table_name__ = 'owls'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    >>> async def main():
    ...     db = AsyncDatabase(':memory:'); db.bind(Owl); await db.create_tables(Owl)
    ...     hoot = await Owl.create(name='Hoot')
    ...     found = await Owl.find_by_id(hoot.id)
    ...     names = [o.name for o in await Owl.query().order_by(Owl.c.id).all()]
    ...     await db.close()
    ...     return found.name, names
    >>> asyncio.run(main())
    ('Hoot', ['Hoot'])
    """

    __aq_abstract__ = True
    __async_database__: ClassVar[AsyncDatabase | None] = None

    @classmethod
    def query(cls: type[M]) -> AsyncQuery[M]:  # type: ignore[override]
        if _in_worker():
            return ActiveRecord.query.__func__(cls)  # type: ignore[attr-defined, no-any-return]
        base = cls.__dict__.get("_aq_async_query")
        if base is None:
            base = AsyncQuery.of(cls)
            type.__setattr__(cls, "_aq_async_query", base)
        return base  # type: ignore[no-any-return]

    @classmethod
    def find_by_id(cls: type[M], id: Any) -> Awaitable[M | None]:  # type: ignore[override]
        """``await Model.find_by_id(id)``: the row with this primary key, or None."""
        if _in_worker():
            return _find_by_id(cls, id)  # type: ignore[no-any-return]
        db = _async_db(cls)
        if db.native is None:
            return db._read(_find_by_id, cls, id)
        return db._find(cls, id)

    @classmethod
    def create(cls: type[M], **values: Any) -> Awaitable[M]:  # type: ignore[override]
        """``await Model.create(**values)``: validate, insert and return a new record."""
        create = ActiveRecord.create.__func__  # type: ignore[attr-defined]
        if _in_worker():
            return create(cls, **values)  # type: ignore[no-any-return]
        return _async_db(cls)._write(functools.partial(create, cls, **values))

    @classmethod
    def insert_many(cls, rows: Any, *args: Any, **kwargs: Any) -> Any:
        """``await Model.insert_many(rows, ...)``: the batch insert, on the writer."""
        base = getattr(ActiveRecord, "insert_many", None)
        if base is None:
            raise CompileError("insert_many() is not available in this version")
        if _in_worker():
            return base.__func__(cls, rows, *args, **kwargs)
        return _async_db(cls)._write(functools.partial(base.__func__, cls, rows, *args, **kwargs))

    @classmethod
    def _run_write(cls, run: Callable[[], Any]) -> Any:
        # A statement's execute() runs on the writer, inside the task's transaction if one
        # is open, and is awaited like every other write.
        if _in_worker():
            return run()
        return _async_db(cls)._write(run)

    @classmethod
    def transaction(cls, mode: str = "immediate") -> Any:
        """``async with Model.transaction():`` on the model's AsyncDatabase."""
        if _in_worker():
            return cls.database().transaction(mode)
        return _async_db(cls).transaction(mode)

    def save(self) -> Awaitable[int]:  # type: ignore[override]
        """``await record.save()``: INSERT when new, else UPDATE the changed fields."""
        if _in_worker():
            return ActiveRecord.save(self)  # type: ignore[return-value]
        return _async_db(type(self))._write(ActiveRecord.save, self)

    def delete(self) -> Awaitable[int]:  # type: ignore[override]
        """``await record.delete()``: DELETE this row by primary key."""
        if _in_worker():
            return ActiveRecord.delete(self)  # type: ignore[return-value]
        return _async_db(type(self))._write(ActiveRecord.delete, self)

    def refresh(self: M) -> Awaitable[M]:  # type: ignore[override]
        """``await record.refresh()``: reload every field."""
        if _in_worker():
            return ActiveRecord.refresh(self)  # type: ignore[arg-type, return-value, type-var]
        return _async_db(type(self))._read(ActiveRecord.refresh, self)
