"""Primary-key lookups recorded in bulk: every lookup still reaches the query log, the
statistics, the slow-query list, the SQL logger and observers, in the order they ran, from any
number of threads."""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from typing import Any

import pytest

from activeq import ActiveRecord, ConfigurationError, Database, Field
from activeq.monitor import FOLD_EVERY, sql_logger


class Lantern(ActiveRecord):
    __table_name__ = "lanterns"
    id: int = Field(primary_key=True)
    name: str


class Wick(ActiveRecord):
    __table_name__ = "wicks"
    id: int = Field(primary_key=True)
    length: int


class Twin(ActiveRecord):
    """A model over a table whose ``id`` is not unique: a lookup may find two rows."""

    __table_name__ = "twins"
    id: int = Field(primary_key=True)
    name: str


LANTERNS = 20


def _open(path: str, **options: Any) -> Database:
    db = Database(path, **options)
    db.bind(Lantern, Wick, Twin)
    db.create_tables(Lantern, Wick)
    db.execute("CREATE TABLE twins (id INTEGER, name TEXT)")
    Lantern.insert_many([{"name": f"lantern {i}"} for i in range(LANTERNS)])
    Wick.insert_many([{"length": i} for i in range(5)])
    db.execute("INSERT INTO twins VALUES (1, 'first'), (1, 'second')")
    return db


SQL = {
    Lantern: 'SELECT "id", "name" FROM "lanterns" WHERE "id" = ?',
    Wick: 'SELECT "id", "length" FROM "wicks" WHERE "id" = ?',
    Twin: 'SELECT "id", "name" FROM "twins" WHERE "id" = ?',
}


def _sql(model: Any) -> str:
    return SQL[model]


def _lookups(db: Database, model: Any) -> list[Any]:
    return [q for q in db.queries if q.sql == _sql(model)]


def test_lookups_from_several_threads_are_all_recorded_and_timed(tmp_path):
    db = _open(str(tmp_path / "l.db"))
    db.reset_stats()
    threads, per_thread = 4, FOLD_EVERY * 2 + 17  # every thread crosses folds
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(k: int) -> None:
        try:
            start.wait(timeout=60)
            for i in range(per_thread):
                assert Lantern.find_by_id((i + k) % LANTERNS + 1).name == f"lantern {(i + k) % LANTERNS}"
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns inside the recording as often as possible
    try:
        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    total = threads * per_thread
    records = _lookups(db, Lantern)
    assert len(records) == total
    expected = Counter((i + k) % LANTERNS + 1 for k in range(threads) for i in range(per_thread))
    assert Counter(q.params[0] for q in records) == expected
    assert {q.params for q in records} == {(i,) for i in range(1, LANTERNS + 1)}
    assert {(q.rows, q.compile_ns, q.cache_hit) for q in records} == {(1, 0, True)}
    assert {q.shape for q in records} == {Lantern.query().where(Lantern.c.id == 1).key}
    (stats,) = [s for s in db.stats() if s.sql == _sql(Lantern)]
    assert (stats.count, stats.rows, stats.cache_hits, stats.cache_misses) == (total, total, total, 0)
    times = [q.execute_ns for q in records]
    assert stats.total_ms == sum(times) / 1e6
    assert stats.max_ms == max(times) / 1e6
    db.close()


def test_interleaved_lookups_and_queries_keep_their_order_and_totals(tmp_path):
    db = _open(str(tmp_path / "l.db"))
    db.reset_stats()
    ran: list[tuple[str, Any]] = []
    for i in range(FOLD_EVERY * 3 + 5):
        if i % 7 == 3:
            db.execute("SELECT ?", (i,))
            ran.append(("SELECT ?", (i,)))
        elif i % 5 == 1:
            Wick.find_by_id(i % 5 + 1)
            ran.append((_sql(Wick), (i % 5 + 1,)))
        else:
            Lantern.find_by_id(i % LANTERNS + 1)
            ran.append((_sql(Lantern), (i % LANTERNS + 1,)))
    assert [(q.sql, q.params) for q in db.queries] == ran
    by_sql = {s.sql: s for s in db.stats()}
    for sql in {sql for sql, _ in ran}:
        runs = [q for q in db.queries if q.sql == sql]
        assert by_sql[sql].count == len(runs) == sum(1 for s, _ in ran if s == sql)
        assert by_sql[sql].total_ms == sum(q.execute_ns for q in runs) / 1e6
        assert by_sql[sql].max_ms == max(q.execute_ns for q in runs) / 1e6
    db.close()


def test_a_lookup_finding_no_row_or_two_is_recorded_with_its_row_count(tmp_path):
    db = _open(str(tmp_path / "l.db"))
    db.reset_stats()
    assert Lantern.find_by_id(1).name == "lantern 0"
    assert Lantern.find_by_id(LANTERNS + 1) is None
    assert Lantern.find_by_id(2).name == "lantern 1"
    assert Twin.find_by_id(1).name == "first"  # the first of the rows found
    assert Twin.find_by_id(2) is None
    assert [(q.sql, q.params, q.rows) for q in db.queries] == [
        (_sql(Lantern), (1,), 1), (_sql(Lantern), (LANTERNS + 1,), 0), (_sql(Lantern), (2,), 1),
        (_sql(Twin), (1,), 2), (_sql(Twin), (2,), 0)]
    by_sql = {s.sql: s for s in db.stats()}
    assert (by_sql[_sql(Lantern)].count, by_sql[_sql(Lantern)].rows) == (3, 2)
    assert (by_sql[_sql(Twin)].count, by_sql[_sql(Twin)].rows) == (2, 2)
    db.close()


def test_lookups_reach_slow_queries_observers_and_the_logger_once_turned_on(tmp_path, caplog):
    db = _open(str(tmp_path / "l.db"))
    for i in range(FOLD_EVERY):  # the finder has seen its slowest lookup long before
        Lantern.find_by_id(i % LANTERNS + 1)
    with db.track_queries() as t:
        Lantern.find_by_id(3)
        Lantern.find_by_id(4)
    assert [q.params for q in t.queries] == [(3,), (4,)]
    db.log.slow_query_ms = 0  # every statement is slow now
    Lantern.find_by_id(5)
    assert [(s.sql, s.params, s.rows) for s in db.slow_queries()] == [(_sql(Lantern), (5,), 1)]
    db.log.slow_query_ms = None
    with caplog.at_level(logging.DEBUG, logger=sql_logger.name):
        Lantern.find_by_id(6)
        Lantern.find_by_id(7)
    logged = [r.getMessage() for r in caplog.records if r.name == sql_logger.name]
    assert len(logged) == 2
    assert all(_sql(Lantern) in line for line in logged)
    assert "params: (6,)" in logged[0] and "params: (7,)" in logged[1]
    db.close()


def test_after_reset_or_clear_lookups_count_from_zero(tmp_path):
    db = _open(str(tmp_path / "l.db"))
    for i in range(FOLD_EVERY + 3):
        Lantern.find_by_id(i % LANTERNS + 1)
    db.reset_stats()
    assert db.stats() == [] and db.queries == []
    for i in range(5):
        Lantern.find_by_id(i + 1)
    (stats,) = db.stats()
    records = db.queries
    assert (stats.count, [q.params for q in records]) == (5, [(1,), (2,), (3,), (4,), (5,)])
    assert stats.max_ms == max(q.execute_ns for q in records) / 1e6
    db.log.clear()
    Lantern.find_by_id(9)
    assert [q.params for q in db.queries] == [(9,)]
    assert db.stats()[0].count == 6  # clearing the records keeps the statistics
    db.close()


def test_the_record_limit_keeps_the_latest_lookups(tmp_path):
    db = _open(str(tmp_path / "l.db"), record_limit=50)
    db.reset_stats()
    runs = FOLD_EVERY * 2 + 9
    for i in range(runs):
        Lantern.find_by_id(i % LANTERNS + 1)
    assert [q.params for q in db.queries] == [(i % LANTERNS + 1,) for i in range(runs - 50, runs)]
    assert db.stats()[0].count == runs
    db.close()



def test_no_record_limit_keeps_every_record_and_a_negative_one_is_refused(tmp_path):
    db = _open(str(tmp_path / "l.db"), record_limit=None)
    db.reset_stats()
    runs = 10_000 + FOLD_EVERY + 3  # more than the default limit keeps
    for i in range(runs):
        Lantern.find_by_id(i % LANTERNS + 1)
    records = db.queries
    assert len(records) == runs
    assert [q.params for q in records[-3:]] == [((runs - k) % LANTERNS + 1,) for k in (3, 2, 1)]
    db.close()
    with pytest.raises(ConfigurationError, match="record_limit must be a non-negative integer or None, not -1"):
        Database(str(tmp_path / "m.db"), record_limit=-1)
