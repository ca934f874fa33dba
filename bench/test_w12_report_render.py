"""W12: build a reporting query (three CTEs, a window, five joins) and render it to SQL text
plus parameters from a cached shape, without executing it.

The raw APSW row is the constant hand-written string, the floor of "no builder at all";
SQLAlchemy Core builds and compiles the same query. Each rendered statement then runs once
through plain APSW and must return the rows the hand-written SQL returns.
"""

import pytest

from bench.harness import batched, run
from bench.libs.raw_apsw import REPORT

GROUP = "W12 report build + render"
RENDER_LIBRARIES = ("raw_apsw", "sqlalchemy_core", "activeq")
# Report queries per timed round: each is some 5-10 times the work of a W08 query.
PER_ROUND = 100


def rows_of(env, sql, params) -> list[tuple]:
    return env.oracle.cursor().execute(sql, tuple(params)).fetchall()


@pytest.mark.parametrize("lib", RENDER_LIBRARIES)
def test_w12_report_build_render(benchmark, env, lib):
    adapter = env.adapter(lib)
    params = env.data.report_params
    per_round = min(PER_ROUND, len(params))
    result, (batch,) = run(
        benchmark,
        env,
        lib,
        group=GROUP,
        feature="CTEs, window, joins: query().to_sql()",
        target=adapter.render_report,
        args=batched(params, per_round),
        rounds=max(1, len(params) // per_round),
        ops_per_round=per_round,
    )
    assert len(result) == len(batch)
    for (sql, values), p in zip(result, batch):
        assert isinstance(sql, str)
        expected = rows_of(env, REPORT, p)
        assert rows_of(env, sql, values) == expected, sql
