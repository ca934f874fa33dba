"""Instruction counts of W08 and W12 (build a query and render it from a cached shape), activeq
beside SQLAlchemy Core, under callgrind.

W08 and W12 run no SQL: their time is the client's alone, so an instruction count measures
them without the machine's noise, which on a shared 2-core machine moves their wall times by
half between runs. This runs one round of each the way ``bench/harness.py`` times it (the
heap frozen, ``gc.collect()`` first, a round of ``--ops`` renderings whose results are kept
until it ends) inside ``valgrind --tool=callgrind``, counting only the round itself, and
reports the instructions per rendering::

    python -m bench.render_instructions --ops 200

The adapters are the bench's own (``bench/libs``), on an empty SQLite file of the bench's
schema. It needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import functools
import gc
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.instructions import callgrind_round

WARM = 20
LIBRARIES = ("activeq", "sqlalchemy_core")
ORDER_STATUSES = ("paid", "shipped", "refunded")
USER_STATUSES = ("active", "inactive", "pending", "banned")
# Workload: (adapter method, values of the i-th rendering).
WORKLOADS = {
    "w08": ("render", lambda i: (USER_STATUSES[i % 4], 18 + (i * 7) % 57)),
    "w12": ("render_report",
            lambda i: (ORDER_STATUSES[i % 3], 5 + (i * 11) % 36, USER_STATUSES[i % 4])),
}


def run_round(lib: str, workload: str, ops: int) -> None:
    """One round of ``ops`` renderings of ``workload`` through ``lib``, after a warm-up."""
    from bench.harness import build_file
    from bench.libs import open_adapter

    method, values = WORKLOADS[workload]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        build_file(path).close()
        render = getattr(open_adapter(lib, str(path)), method)
        render([values(i) for i in range(WARM)])
        params = [values(WARM + i) for i in range(ops)]
        gc.collect()
        gc.freeze()
        # callgrind counts inside functools.reduce only (see _instructions): the round alone.
        kept = functools.reduce(_round, [params], render)
        assert len(kept) == ops and all(isinstance(sql, str) for sql, _ in kept)


def _round(render: Any, params: list[tuple[Any, ...]]) -> list[Any]:
    return render(params)  # type: ignore[no-any-return]


def _instructions(lib: str, workload: str, ops: int) -> int:
    return callgrind_round("bench.render_instructions", "--inner", lib, "--workload", workload,
                           "--ops", str(ops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="renderings per round")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append",
                        help="w08 or w12 (default: both)")
    parser.add_argument("--inner", choices=LIBRARIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    workloads = args.workload or sorted(WORKLOADS)
    if args.inner:
        run_round(args.inner, workloads[0], args.ops)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian package 'valgrind')")
    for workload in workloads:
        per_op = {lib: _instructions(lib, workload, args.ops) / args.ops for lib in LIBRARIES}
        for lib, count in per_op.items():
            print(f"{workload.upper()} {lib:16} {count:12,.0f} instructions per rendering")
        ratio = per_op["sqlalchemy_core"] / per_op["activeq"]
        print(f"{workload.upper()}: SQLAlchemy Core executes {ratio:.1f}x activeq's instructions")


if __name__ == "__main__":
    main()
