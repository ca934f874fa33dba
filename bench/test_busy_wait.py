"""How long a write waits on a lock held elsewhere before BusyError, against busy_timeout_ms.

Another connection holds the write lock throughout; each round times one write that must give
up. Raw APSW (its busy handler alone) is the reference. The promise is that activeq reports
busy within 1.5x the timeout: the ratio is stored in ``extra_info`` and checked when the
benchmark really runs (not in the smoke run of the test suite, where timing is not measured).
"""

from __future__ import annotations

import time

import apsw
import pytest

GROUP = "busy wait (busy_timeout_ms=250)"
TIMEOUT_MS = 250
ROUNDS = 5


@pytest.fixture
def locked(tmp_path):
    path = str(tmp_path / "busy.db")
    conn = apsw.Connection(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    holder = apsw.Connection(path)
    holder.execute("BEGIN IMMEDIATE")
    yield path
    holder.execute("ROLLBACK")
    holder.close()


def _raw(path):
    conn = apsw.Connection(path)
    conn.set_busy_timeout(TIMEOUT_MS)

    def write():
        try:
            conn.execute("INSERT INTO t VALUES (1)")
        except apsw.BusyError:
            return
        raise AssertionError("the write was not refused")

    return write


def _activeq(path, what):
    from activeq import Database
    from activeq.errors import BusyError

    db = Database(path, busy_timeout_ms=TIMEOUT_MS)
    runs = {
        "statement": lambda: db.execute("INSERT INTO t VALUES (1)"),
        "transaction": lambda: db.transaction().__enter__(),
        "atomic": lambda: db.atomic(lambda: db.execute("INSERT INTO t VALUES (1)")),
    }

    def write():
        try:
            runs[what]()
        except BusyError:
            return
        raise AssertionError("the write was not refused")

    return write


@pytest.mark.parametrize("variant", ["raw apsw", "activeq statement", "activeq transaction",
                                     "activeq atomic"])
def test_busy_wait(benchmark, locked, variant):
    benchmark.group = GROUP
    write = _raw(locked) if variant == "raw apsw" else _activeq(locked, variant.split()[1])
    times: list[float] = []

    def timed():
        t0 = time.perf_counter()
        write()
        times.append(time.perf_counter() - t0)

    benchmark.pedantic(timed, rounds=ROUNDS, iterations=1)
    ratio = max(times) / (TIMEOUT_MS / 1000)
    benchmark.extra_info["worst / busy_timeout"] = round(ratio, 3)
    if not benchmark.disabled:
        assert ratio < 1.5, f"{variant}: BusyError after {max(times):.3f} s"
