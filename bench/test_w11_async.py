"""W11: independent reads (a user by id and that user's orders) issued with asyncio.gather.

raw_apsw runs the same reads one after another without an event loop (the floor);
raw_apsw_aio uses APSW's own async connection.
"""

import apsw
import pytest

from bench.common import order_key, user_key
from bench.harness import ROUNDS_MEDIUM, run

GROUP = "W11 async gather"
# (adapter key, library label in the report)
ASYNC_LIBRARIES = (
    ("raw_apsw", "raw_apsw"),
    ("raw_apsw_aio", "raw_apsw_aio"),
    ("activeq_async", "activeq"),
)
# APSW's async connection came with apsw 3.51.3; activeq supports older releases.
if not hasattr(apsw.Connection, "as_async"):
    ASYNC_LIBRARIES = tuple(lib for lib in ASYNC_LIBRARIES if lib[0] != "raw_apsw_aio")


@pytest.mark.parametrize(("lib", "label"), ASYNC_LIBRARIES, ids=[a[1] for a in ASYNC_LIBRARIES])
def test_w11_async_gather(benchmark, env, lib, label):
    adapter = env.adapter(lib)
    ids = env.data.async_ids
    result, _ = run(
        benchmark,
        env,
        lib,
        label=label,
        group=GROUP,
        feature="AsyncDatabase / AsyncActiveRecord",
        target=adapter.gather_reads,
        args=lambda i: (ids,),
        rounds=ROUNDS_MEDIUM * 2,
        ops_per_round=2 * len(ids),
    )
    users, orders = result[: len(ids)], result[len(ids) :]
    assert [user_key(u) for u in users] == [env.data.user(i) for i in ids]
    assert [sorted(order_key(o) for o in rows) for rows in orders] == [
        env.data.orders_of(i) for i in ids
    ]
