"""W01: insert every user row in one call (`Model.insert_many` and each peer's bulk path)."""

import pytest

from bench.harness import ROUNDS_HEAVY, run
from bench.libs import LIBRARIES

GROUP = "W01 insert users"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w01_insert_users(benchmark, env, lib):
    adapter = env.adapter(lib, "w1")
    rows = env.data.user_dicts
    run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="Model.insert_many",
        target=adapter.insert_users,
        args=lambda i: ([dict(r) for r in rows],),
        probe_args=([dict(r) for r in rows[:10]],),
        reset=lambda: env.reset(adapter, "users"),
        rounds=ROUNDS_HEAVY,
    )
    assert env.table(adapter, "users") == env.data.users
