"""PG W04: `status = %s AND age > %s ORDER BY id LIMIT 20` on PostgreSQL, batched per round."""

import pytest

from bench.common import user_key
from bench.harness import batched, run
from bench.pg_env import PG_LIBRARIES

GROUP = "PG W04 filtered query"


@pytest.mark.parametrize("lib", PG_LIBRARIES)
def test_pg_w04_filtered(benchmark, env, pg, lib):
    adapter = pg.adapter(lib)
    sizes = env.sizes
    result, (params,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().where().order_by().limit().all() on PostgreSQL",
        target=adapter.filtered,
        args=batched(env.data.filter_params, sizes.batch),
        rounds=3 * sizes.batches(sizes.filtered),
        ops_per_round=sizes.batch,
    )
    got = [[user_key(u) for u in rows] for rows in result]
    assert got == [env.data.filtered(s, n) for s, n in params]
