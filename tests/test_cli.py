"""``python -m activeq explain`` and ``python -m activeq stats``."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from helpers import Order, User

from activeq import Database
from activeq.cli import main


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "cli.db"
    db = Database(str(path))
    db.bind(User, Order)
    db.create_tables(User, Order)
    User.insert_many([{"name": f"u{i}", "email": f"u{i}@x.org", "age": i} for i in range(10)])
    db.close()
    return path


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_explain_prints_plan_and_index_advice(db_file):
    code, text = _run("explain", str(db_file), "SELECT name FROM users WHERE age = ? ORDER BY name",
                      "-p", "3")
    assert code == 0
    assert text.splitlines()[:3] == [
        "QUERY PLAN for: SELECT name FROM users WHERE age = ? ORDER BY name",
        "  |-- SCAN users",
        "  |-- USE TEMP B-TREE FOR ORDER BY",
    ]
    assert "full scans: users" in text
    assert text.rstrip().splitlines()[-2:] == [
        "Index advice:",
        '  CREATE INDEX "idx_users_age_name" ON "users" ("age", "name");  '
        "-- removes: full scan, temp b-tree for ORDER BY",
    ]


def test_explain_with_an_index_gives_no_advice_and_analyze_runs_it(db_file):
    code, text = _run("explain", str(db_file), "SELECT id FROM users WHERE status = 'active'",
                      "--analyze")
    assert code == 0
    assert "SEARCH users USING COVERING INDEX idx_users_status (status=?)" in text
    assert "ran in " in text and ", 10 rows" in text
    assert "Index advice: none" in text


def test_explain_binds_missing_params_as_null(db_file):
    code, text = _run("explain", str(db_file), "SELECT id FROM orders WHERE user_id = ?")
    assert code == 0
    assert 'CREATE INDEX "idx_orders_user_id" ON "orders" ("user_id")' in text


def test_explain_errors(db_file, tmp_path, capsys):
    assert _run("explain", str(tmp_path / "missing.db"), "SELECT 1")[0] == 1
    assert "no database file" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
    assert _run("explain", str(db_file), "SELECT * FROM nowhere")[0] == 1
    assert "no such table: nowhere" in capsys.readouterr().err
    assert _run("explain", str(db_file), "SELECT ?", "-p", "1", "-p", "2")[0] == 1
    assert "2 --param values given, the statement has 1" in capsys.readouterr().err


def test_stats_prints_a_saved_dump(tmp_path, db_file):
    db = Database(str(db_file))
    db.bind(User, Order)
    for age in range(3):
        User.query().where(User.c.age == age).all()
    dump = tmp_path / "stats.json"
    db.stats_dump(dump)
    expected = db.stats_report()
    db.close()
    code, text = _run("stats", str(dump))
    assert code == 0
    assert text == expected + "\n"
    lines = text.splitlines()
    assert lines[0].split()[0] == "count" and lines[-1].endswith("ms total")
    assert any(line.split()[:1] == ["3"] and 'SELECT "users"."id"' in line for line in lines)


def test_stats_refuses_other_files(db_file, capsys):
    assert _run("stats", str(db_file))[0] == 1
    assert "is not a statistics dump" in capsys.readouterr().err


def test_python_dash_m_entry_point(db_file):
    done = subprocess.run(
        [sys.executable, "-m", "activeq", "explain", str(db_file), "SELECT * FROM users WHERE id = 1"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "SEARCH users USING INTEGER PRIMARY KEY (rowid=?)" in done.stdout
    usage = subprocess.run([sys.executable, "-m", "activeq"], capture_output=True, text=True,
                           timeout=60, check=False)
    assert usage.returncode == 2 and "usage: python -m activeq" in usage.stderr
