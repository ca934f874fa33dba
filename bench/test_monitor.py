"""Cost of timing records and per-shape statistics: activeq with them on (the default) and
off, beside raw APSW, on a primary-key lookup and a filtered query.

Each round runs a batch of operations; per-operation time is the round time / batch. The
on/off ratio is stored in ``extra_info`` of the 'stats on' and 'sqlite counters' rows and
printed at the end of the group (run with ``-s`` to see it).
"""

from __future__ import annotations

import random
import statistics
import time
from functools import cache

import apsw
import pytest

from bench.harness import scale_option
from bench.libs.activeq_lib import user_model

GROUP_FIND = "monitor: find_by_id"
GROUP_FILTER = "monitor: filtered query"
VARIANTS = ("raw apsw", "activeq stats off", "activeq stats on", "activeq sqlite counters")
STATUSES = ("active", "inactive", "pending", "banned")
BATCH = 200

_medians: dict[tuple[str, str], tuple[float, float]] = {}


@cache
def _models():
    return user_model("MonUser", created_at=False)



@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    scale = scale_option(request)
    users = max(200, int(20_000 * scale))
    path = str(tmp_path_factory.mktemp("monitor") / "monitor.db")
    conn = apsw.Connection(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, "
                 "status TEXT, age INTEGER)")
    conn.execute("CREATE INDEX idx_users_status ON users(status)")
    rng = random.Random(5)
    with conn:
        conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                         [(i, f"user {i}", f"u{i}@example.org", rng.choice(STATUSES),
                           rng.randrange(18, 90)) for i in range(1, users + 1)])
    conn.execute("ANALYZE")
    conn.close()
    rounds = max(5, int(60 * min(scale, 1.0)))
    ids = [rng.randrange(1, users + 1) for _ in range(BATCH)]
    filters = [(rng.choice(STATUSES), rng.randrange(18, 80)) for _ in range(BATCH // 4)]
    oracle = apsw.Connection(path)
    expected = [[r[0] for r in oracle.execute(
        "SELECT id FROM users WHERE status = ? AND age > ? ORDER BY id LIMIT 20", f)]
        for f in filters]
    oracle.close()
    return {"path": path, "rounds": rounds, "ids": ids, "filters": filters, "expected": expected}


def _database(path: str, variant: str):
    from activeq import Database

    if variant == "activeq stats off":
        return Database(path, stats=False)
    if variant == "activeq sqlite counters":
        return Database(path, sqlite_counters=True)
    return Database(path)


def _run(benchmark, group: str, variant: str, target, rounds: int, ops: int):
    benchmark.group = group
    benchmark.extra_info.update(variant=variant, ops_per_round=ops)
    target()  # warm compile and statement caches alike
    result = benchmark.pedantic(target, rounds=rounds, iterations=1, warmup_rounds=2)
    if benchmark.stats is None:  # --benchmark-disable: run once, nothing to compare
        return result
    stats = benchmark.stats.stats
    _medians[(group, variant)] = (stats.median, stats.min)
    benchmark.extra_info["per_op_us"] = round(stats.median / ops * 1e6, 3)
    off = _medians.get((group, "activeq stats off"))
    raw = _medians.get((group, "raw apsw"))
    if off and variant in ("activeq stats on", "activeq sqlite counters"):
        ratio, ratio_min = stats.median / off[0], stats.min / off[1]
        benchmark.extra_info["ratio_vs_stats_off"] = round(ratio, 4)
        benchmark.extra_info["ratio_vs_stats_off_min"] = round(ratio_min, 4)
        print(f"\n{group}: {variant} / stats off = {ratio:.3f} (median), {ratio_min:.3f} (min)")
    if raw and variant != "raw apsw":
        benchmark.extra_info["ratio_vs_raw_apsw"] = round(stats.median / raw[0], 3)
    return result


@pytest.mark.parametrize("variant", VARIANTS)
def test_monitor_find_by_id(benchmark, setup, variant):
    ids = setup["ids"]
    if variant == "raw apsw":
        conn = apsw.Connection(setup["path"])
        cur = conn.cursor()
        sql = "SELECT id, name, email, status, age FROM users WHERE id = ?"

        def target():
            return [cur.execute(sql, (i,)).fetchall()[0] for i in ids]
    else:
        db = _database(setup["path"], variant)
        user = _models()
        db.bind(user)

        def target():
            return [user.find_by_id(i) for i in ids]

    result = _run(benchmark, GROUP_FIND, variant, target, setup["rounds"], len(ids))
    assert [r[0] if isinstance(r, tuple) else r.id for r in result] == ids


@pytest.mark.parametrize("variant", VARIANTS)
def test_monitor_filtered(benchmark, setup, variant):
    filters = setup["filters"]
    if variant == "raw apsw":
        conn = apsw.Connection(setup["path"])
        cur = conn.cursor()
        sql = ("SELECT id, name, email, status, age FROM users WHERE status = ? AND age > ? "
               "ORDER BY id LIMIT 20")

        def target():
            return [[r[0] for r in cur.execute(sql, f).fetchall()] for f in filters]
    else:
        db = _database(setup["path"], variant)
        user = _models()
        db.bind(user)
        c = user.c

        def target():
            return [[u.id for u in user.query().where((c.status == s) & (c.age > a))
                     .order_by(c.id).limit(20).all()] for s, a in filters]

    result = _run(benchmark, GROUP_FILTER, variant, target, setup["rounds"], len(filters))
    assert result == setup["expected"]


def _paired_ratio(off, on, pairs: int) -> tuple[float, float]:
    """Median and mean of on/off time ratios, measured in alternating back-to-back pairs so
    that drift in machine load hits both sides alike."""
    ratios = []
    for i in range(pairs):
        first, second = (off, on) if i % 2 == 0 else (on, off)
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        t_off, t_on = (t1 - t0, t2 - t1) if first is off else (t2 - t1, t1 - t0)
        ratios.append(t_on / t_off)
    return statistics.median(ratios), statistics.fmean(ratios)


def _targets(setup, kind: str, variant: str):
    db = _database(setup["path"], variant)
    user = _models()
    c = user.c
    if kind == "find_by_id":
        def target():
            db.bind(user)
            return [user.find_by_id(i) for i in setup["ids"]]
    else:
        def target():
            db.bind(user)
            return [user.query().where((c.status == s) & (c.age > a)).order_by(c.id).limit(20).all()
                    for s, a in setup["filters"]]
    return target


@pytest.mark.parametrize("kind", ["find_by_id", "filtered"])
def test_monitor_overhead_paired(benchmark, setup, kind):
    """Stats on vs off, alternating batch by batch; the benchmark row times the 'on' side."""
    off = _targets(setup, kind, "activeq stats off")
    on = _targets(setup, kind, "activeq stats on")
    off(), on()
    pairs = max(11, setup["rounds"] * 3) | 1
    median, mean = _paired_ratio(off, on, pairs)
    benchmark.group = f"monitor: paired stats on/off ({kind})"
    benchmark.extra_info.update(paired_ratio_median=round(median, 4),
                                paired_ratio_mean=round(mean, 4), pairs=pairs)
    print(f"\nmonitor paired {kind}: stats on / off = {median:.3f} (median of {pairs} pairs), "
          f"{mean:.3f} (mean)")
    result = benchmark.pedantic(on, rounds=setup["rounds"], iterations=1)
    assert len(result) == len(setup["ids"] if kind == "find_by_id" else setup["filters"])
