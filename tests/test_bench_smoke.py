"""The benchmark suite runs end to end at a tiny scale, result checks included."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_suite_runs_at_tiny_scale():
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "bench",
        "--scale",
        "0.002",
        "--benchmark-disable",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_postgres_section_skips_cleanly_without_the_server_binaries(tmp_path):
    # A plugin loaded before collection makes the PostgreSQL binaries "missing".
    (tmp_path / "no_postgres.py").write_text(
        "import bench.pg_env\nbench.pg_env.find_pg_bin = lambda: None\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bench").glob("test_pg_*.py")),
        "--scale",
        "0.002",
        "--benchmark-disable",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-p",
        "no_postgres",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "PostgreSQL server binaries are not installed" in out, out[-4000:]
    assert " passed" not in out and "failed" not in out and "error" not in out.lower(), out[-4000:]


def _bench(group, library, median):
    return {"name": f"test[{library}]", "group": group,
            "extra_info": {"workload": group, "library": library, "ops_per_round": 10},
            "stats": {"median": median, "iqr": 0.0, "min": median, "rounds": 3}}


def test_report_gives_postgres_ratios_to_raw_psycopg_with_the_bars(tmp_path):
    results = {"benchmarks": [
        _bench("W03 pk lookup", "raw_apsw", 0.010), _bench("W03 pk lookup", "activeq", 0.014),
        _bench("PG W03 pk lookup", "raw_psycopg", 0.050),
        _bench("PG W03 pk lookup", "activeq", 0.060),
        _bench("PG W04 filtered query", "raw_psycopg", 0.100),
        _bench("PG W04 filtered query", "activeq", 0.150),
    ]}
    (tmp_path / "results.json").write_text(json.dumps(results))
    proc = subprocess.run(
        [sys.executable, "bench/report.py", str(tmp_path / "results.json"), "--out-dir",
         str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    pg_rows = ["| PG W03 pk lookup | 1.00× | 1.20× | ≤ 1.3× met |",
               "| PG W04 filtered query | 1.00× | 1.50× | ≤ 1.3× MISSED |"]
    for row in pg_rows:
        assert row in proc.stdout
    report = (tmp_path / "RESULTS.md").read_text()
    sqlite_table = report.split("## Ratio to raw APSW")[1].split("## PostgreSQL")[0]
    assert "| W03 pk lookup | 1.00× | 1.40× |" in sqlite_table
    assert "PG W" not in sqlite_table
    pg_table = report.split("## PostgreSQL: ratio to raw psycopg")[1].split("## Per workload")[0]
    assert "| workload | raw_psycopg | activeq | activeq bar |" in pg_table
    assert all(row in pg_table for row in pg_rows)


def test_render_instruction_rounds_run_for_each_library_and_workload():
    # The round bench.render_instructions runs under callgrind, here without it: each
    # adapter renders every query of the round (the round itself checks the results).
    for lib in ("activeq", "sqlalchemy_core"):
        for workload in ("w08", "w12"):
            proc = subprocess.run(
                [sys.executable, "-m", "bench.render_instructions", "--inner", lib,
                 "--workload", workload, "--ops", "3"],
                cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, (lib, workload, proc.stderr[-4000:])
