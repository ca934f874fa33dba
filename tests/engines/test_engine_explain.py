"""explain() as data: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's JSON plan, DuckDB's plan."""

from __future__ import annotations

from activeq.engines import PlanData


def test_a_filter_on_an_unindexed_column_is_a_full_scan(conn, q, nums):
    plan = conn.explain(q("SELECT id FROM nums WHERE v = ?"), ("v7",))
    assert isinstance(plan, PlanData)
    assert plan.full_scans == ("nums",)
    assert plan.indexes == ()
    assert plan.rows and all(isinstance(i, int) and isinstance(p, int) and isinstance(d, str)
                             for i, p, d in plan.rows)
    assert any("nums" in detail for _, _, detail in plan.rows)
    assert plan.native is not None


def test_an_index_the_plan_uses_is_named(conn, q, nums):
    conn.execute("CREATE INDEX nums_k ON nums (k)")
    conn.execute("ANALYZE")
    plan = conn.explain(q("SELECT id, v FROM nums WHERE k = ?"), (5,))
    assert "nums_k" in plan.indexes
    assert plan.full_scans == ()
    assert conn.fetch(q("SELECT id, v FROM nums WHERE k = ?"), (5,)) == [(5, "v5")]


def test_sorts_without_an_index_are_reported(conn, nums):
    plan = conn.explain("SELECT id FROM nums ORDER BY v DESC LIMIT 3")
    assert "ORDER BY" in plan.sorts
    assert plan.full_scans == ("nums",)


def test_explain_of_a_write_does_not_run_it(conn, q, nums):
    plan = conn.explain(q("DELETE FROM nums WHERE v = ?"), ("v1",))
    assert plan.analyzed is False
    assert plan.full_scans == ("nums",)
    assert conn.fetch("SELECT count(*) FROM nums") == [(2000,)]
