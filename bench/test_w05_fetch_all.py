"""W05: fetch every user, as objects and (where the library has one) in a raw tuple mode."""

import pytest

from bench.common import user_key
from bench.harness import ROUNDS_MEDIUM, run
from bench.libs import LIBRARIES

GROUP_OBJECTS = "W05 fetch all (objects)"
GROUP_TUPLES = "W05 fetch all (tuples)"
TUPLE_LIBRARIES = ("raw_apsw", "sqlite3", "sqlalchemy_core", "peewee", "activeq")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_w05_fetch_all_objects(benchmark, env, lib):
    adapter = env.adapter(lib)
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_OBJECTS,
        feature="query().all()",
        target=adapter.all_users,
        args=lambda i: (),
        rounds=ROUNDS_MEDIUM,
    )
    assert sorted(user_key(u) for u in result) == env.data.users


@pytest.mark.parametrize("lib", TUPLE_LIBRARIES)
def test_w05_fetch_all_tuples(benchmark, env, lib):
    adapter = env.adapter(lib)
    result, _ = run(
        benchmark,
        env,
        lib,
        group=GROUP_TUPLES,
        feature="query().tuples()",
        target=adapter.all_users_tuples,
        args=lambda i: (),
        rounds=ROUNDS_MEDIUM,
    )
    assert sorted(tuple(r) for r in result) == env.data.users
