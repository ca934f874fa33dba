"""Client-side instruction counts of PG W04, activeq beside raw psycopg, under callgrind.

Wall times of the PostgreSQL section move with the machine (the server shares its cores); the
instructions the client executes do not. This runs one round of W04 the way
``bench/harness.py`` times it (the session's heap frozen, ``gc.collect()`` first, a round of
``--ops`` queries whose results are all kept until it ends) inside ``valgrind --tool=callgrind``,
counting only the instructions of the round itself (as pytest-benchmark times only the call:
not the start, the warm-up, nor freeing the results), and reports them per query::

    python -m bench.instructions --ops 1000

It starts a PostgreSQL server of its own with the bench's data, as ``make bench`` does, and
needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("active", "inactive", "pending", "banned")
WARM = 50
LIBRARIES = ("activeq", "raw_psycopg")


class _Server:
    """What the adapters ask of the PostgreSQL bench environment: the read database's address."""

    def __init__(self, url: str, conninfo: str) -> None:
        self._url = url
        self._conninfo = conninfo

    def url(self, database: str) -> str:
        return self._url

    def conninfo(self, database: str) -> str:
        return self._conninfo


def _params(count: int) -> list[tuple[str, int]]:
    return [(STATUSES[i % 4], 18 + (i * 7) % 57) for i in range(count)]


def warmed_adapters(ops: int, url: str, conninfo: str) -> tuple[dict[str, Any], list[Any]]:
    """Both W04 adapters, warmed up, and the values of a round of ``ops`` queries; the heap is
    then frozen, as ``bench/harness.py`` freezes it before timing."""
    from bench.libs.activeq_lib import ActiveqPg
    from bench.libs.raw_psycopg import RawPsycopg

    server = _Server(url, conninfo)
    params = _params(WARM + ops)
    adapters: dict[str, Any] = {"activeq": ActiveqPg(server, "bench"),
                                "raw_psycopg": RawPsycopg(server, "bench")}
    for adapter in adapters.values():
        adapter.filtered(params[:WARM])
    gc.collect()
    gc.freeze()
    return adapters, params[WARM:]


def run_round(lib: str, ops: int, url: str, conninfo: str) -> None:
    """One W04 round of ``ops`` queries through ``lib``, after warming both adapters."""
    adapters, params = warmed_adapters(ops, url, conninfo)
    gc.collect()
    # callgrind counts inside functools.reduce only (see _instructions): the round alone.
    kept = functools.reduce(_round, [params], adapters[lib])
    assert len(kept) == ops and all(len(rows) <= 20 for rows in kept)


def _round(adapter: Any, params: list[tuple[str, int]]) -> list[Any]:
    return adapter.filtered(params)  # type: ignore[no-any-return]


def _instructions(lib: str, ops: int, url: str, conninfo: str) -> int:
    return callgrind_round("bench.instructions", "--inner", lib, "--ops", str(ops), "--url", url,
                           "--conninfo", conninfo)


def callgrind_round(module: str, *args: str) -> int:
    """The instructions ``python -m module *args`` executes inside ``functools.reduce``, the
    call its inner run makes the round through, under callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--collect-atstart=no",
         "--toggle-collect=functools_reduce", "--callgrind-out-file=/dev/null", sys.executable,
         "-m", module, *args],
        cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(found.group(1))


@contextlib.contextmanager
def bench_server() -> Iterator[tuple[str, str]]:
    """A PostgreSQL server of its own holding the bench's data, as ``make bench`` starts one:
    the read database's URL and conninfo, until the block ends."""
    from bench.common import Data, Sizes
    from bench.pg_env import READ_DB, PgBenchEnv
    from tests.pg_server import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL server binaries are not installed (Debian package 'postgresql')")
    sizes = Sizes.for_scale(1.0)
    server = PostgresServer(bin_dir).start()
    try:
        env = PgBenchEnv(server, sizes, Data(sizes))
        try:
            yield env.url(READ_DB), env.conninfo(READ_DB)
        finally:
            env.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="queries per round (the bench: 1000)")
    parser.add_argument("--inner", choices=LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--conninfo", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        run_round(args.inner, args.ops, args.url, args.conninfo)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian package 'valgrind')")
    with bench_server() as (url, conninfo):
        per_op = {}
        for lib in LIBRARIES:
            per_op[lib] = _instructions(lib, args.ops, url, conninfo) / args.ops
            print(f"{lib:12} {per_op[lib]:12,.0f} instructions per query")
        ratio = per_op["activeq"] / per_op["raw_psycopg"]
        print(f"PG W04, {args.ops} queries per round: activeq / raw psycopg = {ratio:.3f}")


if __name__ == "__main__":
    main()
