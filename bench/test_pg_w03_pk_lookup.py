"""PG W03: primary-key lookups on PostgreSQL, timed as a batch per round."""

import pytest

from bench.common import user_key
from bench.harness import batched, run
from bench.pg_env import PG_LIBRARIES

GROUP = "PG W03 pk lookup"


@pytest.mark.parametrize("lib", PG_LIBRARIES)
def test_pg_w03_pk_lookup(benchmark, env, pg, lib):
    adapter = pg.adapter(lib)
    sizes = env.sizes
    result, (ids,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="Model.find_by_id on PostgreSQL",
        target=adapter.get_users,
        args=batched(env.data.lookup_ids, sizes.batch),
        rounds=sizes.batches(sizes.lookups),
        ops_per_round=sizes.batch,
    )
    assert [user_key(u) for u in result] == [env.data.user(i) for i in ids]
