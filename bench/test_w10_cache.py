"""W10: the W04 query answered from activeq's result cache, against raw APSW executing it.

The peers have no built-in result cache; raw APSW running the query is the reference.
"""

import pytest

from bench.common import user_key
from bench.harness import run

GROUP = "W10 cached query hit"
CACHE_LIBRARIES = ("raw_apsw", "activeq")


@pytest.mark.parametrize("lib", CACHE_LIBRARIES)
def test_w10_cached_query(benchmark, env, lib):
    adapter = env.adapter(lib)
    sizes = env.sizes
    distinct = env.data.cache_params
    params = [distinct[k % len(distinct)] for k in range(sizes.batch)]
    target = adapter.cached if lib == "activeq" else adapter.filtered
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().cache(ttl=300)",
        target=target,
        args=lambda i: (params,),
        rounds=sizes.batches(sizes.cache_hits),
        ops_per_round=sizes.batch,
    )
    got = [[user_key(u) for u in rows] for rows in result]
    assert got == [env.data.filtered(s, n) for s, n in params]
