"""W03: primary-key lookups, timed as a batch per round (per-op time = median / batch)."""

import pytest

from bench.common import user_key
from bench.harness import batched, run
from bench.libs import LIBRARIES

GROUP = "W03 pk lookup"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w03_pk_lookup(benchmark, env, lib):
    adapter = env.adapter(lib)
    sizes = env.sizes
    result, (ids,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="Model.find_by_id",
        target=adapter.get_users,
        args=batched(env.data.lookup_ids, sizes.batch),
        rounds=sizes.batches(sizes.lookups),
        ops_per_round=sizes.batch,
    )
    assert [user_key(u) for u in result] == [env.data.user(i) for i in ids]
