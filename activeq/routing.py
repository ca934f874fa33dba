"""Statements run through a subclass's own ``execute()``.

A ``Database`` subclass may override ``execute(self, sql, params=None)`` to log, time or retry
statements. activeq then sends it every statement it runs for queries, record methods,
batches and transactions. The SQL it receives is a ``str`` (a :class:`Routed` one) and
``super().execute(sql, params)`` runs it the way activeq would have (its shape in the query
log, its cache invalidation, its write lock); a changed SQL text runs as raw SQL. What the
override returns is what activeq uses: its rows for a read, its ``rowcount`` for a write.

This is installed per instance, once, when ``Database.__init__`` finds the override, so a
plain ``Database`` keeps its direct paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .cursor import Cursor
from .errors import ActiveqError

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Routed", "route_through_execute"]


class Routed(str):
    """SQL text that carries how activeq runs it: ``run(params)`` returns a ``Cursor``."""

    run: Callable[[Any], Cursor]


def _routed(sql: str, run: Callable[[Any], Cursor]) -> Routed:
    text = Routed(sql)
    text.run = run
    return text


def _rows(db: Database, result: Any, sql: str) -> list[Any]:
    if result is None:
        raise ActiveqError(
            f"{type(db).__name__}.execute() returned None for {sql!r}: return the cursor "
            "super().execute() gives back")
    return result.fetchall() if hasattr(result, "fetchall") else list(result)


def _rowcount(db: Database, result: Any, sql: str) -> int:
    count = getattr(result, "rowcount", None)
    if not isinstance(count, int):
        raise ActiveqError(
            f"{type(db).__name__}.execute() returned {result!r} for {sql!r}: return the cursor "
            "super().execute() gives back")
    return count


def route_through_execute(db: Database) -> None:
    """Send every statement ``db`` runs through ``type(db).execute``."""
    select = db._select
    stream = db._stream
    exec_write = db._exec_write
    run_many = db._run_many
    exec_control = db._exec_control
    lock = db._writer

    def _select(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool) -> list[Any]:
        def run(params: Any) -> Cursor:
            return Cursor(select(entry, params, shape, compile_ns, hit), -1, None)

        return _rows(db, db.execute(_routed(entry.sql, run), values), entry.sql)

    def _stream(entry: Any, values: Any, shape: Any, compile_ns: int, hit: bool,
                batch: int) -> Iterator[list[Any]]:
        def run(params: Any) -> Cursor:
            rows = [row for part in stream(entry, params, shape, compile_ns, hit, batch)
                    for row in part]
            return Cursor(rows, -1, None)

        rows = _rows(db, db.execute(_routed(entry.sql, run), values), entry.sql)
        for start in range(0, len(rows), batch):
            yield rows[start:start + batch]

    def _exec_write(sql: str, values: Any, shape: Any, compile_ns: int, hit: bool,
                    tables: Any, last_id: bool = False) -> tuple[list[Any], int]:
        rowid = None

        def run(params: Any) -> Cursor:
            nonlocal rowid
            rows, changed = exec_write(sql, params, shape, compile_ns, hit, tables)
            if last_id:
                rowid = db._thread().conn.last_id()
            return Cursor(rows, changed, None)

        # Held across the override, so the rowid read after it is this statement's.
        state = db._thread()
        lock.acquire(state)
        try:
            result = db.execute(_routed(sql, run), values)
            changed = _rowcount(db, result, sql)
            rows = _rows(db, result, sql)
            if last_id:
                return rows, rowid if rowid is not None else state.conn.last_id()
            return rows, changed
        finally:
            lock.release(state)

    def _run_many(sql: str, rows: Any, returning: bool) -> tuple[list[Any] | None, int]:
        # One statement per row: the override's signature has no executemany. The count is
        # the sum of the rowcounts the override gives back.
        returned: list[Any] = []
        changed = 0

        def run(params: Any) -> Cursor:
            got, count = run_many(sql, (params,), returning)
            return Cursor(got or [], count, None)

        for row in rows:
            result = db.execute(_routed(sql, run), row)
            changed += _rowcount(db, result, sql)
            if returning:
                returned.extend(_rows(db, result, sql))
        return (returned if returning else None), changed

    def _exec_control(sql: str, retry: bool = False, started: int = 0) -> None:
        def run(params: Any) -> Cursor:
            exec_control(sql, retry, started)
            return Cursor([], -1, None)

        db.execute(_routed(sql, run), ())

    db._select = _select  # type: ignore[method-assign]
    db._stream = _stream  # type: ignore[method-assign]
    db._exec_write = _exec_write  # type: ignore[method-assign]
    db._run_many = _run_many  # type: ignore[method-assign]
    db._exec_control = _exec_control  # type: ignore[method-assign]
