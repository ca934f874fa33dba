"""PG W03 async: `await User.find_by_id(i)` one after another on PostgreSQL, against psycopg's
AsyncConnection running the same hand-written lookup (both on an event loop, no gather)."""

import pytest

from bench.common import user_key
from bench.harness import batched, run

GROUP = "PG W03 async pk lookup"
# (adapter key, library label in the report): the async floor is labelled raw_psycopg.
ASYNC_LIBRARIES = (("raw_psycopg_async", "raw_psycopg"), ("activeq_async", "activeq"))


@pytest.mark.parametrize(("lib", "label"), ASYNC_LIBRARIES, ids=[a[1] for a in ASYNC_LIBRARIES])
def test_pg_async_pk_lookup(benchmark, env, pg, lib, label):
    adapter = pg.adapter(lib)
    sizes = env.sizes
    result, (ids,) = run(
        benchmark,
        env,
        lib,
        label=label,
        group=GROUP,
        feature="AsyncDatabase on PostgreSQL",
        target=adapter.get_users,
        args=batched(env.data.lookup_ids, sizes.batch),
        rounds=sizes.batches(sizes.lookups),
        ops_per_round=sizes.batch,
    )
    assert [user_key(u) for u in result] == [env.data.user(i) for i in ids]
