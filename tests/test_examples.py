"""Every script in examples/ and every Python block of README.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "example.db")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip(), "the example printed nothing"


def test_quickstart_prints_sql_for_all_four_dialects_and_timings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), str(tmp_path / "q.db")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert "sqlite   SELECT" in out and "postgres SELECT" in out
    assert "mysql    SELECT `users`" in out  # MySQL quotes identifiers with backticks
    assert "duckdb   SELECT" in out
    assert "%s" in out  # postgres placeholders
    assert "per-query timing summary" in out
    assert re.search(r"created \d{4} users and \d{4} orders", out)


def test_readme_python_blocks_run_twice_in_a_row(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no python examples"
    monkeypatch.chdir(tmp_path)
    # A reader runs the examples again in the same folder: whatever the first run left behind
    # (database files) must not make the second fail. The blocks run as one module, so
    # annotations resolve as in a user's module.
    for run in (1, 2):
        module = types.ModuleType("readme")
        monkeypatch.setitem(sys.modules, "readme", module)
        namespace: dict[str, object] = module.__dict__
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
            except Exception as error:
                raise AssertionError(f"run {run}, README block {number}: {error!r}") from error


# Run in a child process: the example's models are named User and Order like the test models.
_ANALYTICS_CHECK = r'''
import json, sys
import duckdb
from analytics import monthly_report
from quickstart import Order, User, seed
from activeq.ddl import create_table_statements

db = seed(sys.argv[1])
report = monthly_report()
got = [list(r) for r in report.tuples()]
hand = """
WITH monthly AS (
  SELECT user_id, {month} AS month, count(*) AS orders, sum(total) AS spent
  FROM orders GROUP BY user_id, {month}),
ranked AS (SELECT month, user_id, orders, spent,
                  rank() OVER (PARTITION BY month ORDER BY spent DESC) AS rnk FROM monthly),
revenue AS (SELECT month, sum(spent) AS revenue FROM monthly GROUP BY month),
lifetime AS (SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id)
SELECT r.month, r.rnk, u.name, r.orders, r.spent, round(r.spent * 100.0 / v.revenue, 2),
       CASE WHEN l.total >= 1500 THEN 'gold' WHEN l.total >= 800 THEN 'silver' ELSE 'bronze' END
FROM users u JOIN ranked r ON r.user_id = u.id JOIN revenue v ON v.month = r.month
JOIN lifetime l ON l.user_id = u.id
WHERE r.rnk <= 3 AND u.status = 'active' ORDER BY r.month, r.rnk, u.name
"""
expected = [list(r) for r in db.execute(hand.format(month="datetime(created_at, 'start of month')"))]
duck = duckdb.connect()
for model in (User, Order):
    for sql in create_table_statements(model, "duckdb"):
        duck.execute(sql)
    names = ", ".join(c.column for c in model.__aq__.columns)
    rows = db.execute(f"SELECT {names} FROM {model.__aq__.table}").fetchall()
    duck.executemany(f"INSERT INTO {model.__aq__.table} VALUES ({', '.join('?' * len(model.__aq__.columns))})", rows)
on_duck = [list(r) for r in duck.execute(*report.to_sql("duckdb")).fetchall()]
duck_hand = [list(r) for r in duck.execute(hand.format(month="date_trunc('month', created_at)")).fetchall()]
print(json.dumps({"got": got, "expected": expected, "duck": on_duck, "duck_hand": duck_hand},
                 default=str))
'''


def test_analytics_report_gives_the_rows_of_hand_written_sql(tmp_path: Path) -> None:
    import json

    result = subprocess.run(
        [sys.executable, "-c", _ANALYTICS_CHECK, str(tmp_path / "a.db")],
        cwd=ROOT / "examples", capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "examples")},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(result.stdout)
    assert out["got"] == out["expected"]
    assert len(out["got"]) > 20 and {r[6] for r in out["got"]} >= {"gold", "silver"}

    def comparable(rows: list[list[object]]) -> list[tuple[object, ...]]:
        # Months are text on SQLite and timestamps on DuckDB; sums may differ in the last bit.
        return [(str(r[0])[:7], r[1], r[2], r[3], round(float(r[4]), 2), float(r[5]), r[6])
                for r in rows]

    assert comparable(out["duck"]) == comparable(out["duck_hand"]) == comparable(out["got"])


def test_analytics_prints_the_sql_of_every_dialect(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "analytics.py"), str(tmp_path / "a.db")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        assert f"== {dialect}\nWITH " in out
    assert "RANK() OVER (PARTITION BY" in out and "CASE WHEN" in out
    assert 'JOIN (SELECT "orders"."user_id"' in out
    assert re.search(r"== the report \(\d+ rows, run on SQLite\)", out)
