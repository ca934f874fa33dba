"""The benchmark suite runs end to end at a tiny scale, result checks included."""

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
