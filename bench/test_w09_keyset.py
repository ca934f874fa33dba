"""W09: walk every order in primary-key order, in keyset chunks."""

import pytest

from bench.harness import ROUNDS_HEAVY, run
from bench.libs import LIBRARIES

GROUP = "W09 keyset chunks"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w09_keyset_chunks(benchmark, env, lib):
    adapter = env.adapter(lib)
    size = env.sizes.chunk
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().chunks(size)",
        target=adapter.keyset,
        args=lambda i: (size,),
        rounds=ROUNDS_HEAVY,
    )
    assert result == env.data.chunks(size)
