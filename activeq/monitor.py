"""Timing records of every statement, query tracking, and query plans."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Plan", "QueryLog", "QueryTracker", "Timing", "explain_plan"]


@dataclass(frozen=True, slots=True)
class Timing:
    """One statement run by a Database."""

    sql: str
    """The SQL text as sent to SQLite."""
    shape: Any
    """The shape key of the tree it came from (raw SQL: ``('raw', sql)``)."""
    params: Any
    """The values bound."""
    compile_ns: int
    """Time spent finding (or rendering) the SQL, in nanoseconds."""
    execute_ns: int
    """Time spent in SQLite executing and fetching, in nanoseconds."""
    rows: int
    """Rows returned (SELECT) or changed (DML)."""
    cache_hit: bool
    """Whether the SQL came from the compile cache."""

    @property
    def duration_ms(self) -> float:
        """Compile plus execute time, in milliseconds."""
        return (self.compile_ns + self.execute_ns) / 1e6


class QueryTracker:
    """The statements run inside a ``db.track_queries()`` block."""

    def __init__(self) -> None:
        self._raw: list[tuple[Any, ...]] = []

    @property
    def queries(self) -> list[Timing]:
        """Timing records, in execution order."""
        return [Timing(*r) for r in self._raw]

    @property
    def sql(self) -> list[str]:
        """Only the SQL texts."""
        return [r[0] for r in self._raw]

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.queries)

    def __repr__(self) -> str:
        return f"<QueryTracker {len(self)} queries>"


class QueryLog:
    """A bounded buffer of raw timing tuples; ``Timing`` objects are built only when read."""

    def __init__(self, limit: int = 10_000, slow_query_ms: float | None = None) -> None:
        self.buffer: deque[tuple[Any, ...]] = deque(maxlen=limit)
        self.trackers: list[QueryTracker] = []
        self.slow_query_ms = slow_query_ms

    def record(self, sql: str, shape: Any, params: Any, compile_ns: int, execute_ns: int,
               rows: int, hit: bool) -> None:
        rec = (sql, shape, params, compile_ns, execute_ns, rows, hit)
        self.buffer.append(rec)
        if self.trackers:
            for tracker in self.trackers:
                tracker._raw.append(rec)

    def tracker(self) -> QueryTracker:
        tracker = QueryTracker()
        self.trackers.append(tracker)
        return tracker

    def untrack(self, tracker: QueryTracker) -> None:
        try:
            self.trackers.remove(tracker)
        except ValueError:
            pass

    def records(self) -> list[Timing]:
        return [Timing(*r) for r in self.buffer]

    def clear(self) -> None:
        self.buffer.clear()


@dataclass(frozen=True)
class Plan:
    """An EXPLAIN QUERY PLAN result.

    Attributes:
        sql: the statement explained.
        rows: the plan rows as (id, parent, detail) tuples.
        full_scans: tables scanned without an index.
        indexes: indexes the plan uses.
        elapsed_ms: with ``analyze=True``, the time to run the statement.
        row_count: with ``analyze=True``, the rows it returned.
    """

    sql: str
    rows: list[tuple[int, int, str]]
    full_scans: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    elapsed_ms: float | None = None
    row_count: int | None = None

    @property
    def uses_index(self) -> bool:
        """Whether any step uses an index."""
        return bool(self.indexes)

    def __str__(self) -> str:
        lines = [f"QUERY PLAN for: {self.sql}"]
        depth: dict[int, int] = {0: 0}
        for node_id, parent, detail in self.rows:
            level = depth.get(parent, 0) + 1
            depth[node_id] = level
            lines.append("  " * level + "|-- " + detail)
        if self.full_scans:
            lines.append(f"full scans: {', '.join(self.full_scans)}")
        if self.indexes:
            lines.append(f"indexes: {', '.join(self.indexes)}")
        if self.elapsed_ms is not None:
            lines.append(f"ran in {self.elapsed_ms:.3f} ms, {self.row_count} rows")
        return "\n".join(lines)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _parse_plan(rows: list[tuple[Any, ...]]) -> tuple[list[str], list[str]]:
    scans, indexes = [], []
    for _, _, _, detail in rows:
        words = detail.split()
        if words[:1] == ["SCAN"] and "USING" not in words:
            table = words[1]
            if table not in scans and not detail.startswith("SCAN CONSTANT"):
                scans.append(table)
        if "USING" in words:
            i = words.index("USING")
            rest = words[i + 1:]
            if rest[:2] == ["INTEGER", "PRIMARY"]:
                name = f"{words[1]}(rowid)"
            elif "INDEX" in rest:
                name = rest[rest.index("INDEX") + 1]
            else:
                continue
            if name not in indexes:
                indexes.append(name)
    return scans, indexes


def explain_plan(db: Any, sql: str, params: Any = (), analyze: bool = False) -> Plan:
    """EXPLAIN QUERY PLAN ``sql`` on ``db``; with ``analyze`` also run it and time it."""
    raw = db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    scans, indexes = _parse_plan(raw)
    rows = [(r[0], r[1], r[3]) for r in raw]
    elapsed = count = None
    if analyze:
        t0 = time.perf_counter()
        count = len(db.execute(sql, params).fetchall())
        elapsed = (time.perf_counter() - t0) * 1000
    return Plan(sql, rows, scans, indexes, elapsed, count)
