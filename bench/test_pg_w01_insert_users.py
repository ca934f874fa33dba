"""PG W01: insert every user row in one call on PostgreSQL (activeq's `insert_many` against
psycopg's executemany, SQLAlchemy's insertmanyvalues and Peewee's multi-row inserts)."""

import pytest

from bench.harness import ROUNDS_HEAVY, run
from bench.pg_env import PG_LIBRARIES, WRITE_DB

GROUP = "PG W01 insert users"


@pytest.mark.parametrize("lib", PG_LIBRARIES)
def test_pg_w01_insert_users(benchmark, env, pg, lib):
    adapter = pg.adapter(lib, "w1")
    rows = env.data.user_dicts
    run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="Model.insert_many on PostgreSQL",
        target=adapter.insert_users,
        args=lambda i: ([dict(r) for r in rows],),
        probe_args=([dict(r) for r in rows[:10]],),
        reset=pg.reset_users,
        rounds=ROUNDS_HEAVY,
    )
    assert pg.written_users() == env.data.users
    # No commit-announcing trigger slows one library's inserts down (no cache is enabled).
    assert pg.triggers(WRITE_DB) == []
