"""W08: build the W04 query and render it to SQL text plus parameters, without executing.

The raw APSW row is the constant hand-written string: the floor of "no builder at all".
Each rendered statement is then run once through plain APSW to check it means the same.
"""

import pytest

from bench.harness import batched, run

GROUP = "W08 build + render"
RENDER_LIBRARIES = ("raw_apsw", "sqlalchemy_core", "sqlalchemy_orm", "peewee", "activeq")


def ids_from(env, sql, params) -> list[int]:
    cursor = env.oracle.cursor()
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.get_description()]
    pos = names.index("id")
    return [row[pos] for row in cursor]


@pytest.mark.parametrize("lib", RENDER_LIBRARIES)
def test_w08_build_render(benchmark, env, lib):
    adapter = env.adapter(lib)
    sizes = env.sizes
    result, (params,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="query().to_sql()",
        target=adapter.render,
        args=batched(env.data.render_params, sizes.batch),
        rounds=sizes.batches(sizes.renders),
        ops_per_round=sizes.batch,
    )
    assert len(result) == len(params)
    for (sql, values), (s, n) in zip(result, params):
        assert isinstance(sql, str)
        got = ids_from(env, sql, values)
        assert got == [u[0] for u in env.data.filtered(s, n)], sql
