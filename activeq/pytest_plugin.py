"""pytest plugin registered through the ``pytest11`` entry point (fixtures for activeq users).

The ``query_counter`` fixture counts the statements a Database runs::

    def test_eager_loading(query_counter, db):
        with query_counter(db) as queries:
            User.query().includes('orders').all()
        assert len(queries) == 2

        with query_counter.exactly(db, 2):
            User.query().includes('orders').all()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from .testing import assert_max_queries, assert_queries, count_queries

__all__ = ["QueryCounter", "query_counter"]


class QueryCounter:
    """Calling it with a Database gives a block that collects that database's statements."""

    def __call__(self, db: Any, *, ignore_transactions: bool = False
                 ) -> AbstractContextManager[Any]:
        return count_queries(db, ignore_transactions=ignore_transactions)

    def exactly(self, db: Any, n: int, **kw: Any) -> AbstractContextManager[Any]:
        """A block that fails unless it runs exactly ``n`` statements."""
        return assert_queries(db, n, **kw)

    def at_most(self, db: Any, n: int, **kw: Any) -> AbstractContextManager[Any]:
        """A block that fails if it runs more than ``n`` statements."""
        return assert_max_queries(db, n, **kw)


@pytest.fixture
def query_counter() -> Iterator[QueryCounter]:
    """Count the statements a Database runs: ``with query_counter(db) as q: ...; len(q)``."""
    yield QueryCounter()
