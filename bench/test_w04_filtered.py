"""W04: `status = ? AND age > ? ORDER BY id LIMIT 20` returning objects, batched per round."""

import pytest

from bench.common import user_key
from bench.harness import batched, run
from bench.libs import LIBRARIES

GROUP = "W04 filtered query"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w04_filtered(benchmark, env, lib):
    adapter = env.adapter(lib)
    sizes = env.sizes
    result, (params,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().where().order_by().limit().all()",
        target=adapter.filtered,
        args=batched(env.data.filter_params, sizes.batch),
        # Three passes over the parameters: one noisy burst moves a median of 15 rounds less.
        rounds=3 * sizes.batches(sizes.filtered),
        ops_per_round=sizes.batch,
    )
    got = [[user_key(u) for u in rows] for rows in result]
    assert got == [env.data.filtered(s, n) for s, n in params]
