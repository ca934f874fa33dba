"""PG W04 wall and CPU time, activeq beside raw psycopg, in alternating rounds of one process.

``make bench`` times each library in a window of its own; on a small machine whose cores the
PostgreSQL server shares, raw psycopg's own median moves by a fifth from run to run, more than
the gap being measured. Here both adapters live in one process and take turns, round by round
(the heap frozen, ``gc.collect()`` first, each round's results kept until it ends, as
``bench/harness.py`` times it), so drift falls on both alike. It reports, per query, the wall
time and the client's CPU time (``time.process_time``); their difference is time spent waiting
on the server::

    python -m bench.alternating --rounds 40

It starts a PostgreSQL server of its own with the bench's data, as ``make bench`` does.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from bench.instructions import LIBRARIES, bench_server, warmed_adapters


def measure(url: str, conninfo: str, rounds: int, ops: int) -> dict[str, tuple[list[float], list[float]]]:
    """``{library: (wall µs per query of each round, CPU µs per query of each round)}``."""
    adapters, params = warmed_adapters(ops, url, conninfo)
    times: dict[str, tuple[list[float], list[float]]] = {lib: ([], []) for lib in LIBRARIES}
    for i in range(rounds):
        # Each library goes first in every other round.
        for lib in (LIBRARIES if i % 2 == 0 else LIBRARIES[::-1]):
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            kept = adapters[lib].filtered(params)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(kept) == ops
            del kept
            times[lib][0].append(wall / ops * 1e6)
            times[lib][1].append(cpu / ops * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds per library")
    parser.add_argument("--ops", type=int, default=1000, help="queries per round (the bench: 1000)")
    args = parser.parse_args()
    with bench_server() as (url, conninfo):
        times = measure(url, conninfo, args.rounds, args.ops)
    median = statistics.median
    for lib, (wall, cpu) in times.items():
        print(f"{lib:12} wall min {min(wall):7.1f} median {median(wall):7.1f} µs   "
              f"cpu min {min(cpu):7.1f} median {median(cpu):7.1f} µs per query")
    (aw, ac), (rw, rc) = times["activeq"], times["raw_psycopg"]
    print(f"PG W04, {args.rounds} alternating rounds: activeq / raw psycopg = "
          f"wall median {median(aw) / median(rw):.3f} (min {min(aw) / min(rw):.3f}), "
          f"cpu median {median(ac) / median(rc):.3f}")


if __name__ == "__main__":
    main()
