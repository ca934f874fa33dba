"""Statistics per shape, SQLite counters, SQL logging, slow queries, plans, index advice,
and the query-count test helpers."""

from __future__ import annotations

import gc
import logging
import sys

import pytest
from helpers import Order, User

from activeq import Database
from activeq.monitor import FOLD_EVERY, SlowQuery, sql_logger
from activeq.stats import RESERVOIR_SIZE, ShapeStats, load_stats, render_stats
from activeq.testing import assert_max_queries, assert_queries


def _users(n: int) -> None:
    User.insert_many([{"name": f"u{i}", "email": f"u{i}@x.org", "age": i % 50} for i in range(n)])


def _by_sql(db: Database) -> dict[str, ShapeStats]:
    return {s.sql: s for s in db.stats()}


# statistics --------------------------------------------------------------------------------
def test_stats_per_shape_for_a_known_workload(db):
    _users(20)
    db.reset_stats()
    with db.track_queries() as t:
        for age in range(5):
            User.query().where(User.c.age == age).all()
        for i in range(3):
            User.find_by_id(i + 1)
    by_sql = _by_sql(db)
    assert len(by_sql) == 2
    filtered = by_sql[t.queries[0].sql]
    assert filtered.count == 5
    assert filtered.rows == 5  # ages 0..4 match one user each
    # The compile cache is process-wide: only the first run of the shape can miss.
    hits = sum(q.cache_hit for q in t.queries if q.sql == filtered.sql)
    assert (filtered.cache_hits, filtered.cache_misses) == (hits, 5 - hits)
    assert hits >= 4
    lookup = by_sql[t.queries[-1].sql]
    assert (lookup.count, lookup.rows) == (3, 3)
    # Totals are exactly the sum of what the timing records say.
    for stats in (filtered, lookup):
        ns = [q.execute_ns for q in t.queries if q.sql == stats.sql]
        assert stats.total_ms == pytest.approx(sum(ns) / 1e6)
        assert stats.max_ms == pytest.approx(max(ns) / 1e6)
        assert stats.mean_ms == pytest.approx(sum(ns) / len(ns) / 1e6)
        assert min(ns) / 1e6 <= stats.p50_ms <= stats.p95_ms <= stats.max_ms
    totals = [s.total_ms for s in db.stats()]
    assert totals == sorted(totals, reverse=True)


def test_stats_fold_in_batches_and_keep_a_bounded_sample(db):
    db.reset_stats()
    runs = RESERVOIR_SIZE + FOLD_EVERY * 3 + 7
    with db.track_queries() as t:
        for i in range(runs):
            db.execute("SELECT ?", (i,))
    (stats,) = db.stats()
    assert stats.count == runs
    assert stats.rows == runs
    assert stats.cache_misses == runs  # raw SQL never comes from the compile cache
    assert stats.total_ms == pytest.approx(sum(q.execute_ns for q in t.queries) / 1e6)
    (acc,) = db.log.accumulators()
    assert len(acc.samples) == RESERVOIR_SIZE


def test_interleaved_shapes_fold_into_their_own_totals_and_keep_their_order(db):
    _users(10)
    db.reset_stats()
    db.queries  # noqa: B018 - folds what came before, so the checks below see only this loop
    before = len(db.queries)
    runs = FOLD_EVERY * 2 + 5  # crosses two folds and leaves some records unfolded
    with db.track_queries() as t:
        for i in range(runs):
            if i % 3:
                User.find_by_id(i % 10 + 1)
            else:
                db.execute("SELECT ?", (i,))
    lookups = runs - len(range(0, runs, 3))
    by_sql = _by_sql(db)
    assert by_sql["SELECT ?"].count == len(range(0, runs, 3))
    (lookup,) = [s for s in by_sql.values() if s.sql != "SELECT ?"]
    assert (lookup.count, lookup.rows) == (lookups, lookups)
    for stats in by_sql.values():
        ns = [q.execute_ns for q in t.queries if q.sql == stats.sql]
        assert stats.total_ms == pytest.approx(sum(ns) / 1e6)
        assert stats.max_ms == pytest.approx(max(ns) / 1e6)
    # The recent records come back in the order the statements ran.
    recent = db.queries[before:]
    assert [(q.sql, q.params) for q in recent] == [(q.sql, q.params) for q in t.queries]


def test_kept_records_hold_only_plain_values_so_the_gc_stops_tracking_them(db):
    _users(5)
    db.reset_stats()
    gc.disable()  # every record and what it holds stays in the youngest generation until asked
    try:
        for i in range(FOLD_EVERY * 2):
            User.query().where((User.c.age > i % 5) & (User.c.name != "x")).order_by(User.c.id).all()
    finally:
        gc.enable()
    # One youngest-generation pass untracks each record's parameter tuple, the next pass the
    # record. A record holding its query's shape (a fresh tuple of tuples on every run) would
    # stay tracked and be traversed by every collection while the buffer keeps it.
    gc.collect(0)
    gc.collect(1)
    kept = list(db.log.buffer)
    assert len(kept) >= FOLD_EVERY
    assert not [r for r in kept if gc.is_tracked(r)]
    # The shape is still reported, found by SQL text.
    shapes = {q.shape for q in db.queries}
    query = User.query().where((User.c.age > 1) & (User.c.name != "x")).order_by(User.c.id)
    assert shapes == {query.key}


def test_after_reset_the_same_statement_is_counted_and_keeps_its_shape(db):
    _users(3)
    query = User.query().where(User.c.age > 0)
    for _ in range(3):
        query.all()
    db.reset_stats()
    for _ in range(2):
        query.all()
    (stats,) = db.stats()
    assert (stats.count, stats.cache_misses) == (2, 0)
    assert [q.shape for q in db.queries] == [query.key, query.key]


def test_stats_report_and_reset(db):
    _users(3)
    db.reset_stats()
    User.query().where(User.c.name == "u1").all()
    report = db.stats_report()
    sql = User.query().where(User.c.name == "u1").to_sql()[0]
    assert len(sql) > 70 and sql[:67] + "..." in report  # long SQL is shortened
    assert report.splitlines()[2].split()[:1] == ["1"]
    assert report.splitlines()[0].split()[:3] == ["count", "total", "ms"]
    assert "shapes" in report.splitlines()[-1]
    db.reset_stats()
    assert db.stats() == []
    assert db.stats_report() == "No statements recorded."


def test_stats_off_keeps_nothing_but_tracking_still_works(tmp_path):
    db = Database(str(tmp_path / "off.db"), stats=False)
    db.bind(User, Order)
    db.create_tables(User, Order)
    with db.track_queries() as t:
        User.create(name="a", email="a@x.org")
        assert User.find_by_id(1).name == "a"
    assert len(t) == 2
    assert db.stats() == []
    assert db.queries == []
    db.log.stats_enabled = True
    User.find_by_id(1)
    assert [s.count for s in db.stats()] == [1]
    db.close()


def test_stats_dump_round_trip(db, tmp_path):
    _users(3)
    for _ in range(2):
        User.query().where(User.c.age > 0).all()
    path = tmp_path / "stats.json"
    db.stats_dump(path)
    assert load_stats(path) == db.stats()
    assert render_stats(load_stats(path)) == db.stats_report()


# SQLite's statement counters ----------------------------------------------------------------
def test_lookups_recorded_untracked_keep_order_and_totals_beside_other_statements(db):
    # Untracked, find_by_id puts its record in the log's batch itself: runs of lookups and
    # filtered queries share batches, across a fold, and every total still holds.
    _users(10)
    db.reset_stats()
    filtered = User.query().where(User.c.age == 3)
    runs = FOLD_EVERY // 3 + 5
    for i in range(runs):
        User.find_by_id(i % 10 + 1)
        filtered.all()
        User.find_by_id(99)  # no such row
    lookup_sql = ('SELECT "id", "name", "email", "age", "status" FROM "users" '
                  'WHERE "id" = ?')
    by_sql = _by_sql(db)
    assert by_sql[lookup_sql].count == 2 * runs
    assert by_sql[lookup_sql].rows == runs
    assert by_sql[filtered.to_sql()[0]].count == runs
    recent = db.queries[-3 * runs:]
    assert [q.sql for q in recent] == [lookup_sql, filtered.to_sql()[0], lookup_sql] * runs
    assert [q.params for q in recent[:6]] == [(1,), (3,), (99,), (2,), (3,), (99,)]
    assert [q.rows for q in recent[:3]] == [1, 1, 0]
    assert all(q.cache_hit and q.compile_ns == 0 for q in recent[::3])
    assert all(q.shape is not None for q in recent)


def test_lookup_records_follow_stats_and_counters_switched_after_first_use(tmp_path):
    db = Database(str(tmp_path / "switch.db"))
    db.bind(User, Order)
    db.create_tables(User, Order)
    _users(3)
    User.find_by_id(1)  # the model's finder exists from here on
    db.log.stats_enabled = False
    db.reset_stats()
    User.find_by_id(2)
    assert db.stats() == [] and db.queries == []
    db.log.stats_enabled = True
    User.find_by_id(2)
    assert [(s.count, s.rows) for s in db.stats()] == [(1, 1)]
    db.log.enable_counters(db._thread().conn)
    User.find_by_id(3)
    (timing,) = db.queries[-1:]
    assert timing.params == (3,) and timing.counters is not None
    assert timing.counters.fullscan_steps == 0
    assert db.stats()[0].count == 2 and db.stats()[0].vm_steps == timing.counters.vm_steps
    db.log.enable_counters(db._thread().conn, False)
    User.find_by_id(1)
    assert db.queries[-1].counters is None and db.stats()[0].count == 3
    db.close()


def test_slow_lookup_found_by_threshold_and_gate_without_tracking(db):
    _users(3)
    db.reset_stats()
    User.find_by_id(1)
    seen = []
    db.log.observe(seen.append)  # closes the gate to zero: every record reaches observers
    User.find_by_id(2)
    db.log.unobserve(seen.append)
    User.find_by_id(3)
    assert [rec[2] for rec in seen] == [(2,)]
    assert [q.params for q in db.queries] == [(1,), (2,), (3,)]
    assert sorted(s.params for s in db.slow_queries(threshold_ms=0)) == [(1,), (2,), (3,)]


def test_sqlite_counters_attached_to_records_and_stats(tmp_path):
    db = Database(str(tmp_path / "c.db"), sqlite_counters=True)
    db.bind(User, Order)
    db.create_tables(User, Order)
    _users(30)
    db.reset_stats()
    with db.track_queries() as t:
        User.query().where(User.c.age > 10).order_by(User.c.name).all()
        User.find_by_id(3)
    scan, lookup = t.queries
    assert scan.counters.fullscan_steps == 29  # a full scan of 30 rows steps 29 times
    assert scan.counters.sorts == 1
    assert scan.counters.vm_steps > 0
    assert (lookup.counters.fullscan_steps, lookup.counters.sorts) == (0, 0)
    by_sql = _by_sql(db)
    assert by_sql[scan.sql].fullscan_steps == 29
    assert by_sql[scan.sql].sorts == 1
    assert "scan steps" in db.stats_report()
    db.log.enable_counters(db._thread().conn, False)
    with db.track_queries() as t:
        User.find_by_id(3)
    assert t.queries[0].counters is None
    db.close()


# logging -----------------------------------------------------------------------------------
class _Spy(str):
    """A text parameter that counts how often it is formatted for a log line."""

    reprs = 0

    def __repr__(self) -> str:
        type(self).reprs += 1
        return str.__repr__(self)


def test_logger_does_no_work_when_disabled(db):
    _Spy.reprs = 0
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    sql_logger.addHandler(handler)
    old = sql_logger.level
    try:
        sql_logger.setLevel(logging.INFO)
        db.execute("SELECT ?", (_Spy("x"),))
        assert (_Spy.reprs, seen) == (0, [])
        sql_logger.setLevel(logging.DEBUG)
        db.execute("SELECT ?", (_Spy("y"),))
        assert len(seen) == 1
        assert seen[0].getMessage().endswith("SELECT ? | params: ('y',) | rows: 1")
        formatted = _Spy.reprs
        assert formatted >= 1
        sql_logger.setLevel(logging.INFO)
        db.execute("SELECT ?", (_Spy("z"),))
        assert (_Spy.reprs, len(seen)) == (formatted, 1)
    finally:
        sql_logger.setLevel(old)
        sql_logger.removeHandler(handler)


def test_log_line_has_duration_and_truncated_params(db, caplog):
    caplog.set_level(logging.DEBUG, logger="activeq.sql")
    long_text = "v" * 1000
    db.execute("SELECT ?, ?", (long_text, 7))
    (record,) = [r for r in caplog.records if r.name == "activeq.sql"]
    message = record.getMessage()
    assert message.startswith("(") and " ms) SELECT ?, ? | params: ('vvv" in message
    assert message.endswith("... | rows: 1")
    assert len(message) < 300
    assert record.levelno == logging.DEBUG


# slow queries ------------------------------------------------------------------------------
class VirtualClock:
    """Stands for ``perf_counter_ns`` in activeq's modules: time moves only when a statement
    calls ``sleep_ms()``. Which statements count as slow then depends on what they do, not on
    how busy the machine is (a loaded machine made a plain COMMIT take over 30 ms)."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now

    def sleep_ms(self, ms: float) -> float:
        self.now += int(ms * 1_000_000)
        return ms


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    virtual = VirtualClock()
    patched = [name for name, module in list(sys.modules.items())
               if name.split(".")[0] == "activeq" and hasattr(module, "perf_counter_ns")]
    for name in patched:
        monkeypatch.setattr(sys.modules[name], "perf_counter_ns", virtual)
    assert "activeq.database" in patched  # where statements are timed
    return virtual


def _sleepy(tmp_path, clock: VirtualClock, **kw) -> Database:
    db = Database(str(tmp_path / "slow.db"), **kw)
    db.bind(User, Order)
    db.create_tables(User, Order)
    # A function whose statement takes exactly the given (virtual) time.
    db.connection.create_scalar_function("sleep_ms", clock.sleep_ms)
    return db


def test_slow_queries_respect_the_threshold_and_keep_the_plan(tmp_path, clock):
    seen: list[SlowQuery] = []
    db = _sleepy(tmp_path, clock, slow_query_ms=20, on_slow_query=seen.append)
    _users(5)
    db.execute("SELECT sleep_ms(0)")
    db.execute("SELECT sleep_ms(19.9)")
    rows = db.execute("SELECT id, sleep_ms(?) FROM users WHERE age = ?", (25, 3))
    assert rows.fetchall() == [(4, 25)]
    (slow,) = db.slow_queries()
    assert seen == [slow]
    assert slow.sql == "SELECT id, sleep_ms(?) FROM users WHERE age = ?"
    assert slow.params == (25, 3)
    assert slow.duration_ms == 25
    assert slow.rows == 1
    assert slow.plan is not None and slow.plan.full_scans == ["users"]
    assert db.slow_queries(threshold_ms=25.001) == []
    report = db.slow_query_report()
    assert report.startswith("Slow Query Report (1 queries):\n1. ")
    assert "SELECT id, sleep_ms(?) FROM users WHERE age = ?" in report
    assert "plan: SCAN users" in report
    db.close()


def test_slow_queries_sorted_by_duration_and_searchable_below_threshold(tmp_path, clock):
    db = _sleepy(tmp_path, clock, slow_query_ms=30)
    db.execute("SELECT sleep_ms(35)")
    db.execute("SELECT sleep_ms(70)")
    db.execute("SELECT sleep_ms(12)")
    with db.transaction():  # BEGIN and COMMIT are recorded too, and take no time here
        db.execute("SELECT sleep_ms(31)")
    assert [(q.sql, q.duration_ms) for q in db.slow_queries()] == [
        ("SELECT sleep_ms(70)", 70), ("SELECT sleep_ms(35)", 35), ("SELECT sleep_ms(31)", 31)]
    # Below the configured threshold the recent records are searched too.
    found = [q.sql for q in db.slow_queries(threshold_ms=10)]
    assert found == ["SELECT sleep_ms(70)", "SELECT sleep_ms(35)", "SELECT sleep_ms(31)",
                     "SELECT sleep_ms(12)"]
    assert db.slow_query_report(limit=1).count("\n1. ") == 1
    assert "\n2. " not in db.slow_query_report(limit=1)
    db.log.slow_query_ms = None
    db.execute("SELECT sleep_ms(40)")
    assert len(db.slow_queries()) == 3
    with pytest.raises(ValueError, match="slow_query_ms"):
        db.log.slow_query_ms = -1
    db.close()


def test_no_slow_queries_report(db):
    assert db.slow_queries() == []
    assert db.slow_query_report() == "No slow queries detected."


# plans and index advice ------------------------------------------------------------------------
def test_explain_full_scan_before_create_index_and_index_after(db):
    _users(10)
    query = User.query().where(User.c.age == 3)
    plan = query.explain()
    assert plan.full_scans == ["users"]
    assert plan.indexes == []
    assert "SCAN users" in str(plan)
    db.execute("CREATE INDEX ix_users_age ON users(age)")
    plan = query.explain()
    assert plan.full_scans == []
    assert plan.indexes == ["ix_users_age"]
    assert plan.uses_index
    assert "USING INDEX ix_users_age" in str(plan)
    analyzed = query.explain(analyze=True)
    assert analyzed.row_count == 1
    assert analyzed.elapsed_ms is not None and "ran in" in str(analyzed)


def test_explain_reports_temporary_sorts(db):
    plan = User.query().where(User.c.status == "active").order_by(User.c.name).explain()
    assert plan.indexes == ["idx_users_status"]
    assert plan.sorts == ["ORDER BY"]
    assert "temporary sorts: ORDER BY" in str(plan)


def test_suggest_indexes_proposes_the_index_that_removes_the_full_scan(db):
    _users(20)
    db.reset_stats()
    for age in range(4):
        User.query().where(User.c.age == age).all()
    User.find_by_id(1)
    (suggestion,) = db.suggest_indexes()
    assert suggestion.sql == 'CREATE INDEX "idx_users_age" ON "users" ("age")'
    assert (suggestion.table, suggestion.columns) == ("users", ("age",))
    assert suggestion.reasons == ["full scan"]
    assert suggestion.count == 4
    assert suggestion.shapes == [User.query().where(User.c.age == 0).to_sql()[0]]
    assert suggestion.total_ms == pytest.approx(_by_sql(db)[suggestion.shapes[0]].total_ms)
    db.execute(suggestion.sql)
    assert User.query().where(User.c.age == 0).explain().indexes == ["idx_users_age"]
    assert db.suggest_indexes() == []


def test_suggest_indexes_for_sorts_after_an_equality_filter(db):
    _users(5)
    db.reset_stats()
    User.query().where(User.c.status == "active").order_by(User.c.age).all()
    (suggestion,) = db.suggest_indexes()
    assert suggestion.columns == ("status", "age")
    assert suggestion.reasons == ["temp b-tree for ORDER BY"]


def test_suggest_indexes_ignores_unfiltered_scans_and_sorted_lists(db):
    _users(5)
    db.reset_stats()
    User.query().all()
    User.query().order_by(User.c.id).all()
    assert db.suggest_indexes() == []


def test_suggest_indexes_on_the_inner_side_of_a_join(db):
    _users(3)
    db.reset_stats()
    db.execute('SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id '
               'WHERE u.name = ?', ("u1",))
    suggested = {(s.table, s.columns) for s in db.suggest_indexes()}
    # The plan scans orders (aliased o) and looks users up by rowid.
    assert suggested == {("orders", ("user_id",))}


# test helpers ------------------------------------------------------------------------------
def test_assert_queries_passes_and_fails_with_the_sql(people, db):
    with assert_queries(db, 1) as t:
        User.find_by_id(people[0].id)
    assert len(t) == 1
    with pytest.raises(AssertionError, match=r"expected 2 queries, ran 1:\n  1\. SELECT"):
        with assert_queries(db, 2):
            User.find_by_id(people[0].id)
    with assert_queries(db, 1, ignore_transactions=True):
        with db.transaction():
            User.find_by_id(people[0].id)
    with pytest.raises(ValueError, match="non-negative integer"):
        with assert_queries(db, -1):
            pass


def test_assert_max_queries(people, db):
    with assert_max_queries(db, 2):
        User.query().includes("orders").all()
    with pytest.raises(AssertionError, match="expected at most 1 queries, ran 2"):
        with assert_max_queries(db, 1):
            User.query().includes("orders").all()


def test_query_counter_fixture(query_counter, people, db):
    with query_counter(db) as queries:
        users = User.query().includes("orders").all()
    assert [len(u.orders) for u in users] == [2, 1, 0]
    assert len(queries) == 2
    assert queries.sql[1].startswith('SELECT "orders".')
    with query_counter.exactly(db, 1):
        User.find_by_id(people[1].id)
    with query_counter.at_most(db, 3):
        User.find_by_id(people[1].id)
