"""W07: one UPDATE ... WHERE and one DELETE ... WHERE through each library's bulk API."""

import pytest

from bench.common import DELETE_STATUS, UPDATE_FROM, UPDATE_TO
from bench.harness import ROUNDS_MEDIUM, run
from bench.libs import LIBRARIES

GROUP_UPDATE = "W07 bulk update"
GROUP_DELETE = "W07 bulk delete"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w07_bulk_update(benchmark, env, lib):
    adapter = env.adapter(lib, "w7")
    env.reset(adapter, "delete")
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_UPDATE,
        feature="query().where().update()",
        target=adapter.bulk_update,
        args=lambda i: (UPDATE_FROM, UPDATE_TO),
        reset=lambda: env.reset(adapter, "update"),
        rounds=ROUNDS_MEDIUM,
    )
    expected = env.data.update_count()
    assert result == expected
    assert (
        env.scalar(adapter, "SELECT count(*) FROM users WHERE status = ?", (UPDATE_TO,)) == expected
    )
    assert env.scalar(adapter, "SELECT count(*) FROM users WHERE status = ?", (UPDATE_FROM,)) == 0


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w07_bulk_delete(benchmark, env, lib):
    adapter = env.adapter(lib, "w7")
    env.reset(adapter, "update")
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_DELETE,
        feature="query().where().delete()",
        target=adapter.bulk_delete_orders,
        args=lambda i: (DELETE_STATUS,),
        reset=lambda: env.reset(adapter, "delete"),
        rounds=ROUNDS_MEDIUM,
    )
    expected = env.data.delete_count()
    assert result == expected
    assert env.scalar(adapter, "SELECT count(*) FROM orders") == env.sizes.orders - expected
