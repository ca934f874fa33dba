"""W06: the orders of the first N users, eager-loaded, and the naive one-query-per-user loop."""

import pytest

from bench.common import eager_key
from bench.harness import ROUNDS_HEAVY, ROUNDS_MEDIUM, run
from bench.libs import LIBRARIES

GROUP_EAGER = "W06 eager load"
GROUP_NAIVE = "W06 N+1 loop"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w06_eager_load(benchmark, env, lib):
    adapter = env.adapter(lib)
    n = env.sizes.eager_users
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_EAGER,
        feature="query().includes('orders')",
        target=adapter.eager,
        args=lambda i: (n,),
        rounds=ROUNDS_MEDIUM,
    )
    assert sorted(eager_key(result)) == env.data.eager(n)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w06_n_plus_one(benchmark, env, lib):
    adapter = env.adapter(lib)
    n = env.sizes.eager_users
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_NAIVE,
        feature="query() per user",
        target=adapter.n_plus_one,
        args=lambda i: (n,),
        rounds=ROUNDS_HEAVY,
    )
    assert sorted(eager_key(result)) == env.data.eager(n)
