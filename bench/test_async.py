"""Async API: parallel reads under asyncio.gather, and the cost of awaiting a lookup.

Group "async: 8 reads of ~20 ms": eight independent counting queries (a full scan each,
about 20 ms at scale 1) awaited one after another vs under ``asyncio.gather``, beside raw APSW
running the same hand-written SQL sequentially and on eight threads. The gather/sequential
speedup is stored in ``extra_info`` and printed at the end (``-s``); expected >= 1.6x on 2 cores.

Group "async: find_by_id": raw APSW, the synchronous ``find_by_id`` and ``await find_by_id``
(one at a time); the added cost of awaiting, in microseconds per call, is reported the same way.
"""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import apsw
import pytest

from bench.harness import scale_option

GROUP_GATHER = "async: 8 reads of ~20 ms"
GROUP_FIND = "async: find_by_id"
READS = 8
LOOKUPS = 200
SQL_COUNT = "SELECT COUNT(*) FROM bench_orders WHERE total > ? AND status = ?"
SQL_FIND = "SELECT id, user_id, total, status FROM bench_orders WHERE id = ?"
STATUSES = ("new", "paid", "shipped", "cancelled")

_medians: dict[tuple[str, str], float] = {}


@cache
def _models():
    from activeq import ActiveRecord, AsyncActiveRecord, Field

    class BenchOrder(ActiveRecord):
        __table_name__ = "bench_orders"
        id: int = Field(primary_key=True)
        user_id: int
        total: float
        status: str

    class AsyncBenchOrder(AsyncActiveRecord):
        __table_name__ = "bench_orders"
        id: int = Field(primary_key=True)
        user_id: int
        total: float
        status: str

    return BenchOrder, AsyncBenchOrder



@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    from activeq import AsyncDatabase, Database

    scale = scale_option(request)
    rows = max(2_000, int(300_000 * scale))
    path = str(tmp_path_factory.mktemp("async") / "async.db")
    conn = apsw.Connection(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE bench_orders (id INTEGER PRIMARY KEY, user_id INTEGER, "
                 "total DOUBLE, status TEXT)")
    rng = random.Random(7)
    with conn:
        conn.executemany(
            "INSERT INTO bench_orders (user_id, total, status) VALUES (?, ?, ?)",
            ((rng.randrange(1, 5000), round(rng.uniform(1, 500), 2), rng.choice(STATUSES))
             for _ in range(rows)),
        )
    conn.close()
    sync_model, async_model = _models()
    db = Database(path)
    db.bind(sync_model)
    adb = AsyncDatabase(path, pool_size=READS)
    adb.bind(async_model)
    loop = asyncio.new_event_loop()
    filters = [(float(50 * i), STATUSES[i % 4]) for i in range(READS)]
    ids = [rng.randrange(1, rows + 1) for _ in range(LOOKUPS)]
    yield {"path": path, "db": db, "adb": adb, "loop": loop, "filters": filters, "ids": ids,
           "rows": rows, "scale": scale}
    loop.run_until_complete(adb.close())
    loop.close()
    db.close()


def _run(benchmark, group: str, variant: str, target, rounds: int, ops: int):
    benchmark.group = group
    benchmark.extra_info.update(variant=variant, ops_per_round=ops)
    target()  # warm compile and statement caches
    result = benchmark.pedantic(target, rounds=rounds, iterations=1, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        _medians[(group, variant)] = stats.stats.median
    return result


def _report(benchmark, group: str, variant: str, baseline: str, key: str, per_op: int = 0):
    mine = _medians.get((group, variant))
    base = _medians.get((group, baseline))
    if mine is None or base is None:
        return
    if per_op:
        value = (mine - base) / per_op * 1e6
        benchmark.extra_info[key] = round(value, 2)
        print(f"\n{group}: {variant} - {baseline} = {value:.1f} us per call")
    else:
        value = base / mine
        benchmark.extra_info[key] = round(value, 3)
        print(f"\n{group}: {baseline} / {variant} = {value:.2f}x")


GATHER_VARIANTS = ("raw apsw sequential", "raw apsw 8 threads", "activeq sequential awaits",
                   "activeq gather")


@pytest.mark.parametrize("variant", GATHER_VARIANTS)
def test_async_gather_reads(benchmark, setup, variant):
    filters = setup["filters"]
    loop = setup["loop"]
    _, model = _models()
    expected = [_count_raw(setup["path"], f) for f in filters]
    rounds = 3 if setup["scale"] < 0.1 else 10

    def query(lo: float, status: str):
        return model.query().where((model.c.total > lo) & (model.c.status == status)).count()

    if variant == "raw apsw sequential":
        conn = apsw.Connection(setup["path"])

        def target():
            return [conn.execute(SQL_COUNT, f).fetchall()[0][0] for f in filters]
    elif variant == "raw apsw 8 threads":
        conns = [apsw.Connection(setup["path"]) for _ in filters]
        pool = ThreadPoolExecutor(READS)

        def target():
            futures = [pool.submit(lambda c, f: c.execute(SQL_COUNT, f).fetchall()[0][0], c, f)
                       for c, f in zip(conns, filters)]
            return [f.result() for f in futures]
    elif variant == "activeq sequential awaits":
        async def sequential():
            return [await query(*f) for f in filters]

        def target():
            return loop.run_until_complete(sequential())
    else:
        async def gathered():
            return await asyncio.gather(*[query(*f) for f in filters])

        def target():
            return loop.run_until_complete(gathered())

    assert _run(benchmark, GROUP_GATHER, variant, target, rounds, READS) == expected
    if variant == "raw apsw 8 threads":
        pool.shutdown()
        _report(benchmark, GROUP_GATHER, variant, "raw apsw sequential", "speedup_vs_sequential")
    if variant == "activeq gather":
        _report(benchmark, GROUP_GATHER, variant, "activeq sequential awaits",
                "speedup_vs_sequential")
        _report(benchmark, GROUP_GATHER, variant, "raw apsw 8 threads", "raw_threads_over_activeq")
        seq = _medians.get((GROUP_GATHER, "activeq sequential awaits"))
        if seq is not None:
            print(f"one read takes about {seq / READS * 1e3:.1f} ms")


def _count_raw(path: str, f: tuple[float, str]) -> int:
    conn = apsw.Connection(path)
    try:
        return conn.execute(SQL_COUNT, f).fetchall()[0][0]
    finally:
        conn.close()


FIND_VARIANTS = ("raw apsw", "activeq find_by_id", "activeq await find_by_id")


@pytest.mark.parametrize("variant", FIND_VARIANTS)
def test_async_find_by_id(benchmark, setup, variant):
    ids = setup["ids"]
    loop = setup["loop"]
    sync_model, async_model = _models()
    rounds = 5 if setup["scale"] < 0.1 else 30

    if variant == "raw apsw":
        cur = apsw.Connection(setup["path"]).cursor()

        def target():
            return [cur.execute(SQL_FIND, (i,)).fetchall()[0][0] for i in ids]
    elif variant == "activeq find_by_id":
        find = sync_model.find_by_id

        def target():
            return [find(i).id for i in ids]
    else:
        find = async_model.find_by_id

        async def lookups():
            return [(await find(i)).id for i in ids]

        def target():
            return loop.run_until_complete(lookups())

    assert _run(benchmark, GROUP_FIND, variant, target, rounds, LOOKUPS) == ids
    if variant == "activeq find_by_id":
        _report(benchmark, GROUP_FIND, variant, "raw apsw", "raw_over_activeq")
    if variant == "activeq await find_by_id":
        _report(benchmark, GROUP_FIND, variant, "activeq find_by_id", "added_us_per_call",
                per_op=LOOKUPS)
        _report(benchmark, GROUP_FIND, variant, "raw apsw", "raw_over_activeq")
