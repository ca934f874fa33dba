"""Timing records of every statement: query tracking, per-shape statistics, SQL logging,
slow queries, SQLite's per-statement counters, and query plans.

Everything here hangs off ``QueryLog.record``, which every statement a Database runs passes
through. It only appends a tuple to one list: every ``FOLD_EVERY`` statements the batch moves to the
recent-records buffer and is folded into per-shape totals; percentiles, reports and ``Timing``
objects are built when someone reads them. A primary-key finder adds its lookups to one flat
list instead, where no tuple outlives the lookup (see :class:`LookupRun`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

from .engines import Connection
from .errors import ConfigurationError
from .finders import forget_finders
from .stats import COUNTER_NAMES, ShapeAccumulator, ShapeStats, render_stats

__all__ = [
    "Plan",
    "QueryLog",
    "QueryTracker",
    "SlowQuery",
    "StatementCounters",
    "Timing",
    "explain_plan",
    "sql_logger",
]

sql_logger = logging.getLogger("activeq.sql")
"""Every statement is logged here at DEBUG: duration, SQL, parameters (truncated), rows."""

_DEBUG = logging.DEBUG
_NEVER = 1 << 62

FOLD_EVERY = 128
"""Statements recorded before the batch is folded into the totals (while still in cache)."""

MAX_SHAPES = 10_000
"""Distinct SQL texts tracked; beyond this (SQL built with inline values?) they share one row."""

OTHER_SHAPES = "<other statements>"

PARAMS_LOG_LIMIT = 200
"""Characters of the parameter list shown in a log line."""

_SQL = itemgetter(0)

# Statements that have a query plan worth keeping with a slow-query record.
_EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES")


@dataclass(frozen=True, slots=True)
class StatementCounters:
    """SQLite's own counters for one run of a statement (``sqlite3_stmt_status``)."""

    fullscan_steps: int
    """Times SQLite stepped forward in a full table scan: high values want an index."""
    sorts: int
    """Sort operations: an index on the ORDER BY columns could avoid them."""
    autoindexes: int
    """Rows inserted into automatic (transient) indexes: a permanent index would help."""
    vm_steps: int
    """Virtual machine steps: the total work the statement did."""

    @classmethod
    def from_status(cls, status: dict[str, int]) -> StatementCounters:
        return cls(**{name: status.get(key, 0) for name, key in COUNTER_NAMES.items()})


@dataclass(frozen=True, slots=True)
class Timing:
    """One statement run by a Database.

    >>> from activeq import ActiveRecord, Database, Field
    >>> class Vase(ActiveRecord):
    ...     __table_name__ = 'vases'
    ...     id: int = Field(primary_key=True)
    >>> db = Database(':memory:'); db.bind(Vase); db.create_tables(Vase)
    >>> with db.track_queries() as t:
    ...     _ = Vase.find_by_id(1)
    >>> timing = t.queries[0]
    >>> timing.sql, timing.params, timing.rows
    ('SELECT "id" FROM "vases" WHERE "id" = ?', (1,), 0)
    """

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
    status: dict[str, int] | None = None
    """SQLite's raw statement counters (only with ``Database(..., sqlite_counters=True)``)."""

    @property
    def duration_ms(self) -> float:
        """Compile plus execute time, in milliseconds."""
        return (self.compile_ns + self.execute_ns) / 1e6

    @property
    def counters(self) -> StatementCounters | None:
        """SQLite's counters for this run, or None when they were not collected."""
        return None if self.status is None else StatementCounters.from_status(self.status)


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


@dataclass(frozen=True, slots=True)
class SlowQuery:
    """A statement that ran longer than the slow-query threshold."""

    sql: str
    """The SQL text."""
    params: Any
    """The values bound."""
    duration_ms: float
    """Execute time (SQLite work plus fetching), in milliseconds."""
    at: _dt.datetime
    """When it finished (UTC)."""
    rows: int
    """Rows returned or changed."""
    plan: Plan | None
    """Its query plan, taken right after it ran (None for statements without one)."""
    counters: StatementCounters | None = None
    """SQLite's counters for the run (with ``sqlite_counters=True``)."""

    def __str__(self) -> str:
        return f"{self.duration_ms:.2f}ms: {self.sql}"


class _Params:
    """Renders a parameter list for a log line, shortened; built only when a line is logged."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        text = repr(self.value)
        if len(text) > PARAMS_LOG_LIMIT:
            text = text[: PARAMS_LOG_LIMIT - 3] + "..."
        return text


class LookupRun:
    """What the log knows of one primary-key finder: its SQL text, its shape, and the time
    from which one of its lookups needs :meth:`QueryLog.lookup_due`.

    A finder adds ``(execute_ns, key, sql)`` to the log's ``_lookups`` with one ``extend``
    (atomic, so threads never split a record) for each lookup that found exactly one row (its
    parameters are ``(key,)``: only the key is kept, so no tuple outlives the lookup);
    anything else it records through ``QueryLog.record``. ``gate`` is the lower of the log's
    gate and one more than the slowest lookup of its SQL so far, so a lookup that could set a
    new maximum, be slow or be watched is the only one that calls the log.
    """

    __slots__ = ("sql", "shape", "gate", "__weakref__")

    def __init__(self, sql: str, shape: Any) -> None:
        self.sql = sql
        self.shape = shape
        self.gate = 0


class _Lookups:
    """Folded lookups, kept in the recent-records buffer as their flat list of
    ``execute_ns, key, sql`` triples."""

    __slots__ = ("flat",)

    def __init__(self, flat: list[Any]) -> None:
        self.flat = flat

    def __len__(self) -> int:
        return len(self.flat) // 3

    def records(self) -> zip[tuple[Any, ...]]:
        """The lookups as kept records (one row each, SQL from the compile cache)."""
        return _lookup_records(self.flat)


def _lookup_records(flat: list[Any]) -> zip[tuple[Any, ...]]:
    # zip() of one list makes each key the 1-tuple that was bound.
    return zip(flat[2::3], zip(flat[1::3]), repeat(0), flat[0::3], repeat(1), repeat(True))


def _take(items: list[Any]) -> list[Any]:
    """The items of ``items``, removed from it; items another thread appends meanwhile stay."""
    taken = items[:len(items)]
    del items[:len(taken)]
    return taken


class QueryLog:
    """Every statement's timing: recent records, per-shape totals, slow queries, observers.

    ``record`` is called once per statement with plain values; which implementation runs is
    chosen when the configuration changes (``stats`` on/off, SQLite counters), so the common
    path tests nothing it does not need.

    Observers get each statement's full record ``(sql, shape, params, compile_ns, execute_ns,
    rows, hit[, status])``. The records kept for statistics and ``records()`` leave the shape
    out, ``(sql, params, compile_ns, execute_ns, rows, hit[, status])``, and find it by SQL
    text: the cyclic GC stops tracking a tuple of plain values within its first two passes,
    whereas one holding a shape (itself a tuple) stays tracked and is traversed by every
    collection for as long as the buffer keeps it.

    Args:
        limit: how many recent timing records to keep (None: every one).
        slow_query_ms: keep statements slower than this (None: keep none).
        stats: keep recent records and per-shape statistics.
        on_slow_query: called with each ``SlowQuery`` as it is recorded.
    """

    fold_every = FOLD_EVERY
    """Records added before a batch is folded (read by finders that record their own)."""

    def __init__(self, limit: int | None = 10_000, slow_query_ms: float | None = None, *,
                 stats: bool = True,
                 on_slow_query: Callable[[SlowQuery], Any] | None = None) -> None:
        if limit is not None and (type(limit) is not int or limit < 0):
            raise ConfigurationError(
                f"record_limit must be a non-negative integer or None, not {limit!r}")
        self._limit = limit
        """How many recent records to keep (None: all)."""
        self._batches: deque[list[tuple[Any, ...]] | _Lookups] = deque()
        """Folded batches, oldest first: the recent records (see ``buffer``)."""
        self._kept = 0
        """Records in ``_batches``."""
        self._lookups: list[Any] = []
        """Finders' lookups since the last fold, newer than every unfolded record: a flat list
        of ``execute_ns, key, sql`` triples (see ``LookupRun``)."""
        self._runs: weakref.WeakSet[LookupRun] = weakref.WeakSet()
        self._lock = threading.RLock()
        """Taken to fold and to move lookups, so that no record is folded twice or lost."""
        self.observers: list[Callable[[tuple[Any, ...]], Any]] = []
        """Called with each raw record (trackers, N+1 detectors)."""
        self.slow: deque[SlowQuery] = deque(maxlen=1000)
        self.on_slow_query = on_slow_query
        self._unfolded: list[tuple[Any, ...]] = []
        """Records of the statements since the last fold, in the order they ran."""
        self._acc: dict[str, ShapeAccumulator] = {}
        self._shapes: dict[str, Any] = {}
        """The shape of each SQL text, as first seen."""
        self._missed_sqls: list[str] = []
        """The SQL text of each compile-cache miss since the last fold, appended as it happens
        (one atomic append, no lock: a fold takes them by length, as it takes records)."""
        self._misses: dict[str, int] = {}
        """Misses taken by a fold whose records it has not met yet, by SQL text (changed only
        under ``_lock``)."""
        self._db: Callable[[], Any] = lambda: None
        self._status: dict[str, int] | None = None
        self._counters = False
        self._stats = stats
        self._last: str | None = None
        """The SQL text of the last record pushed (see ``_stats_recorder``)."""
        self.pushed = False
        """Whether finders may add their lookups to ``_lookups`` themselves (see ``LookupRun``)."""
        _LOGS.add(self)
        self.slow_query_ms = slow_query_ms
        self._select_record()

    # configuration -------------------------------------------------------------------------
    @property
    def slow_query_ms(self) -> float | None:
        """Threshold for slow queries in milliseconds (None: off)."""
        return self._slow_ms

    @slow_query_ms.setter
    def slow_query_ms(self, value: float | None) -> None:
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ConfigurationError(f"slow_query_ms must be a non-negative number or None, not {value!r}")
        self._slow_ms = value
        # One int-to-int comparison per statement; "off" is a threshold nothing reaches
        # (an int, since comparing an int with float('inf') costs twice as much).
        self._slow_ns = _NEVER if value is None else int(value * 1e6)
        self._set_gate()

    def _set_gate(self) -> None:
        # One comparison per statement stands for observers, the slow-query check and the
        # SQL logger: 0 opens it for every statement.
        watched = _WATCHING and not sql_logger.isEnabledFor(_DEBUG)
        self._gate_ns = self._slow_ns if watched and not self.observers else 0
        self._set_run_gates()

    def _set_run_gates(self) -> None:
        accs = self._acc
        gate = self._gate_ns
        for run in list(self._runs):
            acc = accs.get(run.sql)
            run.gate = 0 if acc is None else min(gate, acc.max_ns + 1)

    def _open_gate(self) -> None:
        """Send the next statement of every kind through the full check (see ``_after``)."""
        self._gate_ns = 0
        for run in list(self._runs):
            run.gate = 0

    @property
    def stats_enabled(self) -> bool:
        """Whether recent records and per-shape statistics are kept."""
        return self._stats

    @stats_enabled.setter
    def stats_enabled(self, on: bool) -> None:
        self._stats = bool(on)
        self._select_record()

    def attach(self, db: Any) -> None:
        """Give the log its database (for query plans of slow statements)."""
        self._db = weakref.ref(db)

    def enable_counters(self, connection: Connection, on: bool = True) -> None:
        """Attach SQLite's per-statement counters to every record (via the engine
        connection's profile trace, :meth:`activeq.engines.Connection.profile`).

        Costs a Python callback per statement (about 2 µs), hence off unless asked for.
        """
        connection.profile(self._on_profile if on else None, self)
        self._counters = on
        self._status = None
        self._select_record()

    @property
    def counters_enabled(self) -> bool:
        """Whether SQLite's statement counters are collected."""
        return self._counters

    def _on_profile(self, event: dict[str, Any]) -> None:
        # The statement's own event comes last, after any from triggers or nested queries.
        if not event.get("trigger"):
            self._status = event.get("stmt_status")

    def _select_record(self) -> None:
        self._last = None
        if self._counters:
            self.record = self._record_counters  # type: ignore[method-assign]
        elif self._stats:
            self.record = self._stats_recorder()  # type: ignore[method-assign]
        else:
            self.record = self._off_recorder()  # type: ignore[method-assign]
        pushed = self._stats and not self._counters
        if pushed != self.pushed:
            self.pushed = pushed
            # Finders built for the other setting record the wrong way now.
            forget_finders()

    # the hot path --------------------------------------------------------------------------
    def record(self, sql: str, shape: Any, params: Any, compile_ns: int, execute_ns: int,
               rows: int, hit: bool) -> None:
        """Record one statement (replaced per instance by the variant the settings need)."""
        self._select_record()
        self.record(sql, shape, params, compile_ns, execute_ns, rows, hit)

    # The recorders are closures: their state is in cells, not attributes, which saves a
    # third of the per-statement cost. The objects they hold are only ever changed in place.
    def _stats_recorder(self) -> Callable[..., None]:
        log = self
        unfolded = self._unfolded
        push = unfolded.append
        lookups = self._lookups
        move_lookups = self._move_lookups
        switched = self._switched
        missed = self._missed_sqls.append
        fold = self._fold
        after = self._after
        every = FOLD_EVERY

        def record(sql: str, shape: Any, params: Any, compile_ns: int, execute_ns: int,
                   rows: int, hit: bool) -> None:
            # SQL texts come from the compile cache, so a statement run in a loop passes the
            # same str object each time: one identity test stands for the shape lookup. The
            # last text is an attribute, not a cell: the log's other methods set it too.
            if lookups:  # finders' lookups ran since the last record: they go first
                move_lookups()
            if sql is not log._last:
                log._last = sql
                switched(sql, shape)
            push((sql, params, compile_ns, execute_ns, rows, hit))
            if not hit:
                missed(sql)
            if len(unfolded) >= every:
                fold()
            if execute_ns >= log._gate_ns:
                after((sql, shape, params, compile_ns, execute_ns, rows, hit))

        return record

    def lookup_run(self, sql: str, shape: Any) -> LookupRun:
        """A new ``LookupRun`` for a finder whose lookups run ``sql`` (of query shape ``shape``)."""
        run = LookupRun(sql, shape)
        self._runs.add(run)
        return run

    def lookup_due(self, run: LookupRun, params: Any, execute_ns: int) -> None:
        """What ``record`` does besides keeping the record, for a lookup of ``run`` that a
        finder has just added to ``_lookups``.

        Only while ``pushed`` is true. A finder calls this only when ``execute_ns >=
        run.gate`` or ``FOLD_EVERY`` lookups are waiting: most lookups cost one ``extend``.
        """
        if execute_ns >= run.gate:
            sql = run.sql
            with self._lock:
                if sql not in self._shapes and len(self._shapes) < MAX_SHAPES:
                    self._shapes[sql] = run.shape
                # The maximum is kept here, as it happens: a fold of lookups only adds.
                acc = self._accumulator(sql, params)
                if execute_ns > acc.max_ns:
                    acc.max_ns = execute_ns
                run.gate = min(self._gate_ns, acc.max_ns + 1)
            if execute_ns >= self._gate_ns:
                self._after((sql, run.shape, params, 0, execute_ns, 1, True))
        if len(self._lookups) >= 3 * FOLD_EVERY:
            self._fold()

    def _move_lookups(self) -> None:
        """Move the waiting lookups to the end of the unfolded batch, as kept records."""
        with self._lock:
            taken = _take(self._lookups)
            if taken:
                self._unfolded.extend(_lookup_records(taken))

    def _off_recorder(self) -> Callable[..., None]:
        log = self
        after = self._after

        def record(sql: str, shape: Any, params: Any, compile_ns: int, execute_ns: int,
                   rows: int, hit: bool) -> None:
            if execute_ns >= log._gate_ns:
                after((sql, shape, params, compile_ns, execute_ns, rows, hit))

        return record

    def _after(self, rec: tuple[Any, ...]) -> None:
        for observe in self.observers:
            observe(rec)
        if rec[4] >= self._slow_ns:
            self._keep_slow(rec)
        if sql_logger.isEnabledFor(_DEBUG):
            _log(rec)
        elif not self._gate_ns:
            self._set_gate()  # opened by a level change that left the logger off

    def _record_counters(self, sql: str, shape: Any, params: Any, compile_ns: int,
                         execute_ns: int, rows: int, hit: bool) -> None:
        status, self._status = self._status, None
        if self._stats:
            if self._lookups:
                self._move_lookups()
            self._switched(sql, shape)
            self._unfolded.append((sql, params, compile_ns, execute_ns, rows, hit, status))
            if not hit:
                self._missed_sqls.append(sql)
            if len(self._unfolded) >= FOLD_EVERY:
                self._fold()
        self._after((sql, shape, params, compile_ns, execute_ns, rows, hit, status))

    def _switched(self, sql: str, shape: Any) -> None:
        # A statement of another SQL text than the previous one joins the unfolded batch.
        if sql not in self._shapes and len(self._shapes) < MAX_SHAPES:
            self._shapes[sql] = shape

    def _fold(self) -> None:
        """Move the unfolded records, then the waiting lookups, to the recent-records buffer
        and into per-shape totals."""
        with self._lock:
            # Taken by length, not cleared: a record another thread adds meanwhile stays.
            taken = _take(self._unfolded)
            flat = _take(self._lookups)
            if taken:
                self._keep(taken)
                sqls = list(map(_SQL, taken))
                if sqls.count(sqls[0]) == len(sqls):
                    # One shape run in a loop: the common case, folded without a Python-level pass.
                    self._accumulator(sqls[0], taken[0][1]).add(taken)
                else:
                    groups: dict[str, list[tuple[Any, ...]]] = {}
                    for rec in taken:
                        group = groups.get(rec[0])
                        if group is None:
                            groups[rec[0]] = [rec]
                        else:
                            group.append(rec)
                    for sql, recs in groups.items():
                        self._accumulator(sql, recs[0][1]).add(recs)
            if flat:
                self._keep(_Lookups(flat))
                sqls = flat[2::3]
                if sqls.count(sqls[0]) == len(sqls):
                    self._accumulator(sqls[0], (flat[1],)).add_lookups(flat[0::3])
                else:
                    # Each SQL text's first parameters, then its execute times.
                    runs: dict[str, list[Any]] = {}
                    for i in range(0, len(flat), 3):
                        run = runs.get(flat[i + 2])
                        if run is None:
                            runs[flat[i + 2]] = [(flat[i + 1],), flat[i]]
                        else:
                            run.append(flat[i])
                    for sql, run in runs.items():
                        self._accumulator(sql, run[0]).add_lookups(run[1:])
            missed = _take(self._missed_sqls)
            misses = self._misses
            if missed or misses:
                for sql in missed:
                    misses[sql] = misses.get(sql, 0) + 1
                accs = self._acc
                for sql, n in list(misses.items()):
                    acc = accs.get(sql) or (accs.get(OTHER_SHAPES) if len(accs) >= MAX_SHAPES else None)
                    if acc is not None:  # else its run went into the next batch: counted then
                        acc.misses += n
                        del misses[sql]

    def _keep(self, batch: list[tuple[Any, ...]] | _Lookups) -> None:
        """Add a folded batch to the recent records, dropping the oldest whole batches that
        are no longer among the last ``limit`` records."""
        batches = self._batches
        batches.append(batch)
        kept = self._kept + len(batch)
        limit = self._limit
        while limit is not None and kept - len(batches[0]) >= limit:
            kept -= len(batches.popleft())
            if not batches:
                break
        self._kept = kept

    @property
    def buffer(self) -> list[tuple[Any, ...]]:
        """The recent records folded so far, oldest first (at most ``limit``), each
        ``(sql, params, compile_ns, execute_ns, rows, hit[, status])``."""
        out: list[tuple[Any, ...]] = []
        for batch in list(self._batches):
            out.extend(batch if type(batch) is list else batch.records())  # type: ignore[union-attr]
        limit = self._limit
        return out if limit is None else out[max(0, len(out) - limit):] if limit else []

    def _accumulator(self, sql: str, params: Any) -> ShapeAccumulator:
        """The totals of ``sql``'s shape, created on its first run (which bound ``params``)."""
        acc = self._acc.get(sql)
        if acc is None:
            if len(self._acc) >= MAX_SHAPES:
                acc = self._acc.get(OTHER_SHAPES)
                if acc is None:
                    acc = self._acc[OTHER_SHAPES] = ShapeAccumulator(OTHER_SHAPES, None, ())
            else:
                acc = self._acc[sql] = ShapeAccumulator(sql, self._shapes.get(sql), params)
        return acc

    def _keep_slow(self, rec: tuple[Any, ...]) -> None:
        sql, _, params, _, execute_ns, rows = rec[:6]
        status = rec[7] if len(rec) > 7 else None
        slow = SlowQuery(
            sql=sql,
            params=params,
            duration_ms=execute_ns / 1e6,
            at=_dt.datetime.now(_dt.UTC),
            rows=rows,
            plan=self._plan_for(sql, params),
            counters=None if status is None else StatementCounters.from_status(status),
        )
        self.slow.append(slow)
        if self.on_slow_query is not None:
            self.on_slow_query(slow)

    def _plan_for(self, sql: str, params: Any) -> Plan | None:
        db = self._db()
        if db is None or not sql.lstrip()[:7].upper().startswith(_EXPLAINABLE):
            return None
        try:
            return explain_plan(db, sql, params, record=False)
        except Exception:  # noqa: BLE001 - a plan is diagnostics; the statement itself succeeded
            return None

    # readers -------------------------------------------------------------------------------
    def tracker(self) -> QueryTracker:
        """Start collecting records into a new tracker."""
        tracker = QueryTracker()
        self.observe(tracker._raw.append)
        return tracker

    def untrack(self, tracker: QueryTracker) -> None:
        """Stop collecting into ``tracker``."""
        self.unobserve(tracker._raw.append)

    def observe(self, callback: Callable[[tuple[Any, ...]], Any]) -> None:
        """Call ``callback`` with every raw record tuple from now on."""
        self.observers.append(callback)
        self._set_gate()

    def unobserve(self, callback: Callable[[tuple[Any, ...]], Any]) -> None:
        """Stop calling ``callback`` (no error if it was not registered)."""
        try:
            self.observers.remove(callback)
        except ValueError:
            pass
        self._set_gate()

    def records(self) -> list[Timing]:
        """The recent timing records, oldest first."""
        self._fold()
        shapes = self._shapes
        return [Timing(r[0], shapes.get(r[0]), *r[1:]) for r in self.buffer]

    def clear(self) -> None:
        """Forget the recent records (statistics are kept; see ``reset_stats``)."""
        with self._lock:
            self._fold()
            self._batches.clear()
            self._kept = 0

    def accumulators(self) -> list[ShapeAccumulator]:
        """Per-shape running totals, with every pending record folded in."""
        self._fold()
        return list(self._acc.values())

    def stats(self) -> list[ShapeStats]:
        """Statistics per query shape, sorted by total execute time, largest first."""
        out = [acc.snapshot() for acc in self.accumulators() if acc.count]
        out.sort(key=lambda s: s.total_ms, reverse=True)
        return out

    def stats_report(self, limit: int | None = None) -> str:
        """``stats()`` as a readable table."""
        return render_stats(self.stats(), limit)

    def reset_stats(self) -> None:
        """Forget statistics, recent records and slow queries."""
        with self._lock:
            self._unfolded.clear()
            self._lookups.clear()
            self._acc.clear()
            self._shapes.clear()
            self._missed_sqls.clear()
            self._misses.clear()
            self._select_record()  # a fresh recorder: its memory of the previous SQL is stale
            self._batches.clear()
            self._kept = 0
            self.slow.clear()
            self._set_run_gates()

    def slow_queries(self, threshold_ms: float | None = None) -> list[SlowQuery]:
        """Slow statements, slowest first.

        Args:
            threshold_ms: only those at least this slow. Below the log's own threshold, the
                recent timing records are searched as well (their plans are taken now and
                their time is when they were found).
        """
        kept = list(self.slow)
        if threshold_ms is not None:
            floor = threshold_ms * 1e6
            kept = [s for s in kept if s.duration_ms * 1e6 >= floor]
            if self._slow_ms is None or threshold_ms < self._slow_ms:
                kept += self._recent_slow(floor, {(s.sql, s.duration_ms) for s in kept})
        kept.sort(key=lambda s: s.duration_ms, reverse=True)
        return kept

    def _recent_slow(self, floor: float, known: set[tuple[str, float]]) -> list[SlowQuery]:
        self._fold()
        now = _dt.datetime.now(_dt.UTC)
        found = []
        for rec in self.buffer:
            if rec[3] >= floor and (rec[0], rec[3] / 1e6) not in known:
                status = rec[6] if len(rec) > 6 else None
                found.append(SlowQuery(
                    rec[0], rec[1], rec[3] / 1e6, now, rec[4], self._plan_for(rec[0], rec[1]),
                    None if status is None else StatementCounters.from_status(status)))
        return found

    def slow_query_report(self, limit: int = 10, threshold_ms: float | None = None) -> str:
        """The slowest statements as text, with each plan's full scans and indexes."""
        slow = self.slow_queries(threshold_ms)
        if not slow:
            return "No slow queries detected."
        lines = [f"Slow Query Report ({len(slow)} queries):"]
        for i, q in enumerate(slow[:limit], 1):
            lines.append(f"{i}. {q.duration_ms:.2f}ms, {q.rows} rows, at {q.at:%Y-%m-%d %H:%M:%S}: "
                         f"{' '.join(q.sql.split())}")
            lines.append(f"   params: {_Params(q.params)}")
            if q.plan is not None:
                lines.extend("   plan: " + detail for _, _, detail in q.plan.rows)
        return "\n".join(lines)


_LOGS: weakref.WeakSet[QueryLog] = weakref.WeakSet()


class _LevelCache(dict):  # type: ignore[type-arg]
    """Stands in for the SQL logger's level cache, which logging clears on every level change
    anywhere: clearing it also opens every query log's gate, so the next statement looks at
    the logger again. Statements therefore never ask the logger while it stays off."""

    __slots__ = ()

    def clear(self) -> None:
        super().clear()
        for log in list(_LOGS):
            log._open_gate()


def _watch_level() -> bool:
    cache = getattr(sql_logger, "_cache", None)
    if type(cache) is dict:
        sql_logger._cache = _LevelCache(cache)  # type: ignore[attr-defined]
        return True
    # Without the cache to watch, every statement asks the logger (correct, slower).
    return isinstance(cache, _LevelCache)


_WATCHING = _watch_level()


def _log(rec: tuple[Any, ...]) -> None:
    sql_logger.debug("(%.3f ms) %s | params: %s | rows: %d", rec[4] / 1e6, rec[0],
                     _Params(rec[2]), rec[5])


@dataclass(frozen=True)
class Plan:
    """An EXPLAIN QUERY PLAN result.

    ``db.execute(plan)`` runs the EXPLAIN again and returns its raw rows.

    Attributes:
        sql: the statement explained.
        rows: the plan rows as (id, parent, detail) tuples.
        full_scans: tables scanned without an index.
        indexes: indexes the plan uses.
        elapsed_ms: with ``analyze=True``, the time to run the statement.
        row_count: with ``analyze=True``, the rows it returned.
        params: the values bound when it was explained.
        sorts: what needs a temporary sort ("ORDER BY", "GROUP BY", "DISTINCT").
        automatic_indexes: tables SQLite builds a transient index for on every run.

    >>> from activeq import ActiveRecord, Database, Field
    >>> class Book(ActiveRecord):
    ...     __table_name__ = 'plan_books'
    ...     id: int = Field(primary_key=True)
    ...     title: str
    >>> db = Database(':memory:'); db.bind(Book); db.create_tables(Book)
    >>> plan = Book.query().where(Book.c.title == 'x').explain()
    >>> plan.full_scans
    ['plan_books']
    """

    sql: str
    rows: list[tuple[int, int, str]]
    full_scans: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    elapsed_ms: float | None = None
    row_count: int | None = None
    params: Any = ()
    sorts: list[str] = field(default_factory=list)
    automatic_indexes: list[str] = field(default_factory=list)

    @property
    def uses_index(self) -> bool:
        """Whether any step uses an index."""
        return bool(self.indexes)

    @property
    def has_full_scan(self) -> bool:
        """Whether some table is read in full."""
        return bool(self.full_scans)

    def to_sql(self) -> tuple[str, Any]:
        """The EXPLAIN QUERY PLAN statement and its parameters."""
        return f"EXPLAIN QUERY PLAN {self.sql}", self.params

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
        if self.sorts:
            lines.append(f"temporary sorts: {', '.join(self.sorts)}")
        if self.automatic_indexes:
            lines.append(f"automatic indexes: {', '.join(self.automatic_indexes)}")
        if self.elapsed_ms is not None:
            lines.append(f"ran in {self.elapsed_ms:.3f} ms, {self.row_count} rows")
        return "\n".join(lines)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _parse_plan(rows: list[tuple[Any, ...]]) -> tuple[list[str], list[str], list[str], list[str]]:
    scans: list[str] = []
    indexes: list[str] = []
    sorts: list[str] = []
    autos: list[str] = []
    for row in rows:
        detail = row[-1]
        words = detail.split()
        if words[:1] == ["SCAN"] and "USING" not in words:
            table = words[1]
            if table not in scans and not detail.startswith("SCAN CONSTANT"):
                scans.append(table)
        if detail.startswith("USE TEMP B-TREE FOR "):
            what = detail[len("USE TEMP B-TREE FOR "):]
            what = what.replace("RIGHT PART OF ", "").replace("LAST TERM OF ", "")
            if what not in sorts:
                sorts.append(what)
        if "AUTOMATIC" in words and "INDEX" in words and words[1:2] and words[1] not in autos:
            autos.append(words[1])
        if "USING" in words:
            i = words.index("USING")
            rest = words[i + 1:]
            if rest[:2] == ["INTEGER", "PRIMARY"]:
                name = f"{words[1]}(rowid)"
            elif "AUTOMATIC" in rest:
                continue
            elif "INDEX" in rest:
                name = rest[rest.index("INDEX") + 1]
            else:
                continue
            if name not in indexes:
                indexes.append(name)
    return scans, indexes, sorts, autos


def explain_plan(db: Any, sql: str, params: Any = (), analyze: bool = False, *,
                 record: bool = True) -> Plan:
    """EXPLAIN QUERY PLAN ``sql`` on ``db``; with ``analyze`` also run it and time it.

    Args:
        db: the Database.
        sql: the statement.
        params: its values (the plan of a statement with placeholders needs them bound).
        analyze: also run the statement, reporting its time and row count.
        record: run the EXPLAIN through ``db.execute`` (so it is logged like any statement);
            False runs it unlogged, for plans taken while recording.
    """
    if db.dialect != "sqlite":
        # PostgreSQL's EXPLAIN (FORMAT JSON) and DuckDB's JSON plan, read by the engine.
        data = db._plan_data(sql, params)
        plan_rows = [tuple(r) for r in data.rows]
        return _timed(db, Plan(sql, plan_rows, list(data.full_scans), list(data.indexes),
                               None, None, params, list(data.sorts),
                               list(data.automatic_indexes)), analyze)
    text = f"EXPLAIN QUERY PLAN {sql}"
    if record:
        raw = db.execute(text, params).fetchall()
    else:
        raw = db._introspect(text, params, one_statement=True)
    scans, indexes, sorts, autos = _parse_plan(raw)
    rows = [(r[0], r[1], r[-1]) for r in raw]
    return _timed(db, Plan(sql, rows, scans, indexes, None, None, params, sorts, autos), analyze)


def _timed(db: Any, plan: Plan, analyze: bool) -> Plan:
    """``plan``, with ``analyze`` also the time and row count of running its statement."""
    if not analyze:
        return plan
    t0 = time.perf_counter()
    count = len(db.execute(plan.sql, plan.params).fetchall())
    elapsed = (time.perf_counter() - t0) * 1000
    return dataclasses.replace(plan, elapsed_ms=elapsed, row_count=count)

