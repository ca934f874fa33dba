"""What raw SQL returns: the rows, the changed-row count and the description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Cursor"]


class Cursor:
    """What ``db.execute`` returns: rows (iterable, ``fetchall()``), ``rowcount``, columns."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, description: Any) -> None:
        self._rows = rows
        self.rowcount = rowcount
        """Rows changed by a DML statement (-1 for other statements)."""
        self.description = description
        """Column names and declared types of the result."""

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)
