"""The benchmark suite runs end to end at a tiny scale, result checks included."""

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
