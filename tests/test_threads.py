"""One Database shared by threads, and files shared by processes: nothing lost, nothing raw.

Real threads and processes on real files. No assertion depends on how fast the machine is:
waits have generous timeouts that only end a test which would otherwise hang.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from typing import Any

import apsw
import pytest

from activeq import ActiveRecord, Database, Field
from activeq.errors import ActiveqError, BusyError

THREADS = 4


class Tally(ActiveRecord):
    __table_name__ = "tally"
    id: int = Field(primary_key=True)
    n: int = 0


def _tally_db(path: str, **options: Any) -> Database:
    db = Database(path, **options)
    db.bind(Tally)
    db.create_tables(Tally)
    return db


# increments from four threads -------------------------------------------------------------
CONFIGS = {
    "own connections": {},
    "own connections, query cache": {"query_cache": True},
    "own connections, model cache": {"model_cache": True},
    "pool": {"pool_size": 3},
    "pool, query cache": {"pool_size": 3, "query_cache": True},
    "pool, model cache": {"pool_size": 3, "model_cache": True},
}


@pytest.mark.parametrize("options", CONFIGS.values(), ids=CONFIGS.keys())
def test_four_threads_lose_no_increment(tmp_path: Any, options: dict[str, Any]) -> None:
    """Two threads run read-modify-write transactions (every third rolled back on purpose),
    two run autocommit increments meanwhile; the file ends with every committed increment."""
    db = _tally_db(str(tmp_path / "tally.db"), **options)
    Tally.create(n=0)
    committed = [0] * THREADS
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    pause = threading.Event()  # never set: wait() just yields the processor for a while

    def transactions(i: int) -> None:
        for k in range(25):
            try:
                with db.transaction():
                    row = Tally.find_by_id(1)
                    row.n = row.n + 1
                    row.save()
                    pause.wait(0.002)  # the other threads try their writes meanwhile
                    if k % 3 == 0:
                        raise LookupError("rolled back on purpose")
                committed[i] += 1
            except LookupError:
                pass

    def increments(i: int) -> None:
        for _ in range(60):
            Tally.query().where(Tally.c.id == 1).update({"n": Tally.c.n + 1})
            committed[i] += 1
            pause.wait(0.0005)

    def work(i: int) -> None:
        start.wait()
        try:
            (transactions if i % 2 else increments)(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = sum(committed)
    assert total == 2 * 60 + 2 * 16
    assert db.execute("SELECT n FROM tally WHERE id = 1").fetchall() == [(total,)]
    # What the caches serve afterwards is the committed count too.
    assert Tally.find_by_id(1).n == total
    assert Tally.query().where(Tally.c.id == 1).cache().one().n == total
    db.close()


# a transaction belongs to its thread ------------------------------------------------------
@pytest.mark.parametrize("where", ["file", "memory"])
def test_autocommit_write_waits_for_another_threads_transaction(tmp_path: Any, where: str) -> None:
    db = Database(":memory:" if where == "memory" else str(tmp_path / "own.db"))
    db.execute("CREATE TABLE t (who TEXT)")
    trying = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            trying.set()
            db.execute("INSERT INTO t VALUES ('b')")
            done.set()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    thread = threading.Thread(target=other_thread)
    with pytest.raises(LookupError), db.transaction():
        db.execute("INSERT INTO t VALUES ('a')")
        thread.start()
        assert trying.wait(10)
        # A write that landed in this transaction would be done by now and rolled back below.
        finished_inside = done.wait(0.3)
        raise LookupError("roll back this thread's transaction")
    thread.join(10)
    assert errors == []
    assert not finished_inside
    assert db.execute("SELECT who FROM t").fetchall() == [("b",)]
    db.close()


def test_in_memory_read_waits_for_another_threads_transaction() -> None:
    db = Database(":memory:")
    db.execute("CREATE TABLE t (x)")
    reading = threading.Event()
    seen: list[Any] = []

    def other_thread() -> None:
        reading.set()
        seen.append(db.execute("SELECT count(*) FROM t").fetchall())

    thread = threading.Thread(target=other_thread)
    with pytest.raises(LookupError), db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        thread.start()
        assert reading.wait(10)
        thread.join(0.3)  # a read sharing the open transaction would be done by now
        finished_inside = bool(seen)
        raise LookupError("roll back")
    thread.join(10)
    assert not finished_inside
    assert seen == [[(0,)]]  # never the rolled-back row
    db.close()


def test_other_threads_read_the_last_commit_while_a_transaction_is_open(tmp_path: Any) -> None:
    db = _tally_db(str(tmp_path / "read.db"))
    Tally.create(n=1)
    seen: list[Any] = []
    with db.transaction():
        Tally.query().where(Tally.c.id == 1).update({"n": 2})
        assert Tally.find_by_id(1).n == 2 and db.in_transaction
        thread = threading.Thread(
            target=lambda: seen.extend([db.in_transaction, Tally.find_by_id(1).n]))
        thread.start()
        thread.join(10)
    assert seen == [False, 1]
    assert Tally.find_by_id(1).n == 2
    db.close()


def test_waiting_for_another_threads_transaction_keeps_to_the_busy_timeout(tmp_path: Any) -> None:
    db = Database(str(tmp_path / "wait.db"), busy_timeout_ms=50)
    db.execute("CREATE TABLE t (x)")
    failures: list[BaseException] = []

    def other_thread() -> None:
        try:
            db.execute("INSERT INTO t VALUES (2)")
        except BaseException as e:  # noqa: BLE001 - inspected below
            failures.append(e)

    with db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)  # the transaction stays open until the other thread gave up
    assert len(failures) == 1
    assert type(failures[0]) is BusyError
    assert "another thread of this process held its write lock" in str(failures[0])
    assert "busy_timeout_ms is 50" in str(failures[0])
    assert db.execute("SELECT x FROM t").fetchall() == [(1,)]
    db.close()


def test_each_thread_has_its_own_connection_on_a_file(tmp_path: Any) -> None:
    db = Database(str(tmp_path / "conns.db"))
    mine = db.connection
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(db.connection))
    thread.start()
    thread.join(10)
    assert theirs[0] is not mine
    # The other thread's connection got the same settings.
    assert db.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
    db.close()
    with pytest.raises(ActiveqError, match="the database is closed"):
        db.connection.execute("SELECT 1")


def test_statistics_lose_no_compile_cache_miss_counted_by_four_threads(tmp_path: Any) -> None:
    # Raw SQL misses the compile cache on every run. The interpreter switches threads as
    # often as it can, so two threads counting a miss at once, or one counting while another
    # folds the counts, happens somewhere in these runs.
    db = Database(str(tmp_path / "misses.db"))
    db.reset_stats()
    per_thread = 8000
    errors: list[BaseException] = []
    interval = sys.getswitchinterval()

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                db.execute("SELECT ?", (n * per_thread + i,))
        except BaseException as e:  # reported below
            errors.append(e)

    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    (stats,) = db.stats()
    runs = THREADS * per_thread
    assert (stats.sql, stats.count, stats.cache_misses, stats.cache_hits) == ("SELECT ?", runs, runs, 0)
    db.close()


# cached reads under a writer thread -------------------------------------------------------
@pytest.mark.parametrize("pool_size", [3, None], ids=["pool", "own connections"])
def test_cached_reads_beside_a_writer_thread_never_fail_nor_go_stale(
        tmp_path: Any, pool_size: int | None) -> None:
    db = _tally_db(str(tmp_path / "cached.db"), pool_size=pool_size)
    Tally.create(n=0)
    # Rows that make each write take a while, so reads and writes overlap often.
    Tally.insert_many([{"n": 0} for _ in range(2000)])
    db.enable_cache(Tally)
    committed = 0
    writing = True
    errors: list[BaseException] = []
    stale: list[tuple[int, int]] = []
    reads = [0] * 3

    def reader(i: int) -> None:
        while writing:
            floor = committed  # every write that returned before this read began
            try:
                by_query = Tally.query().where(Tally.c.id == 1).cache().one().n
                by_id = Tally.find_by_id(1).n
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return
            reads[i] += 1
            if by_query < floor or by_id < floor:
                stale.append((floor, min(by_query, by_id)))

    def writer() -> None:
        nonlocal committed, writing
        try:
            for k in range(120):
                if k % 2:
                    Tally.query().update({"n": Tally.c.n + 1}, all_rows=True)
                else:
                    with db.transaction():
                        Tally.query().update({"n": Tally.c.n + 1}, all_rows=True)
                committed += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            writing = False

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stale == []
    assert min(reads) > 0
    assert Tally.find_by_id(1).n == committed == 120
    stats = db.cache_stats()
    assert stats.hits + stats.misses > 0
    db.close()


@pytest.mark.parametrize("pool_size", [3, None], ids=["pool", "own connections"])
def test_cached_reads_while_another_thread_is_inside_its_transaction(
        tmp_path: Any, pool_size: int | None) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold(value: int) -> int:
        inside.set()
        release.wait(30)
        return value

    db = _tally_db(str(tmp_path / "inside.db"), pool_size=pool_size, query_cache=True,
                   on_connect=lambda conn: conn.create_scalar_function("hold", hold))
    Tally.create(n=0)
    db.enable_cache(Tally)
    assert Tally.find_by_id(1).n == 0 and Tally.query().where(Tally.c.id == 1).one().n == 0
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with db.transaction():
                Tally.query().where(Tally.c.id == 1).update({"n": 1})
                # Stays inside SQLite, its connection busy, until the reads below are done.
                db.execute("UPDATE tally SET n = hold(n + 1) WHERE id = 1")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)
        during = [Tally.query().where(Tally.c.id == 1).one().n, Tally.find_by_id(1).n,
                  Tally.query().where(Tally.c.id == 1).cache(enabled=False).one().n]
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert during == [0, 0, 0]  # the last commit, not the open transaction's writes
    assert [Tally.query().where(Tally.c.id == 1).one().n, Tally.find_by_id(1).n] == [2, 2]
    db.close()


# processes opening one new file -----------------------------------------------------------
def _open_new_files(folder: str, files: int, barrier: Any, out: Any) -> None:
    failures = []
    for i in range(files):
        barrier.wait()
        try:
            db = Database(os.path.join(folder, f"new{i}.db"))
            if i % 4 == 0:  # some files are also written by all four
                db.execute("CREATE TABLE IF NOT EXISTS t (x)")
                db.execute("INSERT INTO t VALUES (1)")
            db.close()
        except Exception as e:  # noqa: BLE001 - sent back to the test
            failures.append(f"{i}: {type(e).__name__}: {e}")
    out.put(failures)


def test_four_processes_open_the_same_new_files(tmp_path: Any) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    out = ctx.Queue()
    files = 100  # the failure this guards against hit about one open in sixty
    procs = [ctx.Process(target=_open_new_files, args=(str(tmp_path), files, barrier, out))
             for _ in range(4)]
    for p in procs:
        p.start()
    failures = [f for _ in procs for f in out.get(timeout=300)]
    for p in procs:
        p.join(60)
    assert failures == []
    for i in range(files):
        conn = apsw.Connection(str(tmp_path / f"new{i}.db"))
        assert conn.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
        if i % 4 == 0:
            assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]
        conn.close()
