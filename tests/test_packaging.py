"""The installed layout: dialects ship inside the package, typed, with no top-level module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import activeq


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


def test_dialects_are_a_subpackage_and_not_top_level(tmp_path: Path) -> None:
    ok = _run("import activeq.dialects.sqlite as d; print(d.PLACEHOLDER)", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "?"
    missing = _run("import dialects", tmp_path)
    assert missing.returncode != 0
    assert "No module named 'dialects'" in missing.stderr


def test_py_typed_is_shipped() -> None:
    assert (Path(activeq.__file__).parent / "py.typed").exists()


def test_public_api_is_sorted_and_importable() -> None:
    assert activeq.__all__ == sorted(activeq.__all__)
    for name in activeq.__all__:
        assert hasattr(activeq, name), name
