"""Make the editable activeq visible to type checkers run in this venv.

``pip install -e .`` maps ``activeq.dialects`` onto ``dialects/`` with an import hook, and
mypy and pyright do not run import hooks: they find no ``activeq`` at all. This puts a path
entry in the venv (a ``.pth`` file naming a folder that holds only a link to ``activeq/``),
which both checkers follow, while ``activeq.dialects`` keeps being found by the hook at run
time. No other top-level name (``dialects``, ``tests``) becomes importable.

Usage: ``python tools/typing_path.py`` with the venv's interpreter (``make install`` runs it).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    folder = site_packages / "activeq-typing"
    folder.mkdir(exist_ok=True)
    link = folder / "activeq"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(ROOT / "activeq", target_is_directory=True)
    (site_packages / "activeq-typing.pth").write_text(f"{folder}\n")
    print(f"type checkers find activeq through {link}")


if __name__ == "__main__":
    main()
