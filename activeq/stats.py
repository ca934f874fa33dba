"""Per-shape statement statistics: cheap accumulation, percentiles computed when read."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import Any

__all__ = ["COUNTER_NAMES", "ShapeAccumulator", "ShapeStats", "dump_stats", "load_stats", "render_stats"]

RESERVOIR_SIZE = 1024
"""How many execute times each shape keeps for its percentiles."""

# Names of SQLite's per-statement counters kept per shape, and the APSW key of each.
COUNTER_NAMES = {
    "fullscan_steps": "SQLITE_STMTSTATUS_FULLSCAN_STEP",
    "sorts": "SQLITE_STMTSTATUS_SORT",
    "autoindexes": "SQLITE_STMTSTATUS_AUTOINDEX",
    "vm_steps": "SQLITE_STMTSTATUS_VM_STEP",
}

# Positions in the kept record tuple built by QueryLog.record:
# (sql, params, compile_ns, execute_ns, rows, hit[, status]).
_EXECUTE = itemgetter(3)
_ROWS = itemgetter(4)


@dataclass(frozen=True, slots=True)
class ShapeStats:
    """What one query shape cost since the statistics were last reset."""

    sql: str
    """The SQL text of the shape (one text per shape on a given dialect)."""
    count: int
    """How many times it ran."""
    total_ms: float
    """Sum of execute times."""
    mean_ms: float
    """Mean execute time."""
    p50_ms: float
    """Median execute time (from a bounded sample once the shape ran more than 1024 times)."""
    p95_ms: float
    """95th percentile execute time (same sample)."""
    max_ms: float
    """Slowest execute time."""
    rows: int
    """Rows returned (SELECT) or changed (DML), summed."""
    cache_hits: int
    """Runs whose SQL came from the compile cache."""
    cache_misses: int
    """Runs that rendered their SQL (raw SQL counts as a miss)."""
    fullscan_steps: int | None = None
    """SQLite full-scan steps, summed (None unless ``sqlite_counters=True``)."""
    sorts: int | None = None
    """SQLite sort operations, summed (None unless ``sqlite_counters=True``)."""
    autoindexes: int | None = None
    """Rows inserted into automatic indexes, summed (None unless ``sqlite_counters=True``)."""
    vm_steps: int | None = None
    """SQLite virtual machine steps, summed (None unless ``sqlite_counters=True``)."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


class ShapeAccumulator:
    """Running totals of one shape.

    ``QueryLog`` hands over the kept records of this shape's runs in batches (``add``), so
    every total is updated by a few C-level passes over a batch instead of once per run.
    """

    __slots__ = ("sql", "shape", "params", "count", "total_ns", "max_ns", "rows", "misses",
                 "samples", "counters")

    def __init__(self, sql: str, shape: Any, params: Any) -> None:
        self.sql = sql
        self.shape = shape
        self.params = params
        """The values of the first run: what EXPLAIN binds when advice needs a plan."""
        self.count = 0
        self.total_ns = 0
        self.max_ns = 0
        self.rows = 0
        self.misses = 0
        """Compile-cache misses, added by ``QueryLog`` as they happen."""
        self.samples: list[int] = []
        self.counters: dict[str, int] | None = None

    def add(self, records: Sequence[tuple[Any, ...]]) -> None:
        """Add the kept records of a batch of runs (layout: see ``QueryLog``)."""
        if not records:
            return
        times = list(map(_EXECUTE, records))
        n = len(times)
        seen = self.count
        self.count = seen + n
        self.total_ns += sum(times)
        longest = max(times)
        if longest > self.max_ns:
            self.max_ns = longest
        self.rows += sum(map(_ROWS, records))
        if len(records[-1]) > 6 or len(records[0]) > 6:
            for rec in records:
                if len(rec) > 6 and rec[6]:
                    self.add_counters(rec[6])
        self._sample(times, seen)

    def add_lookups(self, times: list[int]) -> None:
        """Add a run of lookups that each found one row from cached SQL: their execute times.

        Their maximum is not looked for: ``QueryLog`` raises ``max_ns`` as they run."""
        n = len(times)
        if not n:
            return
        seen = self.count
        self.count = seen + n
        self.total_ns += sum(times)
        self.rows += n
        self._sample(times, seen)

    def _sample(self, times: Sequence[int], seen: int) -> None:
        # A batched reservoir: item j (1-based, over the shape's life) stays with probability
        # R/j, so a batch keeps about R * n / (seen + n/2) of its items, chosen at random.
        samples = self.samples
        room = RESERVOIR_SIZE - len(samples)
        if room > 0:
            samples.extend(times[:room])
            times = times[room:]
            seen += room
        if not times:
            return
        n = len(times)
        keep = min(n, RESERVOIR_SIZE, round(RESERVOIR_SIZE * n / (seen + n / 2)))
        # random() is C; random.sample and randrange are Python code costing microseconds.
        rnd = random.random
        for _ in range(keep):
            samples[int(rnd() * RESERVOIR_SIZE)] = times[int(rnd() * n)]

    def add_counters(self, status: dict[str, int]) -> None:
        """Add one run's SQLite statement counters."""
        totals = self.counters
        if totals is None:
            totals = self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        for name, key in COUNTER_NAMES.items():
            totals[name] += status.get(key, 0)

    def snapshot(self) -> ShapeStats:
        """The totals as a ``ShapeStats`` (percentiles computed now)."""
        ordered = sorted(self.samples)
        count = self.count
        counters = self.counters or {}
        return ShapeStats(
            sql=self.sql,
            count=count,
            total_ms=self.total_ns / 1e6,
            mean_ms=self.total_ns / count / 1e6 if count else 0.0,
            p50_ms=_percentile(ordered, 0.50) / 1e6,
            p95_ms=_percentile(ordered, 0.95) / 1e6,
            max_ms=self.max_ns / 1e6,
            rows=self.rows,
            cache_hits=count - self.misses,
            cache_misses=self.misses,
            **{name: counters.get(name) for name in COUNTER_NAMES},
        )


def _percentile(ordered: list[int], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 1))
    return float(ordered[int(rank) - 1])


def render_stats(stats: list[ShapeStats], limit: int | None = None, width: int = 70) -> str:
    """A fixed-width table of shape statistics, in the order given.

    Args:
        stats: the rows, usually ``db.stats()`` (sorted by total time).
        limit: show only the first ``limit`` shapes.
        width: SQL texts longer than this are shortened with an ellipsis.
    """
    if not stats:
        return "No statements recorded."
    shown = stats if limit is None else stats[:limit]
    counters = any(s.vm_steps is not None for s in shown)
    head = ["count", "total ms", "mean ms", "p50 ms", "p95 ms", "max ms", "rows", "hit", "miss"]
    if counters:
        head += ["scan steps", "sorts", "autoidx", "vm steps"]
    head.append("sql")
    body = []
    for s in shown:
        row = [str(s.count), f"{s.total_ms:.3f}", f"{s.mean_ms:.3f}", f"{s.p50_ms:.3f}",
               f"{s.p95_ms:.3f}", f"{s.max_ms:.3f}", str(s.rows), str(s.cache_hits),
               str(s.cache_misses)]
        if counters:
            row += [_int(s.fullscan_steps), _int(s.sorts), _int(s.autoindexes), _int(s.vm_steps)]
        row.append(_shorten(" ".join(s.sql.split()), width))
        body.append(row)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = []
    for row in [head, *body]:
        cells = [c.rjust(w) for c, w in zip(row[:-1], widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    total = sum(s.total_ms for s in stats)
    runs = sum(s.count for s in stats)
    lines.append(f"{len(stats)} shapes, {runs} statements, {total:.3f} ms total")
    return "\n".join(lines)


def _int(value: int | None) -> str:
    return "-" if value is None else str(value)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def dump_stats(stats: list[ShapeStats], path: Any) -> None:
    """Write statistics as JSON (read back with :func:`load_stats`)."""
    payload = {"format": "activeq-stats", "version": 1, "shapes": [s.to_dict() for s in stats]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1)


def load_stats(path: Any) -> list[ShapeStats]:
    """Read a file written by ``db.stats_dump(path)``.

    Raises:
        ValueError: the file is not a statistics dump.
    """
    with open(path, encoding="utf-8") as f:
        try:
            payload = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path} is not a statistics dump: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") != "activeq-stats":
        raise ValueError(f"{path} is not a statistics dump (written by db.stats_dump)")
    fields = set(ShapeStats.__dataclass_fields__)
    return [ShapeStats(**{k: v for k, v in s.items() if k in fields}) for s in payload["shapes"]]
