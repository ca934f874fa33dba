"""PG W09: walk every order in primary-key order, in keyset chunks, on PostgreSQL."""

import pytest

from bench.harness import ROUNDS_HEAVY, run
from bench.pg_env import PG_LIBRARIES

GROUP = "PG W09 keyset chunks"


@pytest.mark.parametrize("lib", PG_LIBRARIES)
def test_pg_w09_keyset_chunks(benchmark, env, pg, lib):
    adapter = pg.adapter(lib)
    size = env.sizes.chunk
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().chunks(size) on PostgreSQL",
        target=adapter.keyset,
        args=lambda i: (size,),
        rounds=ROUNDS_HEAVY,
    )
    assert result == env.data.chunks(size)
