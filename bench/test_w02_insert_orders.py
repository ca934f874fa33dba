"""W02: insert every order row (four per user) into a table whose users already exist."""

import pytest

from bench.harness import ROUNDS_HEAVY, run
from bench.libs import LIBRARIES

GROUP = "W02 insert orders"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w02_insert_orders(benchmark, env, lib):
    adapter = env.adapter(lib, "w2")
    rows = env.data.order_dicts
    run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="Model.insert_many",
        target=adapter.insert_orders,
        args=lambda i: ([dict(r) for r in rows],),
        probe_args=([dict(r) for r in rows[:10]],),
        reset=lambda: env.reset(adapter, "orders"),
        rounds=ROUNDS_HEAVY,
    )
    assert env.table(adapter, "orders") == env.data.orders
