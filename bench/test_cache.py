"""Caches: a result-cache hit and a cached find_by_id, beside raw APSW in the same run.

Claims measured here (ratios of medians, reported in ``extra_info`` and printed):
- a cache hit on the filtered query (status = ? AND age > ? ORDER BY id LIMIT 20) costs at
  most 25% of running it uncached through activeq;
- a cached ``find_by_id`` costs at most 1.0x a raw APSW primary-key lookup.

Every round runs a batch of operations; the per-operation time is the median / batch.
"""

from __future__ import annotations

from itertools import starmap

import pytest

from bench.common import LIMIT, USER_COLS, UserRow, user_key
from bench.harness import Medians, UsersFile

FILTERED = f"SELECT {USER_COLS} FROM users WHERE status = ? AND age > ? ORDER BY id LIMIT {LIMIT}"
USER_BY_ID = f"SELECT {USER_COLS} FROM users WHERE id = ?"

FILTER_GROUP = "cache: filtered query hit"
FIND_GROUP = "cache: find_by_id"

_medians = Medians()


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    s = UsersFile(request, tmp_path_factory, "CachedUser")
    yield s
    s.close()


# filtered query ---------------------------------------------------------------------------
FILTER_VARIANTS = ("raw apsw", "activeq uncached", "activeq cache hit")


@pytest.mark.parametrize("variant", FILTER_VARIANTS)
def test_cache_filtered(benchmark, setup, variant):
    sizes = setup.sizes
    User = setup.User
    c = User.c
    # The core benchmark's (W04) parameters; after the warm-up call every cached run is a hit.
    params = setup.data.filter_params[: sizes.batch]

    def raw(params):
        ex = setup.cur.execute
        return [list(starmap(UserRow, ex(FILTERED, p))) for p in params]

    def uncached(params):
        return [User.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT).all()
                for s, n in params]

    def cached(params):
        return [User.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT)
                .cache(ttl=300).all() for s, n in params]

    target = {"raw apsw": raw, "activeq uncached": uncached, "activeq cache hit": cached}[variant]
    result = _medians.time(benchmark, FILTER_GROUP, variant, target, (params,), sizes.batch,
                   sizes.batches(sizes.cache_hits))
    assert [[user_key(u) for u in rows] for rows in result] == [
        setup.data.filtered(s, n) for s, n in params]
    if variant == "activeq cache hit":
        stats = setup.db.cache_stats()
        assert stats.hits > 0 and stats.misses == len(set(params))
        _medians.ratio(benchmark, FILTER_GROUP, variant, "activeq uncached", "hit_vs_uncached")
        _medians.ratio(benchmark, FILTER_GROUP, variant, "raw apsw", "hit_vs_raw")


# find_by_id -------------------------------------------------------------------------------
FIND_VARIANTS = ("raw apsw", "activeq uncached", "activeq cached")


@pytest.mark.parametrize("variant", FIND_VARIANTS)
def test_cache_find_by_id(benchmark, setup, variant):
    sizes = setup.sizes
    User = setup.User
    ids = setup.data.lookup_ids[: sizes.batch]
    if variant == "activeq cached":
        setup.db.enable_cache(User)
    else:
        setup.db.disable_cache(User)

    def raw(ids):
        ex = setup.cur.execute
        return [UserRow(*ex(USER_BY_ID, (i,)).fetchone()) for i in ids]

    def find(ids):
        f = User.find_by_id
        return [f(i) for i in ids]

    target = raw if variant == "raw apsw" else find
    result = _medians.time(benchmark, FIND_GROUP, variant, target, (ids,), sizes.batch,
                   sizes.batches(sizes.lookups))
    assert [user_key(u) for u in result] == [setup.data.user(i) for i in ids]
    if variant == "activeq cached":
        _medians.ratio(benchmark, FIND_GROUP, variant, "raw apsw", "cached_vs_raw")
        _medians.ratio(benchmark, FIND_GROUP, variant, "activeq uncached", "cached_vs_uncached")
        setup.db.disable_cache(User)
