"""activeq's blocking session code over a native async driver, on the event loop's own thread.

The session, query and model layers are synchronous. For a driver with async I/O (psycopg's
``AsyncConnection``) :func:`run_blocking` runs that code in a greenlet on the event loop's
thread. Where the code would wait for the database, the :class:`BridgedConnection` hands the
driver's awaitable to the coroutine driving the greenlet, which awaits it on the loop and then
resumes the greenlet with the result (or the exception). No worker thread is involved, and the
loop serves other tasks while a statement is in flight.

One :class:`BridgedConnection` stands for every async connection: each call goes to the
connection of the greenlet making it (the one :func:`run_blocking` was given), so a session
shared by many tasks runs each task's statements on that task's pooled connection.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from functools import cache
from typing import Any, ClassVar, TypeVar

from greenlet import getcurrent, greenlet

from ..errors import ActiveqError, DatabaseError
from .base import (
    AsyncConnection,
    AsyncEngine,
    CommitWatch,
    Connection,
    Engine,
    Params,
    PlanData,
    Result,
    Row,
)

__all__ = ["BridgeEngine", "BridgedConnection", "run_blocking"]

_T = TypeVar("_T")


class _Worker(greenlet):  # type: ignore[misc]
    """A greenlet running blocking calls one after another, each on the async connection the
    call gives it.

    Workers are kept and reused (see :func:`run_blocking`): a new greenlet per call would cost
    Python a fresh frame stack, mapped and unmapped by the OS, on every call.
    """

    def __init__(self) -> None:
        super().__init__(self._serve)
        self.conn: AsyncConnection  # set by each call
        self.value: Any = None
        self.error: BaseException | None = None

    def _serve(self, fn: Callable[..., Any], args: Sequence[Any]) -> None:
        while True:
            try:
                self.value = fn(*args)
            except BaseException as e:  # handed to the awaiting coroutine, which raises it
                self.error = e
            fn = args = None  # type: ignore[assignment]
            # Idle until the next call: (fn, args) come back through this switch. A worker
            # dropped while idle gets GreenletExit here and ends.
            fn, args = self.parent.switch(_FINISHED)


# What an idle worker switches back with when its call has ended (its value or error is set).
_FINISHED = object()

# Idle workers of this thread (a greenlet only ever runs on the thread that made it).
_idle = threading.local()


def _idle_workers() -> list[_Worker]:
    try:
        return _idle.workers  # type: ignore[no-any-return]
    except AttributeError:
        workers: list[_Worker] = []
        _idle.workers = workers
        return workers


async def run_blocking(fn: Callable[..., _T], args: Sequence[Any], conn: AsyncConnection,
                       enter: Callable[[], None], leave: Callable[[], None]) -> _T:
    """``fn(*args)`` in a greenlet whose database calls run on ``conn``, awaited on this loop.

    ``enter`` runs each time the greenlet resumes and ``leave`` each time it pauses, so a
    caller can give per-thread state to the greenlet running now (several run on one thread).
    """
    idle = _idle_workers()
    worker = idle.pop() if idle else _Worker()
    worker.parent = getcurrent()
    worker.conn = conn
    enter()
    try:
        value = worker.switch(fn, args)
    finally:
        leave()
    while value is not _FINISHED:
        try:
            result = await value
        except BaseException:  # given to the blocking code, which may clean up and re-raise
            error = sys.exc_info()
            enter()
            try:
                value = worker.throw(*error)
            finally:
                leave()
            del error
        else:
            enter()
            try:
                value = worker.switch(result)
            finally:
                leave()
    # The call has ended and the worker waits for the next one: it may serve any later call.
    found, worker.value = worker.value, None
    failure, worker.error = worker.error, None
    idle.append(worker)
    if failure is not None:
        try:
            raise failure
        finally:
            failure = None
    return found  # type: ignore[no-any-return]


def _outside() -> ActiveqError:
    return ActiveqError("this database runs on an async driver: use it through its AsyncDatabase "
                        "(await the terminal), not from plain synchronous code")


def _current() -> AsyncConnection:
    worker = getcurrent()
    if not isinstance(worker, _Worker):
        raise _outside()
    return worker.conn


def wait_for(awaitable: Awaitable[_T]) -> _T:
    """The result of ``awaitable``, awaited by the coroutine driving the current greenlet."""
    worker = getcurrent()
    if not isinstance(worker, _Worker):
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()  # never awaited: no "coroutine was never awaited" warning
        raise _outside()
    return worker.parent.switch(awaitable)  # type: ignore[no-any-return]


class _Rows:
    __slots__ = ("rows",)

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Row]:
        return self.rows


class _Reader:
    """:attr:`BridgedConnection.reader`: one compiled statement on the current connection."""

    __slots__ = ()

    def execute(self, sql: str, params: Params = ()) -> _Rows:
        return _Rows(wait_for(_current().run(sql, params)))


class BridgedConnection(Connection):
    """The blocking :class:`Connection` interface over the current greenlet's async connection.

    Made per driver by :func:`bridged`, which copies the driver's dialect, placeholder style,
    transaction modes and error translation from its blocking connection class.
    """

    __slots__ = ("reader",)

    blocking: ClassVar[type[Connection]]

    def __init__(self) -> None:
        self.reader = _Reader()

    @property
    def raw(self) -> Any:  # type: ignore[override]
        """The current greenlet's driver connection."""
        return _current().raw

    def executescript(self, sql: str) -> None:
        wait_for(_current().executescript(sql))

    def execute(self, sql: str, params: Params = ()) -> Result:
        return wait_for(_current().execute(sql, params))

    def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return wait_for(_current().fetch(sql, params))

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return wait_for(_current().executemany(sql, rows))

    def executemany_returning(self, sql: str, rows: Iterable[Params]) -> list[Row]:
        return wait_for(_current().executemany_returning(sql, rows))

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        return wait_for(_current().copy(table, columns, rows))

    def stream(self, sql: str, params: Params = (), batch: int = 1000) -> Iterator[list[Row]]:
        parts = _current().stream(sql, params, batch)
        try:
            while True:
                rows = wait_for(anext(parts, None))
                if rows is None:
                    return
                yield rows
        finally:
            wait_for(parts.aclose())  # type: ignore[attr-defined]

    def pause(self, seconds: float) -> None:
        # The loop goes on serving other tasks while this one backs off.
        wait_for(asyncio.sleep(seconds))

    def control(self, sql: str) -> None:
        wait_for(_current().control(sql))

    def _control(self, sql: str) -> None:
        wait_for(_current().control(sql))

    def begin(self, mode: str = "deferred") -> None:
        wait_for(_current().begin(mode))

    def commit(self) -> None:
        wait_for(_current().commit())

    def rollback(self) -> None:
        wait_for(_current().rollback())

    @property
    def in_transaction(self) -> bool:
        worker = getcurrent()
        return isinstance(worker, _Worker) and worker.conn.in_transaction

    def changes(self) -> int:
        return _current().changes()

    def explain(self, sql: str, params: Params = ()) -> PlanData:
        return wait_for(_current().explain(sql, params))

    def watch_commits(self, tables: Iterable[str] = ()) -> CommitWatch:
        return wait_for(_current().watch_commits(tables))

    @staticmethod
    def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
        raise NotImplementedError  # replaced by the driver's in bridged()

    def close(self) -> None:
        """The pool owns the async connections: nothing to close here."""


@cache
def bridged(blocking: type[Connection]) -> type[BridgedConnection]:
    """The :class:`BridgedConnection` class for the driver of ``blocking``."""
    names = {"blocking": blocking, "dialect": blocking.dialect, "product": blocking.product,
             "paramstyle": blocking.paramstyle, "_modes": blocking._modes,
             "has_savepoints": blocking.has_savepoints, "has_last_id": False,
             # Statements raise activeq errors already (translated by the async connection).
             "driver_errors": (), "translate": staticmethod(blocking.translate),
             "__slots__": (), "__module__": __name__}
    return type(f"Bridged{blocking.__name__}", (BridgedConnection,), names)


class BridgeEngine(Engine):
    """The blocking :class:`Engine` a session runs on over an :class:`AsyncEngine`.

    :meth:`connect` gives the one :class:`BridgedConnection`; the async engine's pool lends the
    real connections, one per unit of work (see :func:`run_blocking`).
    """

    def __init__(self, engine: AsyncEngine, blocking: type[Connection]) -> None:
        self.async_engine = engine
        self.dialect = engine.dialect  # type: ignore[misc]
        self.connection_class = bridged(blocking)  # type: ignore[misc]
        self.url = engine.url
        self._conn = self.connection_class()

    @classmethod
    def open(cls, url: str, **options: Any) -> BridgeEngine:
        raise ActiveqError("a BridgeEngine wraps an opened AsyncEngine")

    def connect(self, configure: bool = True) -> Connection:
        return self._conn

    run = staticmethod(run_blocking)

    def close(self) -> None:
        """The async engine is closed by its owner (it needs the event loop)."""
