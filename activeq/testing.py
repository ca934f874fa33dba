"""Test helpers: assert how many statements a block of code runs.

>>> from activeq import Database
>>> from activeq.testing import assert_queries
>>> db = Database(':memory:')
>>> with assert_queries(db, 2):
...     _ = db.execute('SELECT 1').fetchall()
...     _ = db.execute('SELECT 2').fetchall()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import ConfigurationError
from .monitor import QueryTracker

__all__ = ["assert_max_queries", "assert_queries", "count_queries"]


@contextmanager
def count_queries(db: Any, *, ignore_transactions: bool = False) -> Iterator[QueryTracker]:
    """Collect the statements ``db`` runs inside the block (like ``db.track_queries()``).

    Args:
        db: the Database (or anything with ``track_queries()``).
        ignore_transactions: leave out BEGIN, COMMIT, ROLLBACK and savepoint statements.
    """
    with db.track_queries() as tracker:
        yield tracker
    if ignore_transactions:
        tracker._raw[:] = [r for r in tracker._raw if not _is_control(r)]


def _is_control(rec: tuple[Any, ...]) -> bool:
    shape = rec[1]
    return isinstance(shape, tuple) and len(shape) == 2 and shape[0] == "tx"


@contextmanager
def assert_queries(db: Any, n: int, *, ignore_transactions: bool = False
                   ) -> Iterator[QueryTracker]:
    """Fail unless the block runs exactly ``n`` statements on ``db``.

    Raises:
        AssertionError: naming the expected and actual counts and listing the SQL run.
    """
    _check_count(n)
    with count_queries(db, ignore_transactions=ignore_transactions) as tracker:
        yield tracker
    if len(tracker) != n:
        raise AssertionError(_message(f"expected {n} queries, ran {len(tracker)}", tracker))


@contextmanager
def assert_max_queries(db: Any, n: int, *, ignore_transactions: bool = False
                       ) -> Iterator[QueryTracker]:
    """Fail if the block runs more than ``n`` statements on ``db``.

    Raises:
        AssertionError: naming the limit and the actual count and listing the SQL run.
    """
    _check_count(n)
    with count_queries(db, ignore_transactions=ignore_transactions) as tracker:
        yield tracker
    if len(tracker) > n:
        raise AssertionError(_message(f"expected at most {n} queries, ran {len(tracker)}",
                                      tracker))


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigurationError(f"the query count must be a non-negative integer, not {n!r}")


def _message(head: str, tracker: QueryTracker) -> str:
    lines = [head + ":"]
    lines.extend(f"  {i}. {sql}" for i, sql in enumerate(tracker.sql, 1))
    return "\n".join(lines)
