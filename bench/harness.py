"""Per-session database files, per-library adapters, and the timing wrapper every test uses."""

from __future__ import annotations

import contextlib
import gc
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import apsw
import pytest

from bench.common import (
    DELETE_STATUS,
    EXPECTED_PRAGMAS,
    INSERT_ORDERS,
    INSERT_USERS,
    ORDER_COLS,
    SCHEMA,
    UPDATE_FROM,
    UPDATE_TO,
    USER_COLS,
    Data,
    Sizes,
    normalise_pragma,
    pragma_statements,
)
from bench.libs import open_adapter

# Rounds for workloads whose single call is already long (a whole table, a bulk write).
ROUNDS_HEAVY = 3
ROUNDS_MEDIUM = 5

# The skip reasons raised by a missing activeq feature; anything else is a real failure.
MISSING_FEATURE = (ImportError, AttributeError, NotImplementedError)

# Which template each kind of per-library file starts from.
_KIND_TEMPLATE = {"read": "full", "w1": "empty", "w2": "users", "w7": "full"}


def scale_option(request) -> float:
    """The ``--scale`` option (1.0, the full benchmark, when bench's conftest did not add it)."""
    try:
        return float(request.config.getoption("--scale"))
    except (ValueError, TypeError):
        return 1.0


@contextlib.contextmanager
def feature_guard(lib: str, feature: str):
    """Turn a not-yet-available activeq feature into a skip; never hide a peer's failure."""
    if not lib.startswith("activeq"):
        yield
        return
    try:
        yield
    except MISSING_FEATURE as exc:
        pytest.skip(f"activeq feature not landed: {feature} ({type(exc).__name__}: {exc})")


def build_file(path: Path, users: Sequence[tuple] = (), orders: Sequence[tuple] = ()) -> apsw.Connection:
    """A new SQLite file with the benchmark pragmas, schema and rows, analysed; returns the
    APSW connection that wrote it."""
    conn = apsw.Connection(str(path))
    for stmt in pragma_statements():
        conn.execute(stmt).fetchall()
    with conn:
        for stmt in SCHEMA:
            conn.execute(stmt)
        conn.executemany(INSERT_USERS, users)
        conn.executemany(INSERT_ORDERS, orders)
    conn.execute("ANALYZE")
    return conn


class UsersFile:
    """The users of one scale in their own file: a raw APSW connection (``raw``, ``cur``)
    and an activeq Database on it (``db``, statistics off) with a model of the users table
    (``User``, named ``model``) and ``tables`` bound, for benchmarks that set activeq beside
    raw APSW in the same run."""

    def __init__(self, request, tmp_path_factory, model: str, *tables) -> None:
        from activeq import Database
        from bench.libs.activeq_lib import user_model

        self.sizes = Sizes.for_scale(scale_option(request))
        self.data = Data(self.sizes)
        path = tmp_path_factory.mktemp("bench") / "users.db"
        self.raw = build_file(path, self.data.users)
        self.cur = self.raw.cursor()
        self.db = Database(str(path), stats=False)
        self.User = user_model(model)
        self.db.bind(self.User, *tables)

    def close(self) -> None:
        self.db.close()
        self.raw.close()


class Medians:
    """Times batches of operations and reports the ratio of two variants' median times."""

    def __init__(self) -> None:
        self._medians: dict[tuple[str, str], float] = {}

    def time(self, benchmark, group: str, name: str, target, args, ops: int, rounds: int):
        """Run ``target(*args)`` for ``rounds`` rounds of ``ops`` operations; its last result."""
        benchmark.group = group
        benchmark.extra_info.update(variant=name, ops_per_round=ops)
        target(*args)  # warm statement, compile and result caches alike
        result = benchmark.pedantic(target, args=args, rounds=rounds, iterations=1,
                                    warmup_rounds=1)
        stats = getattr(benchmark, "stats", None)
        if stats is not None:
            median = stats.stats.median
            self._medians[(group, name)] = median
            benchmark.extra_info["per_op_us"] = round(median / ops * 1e6, 3)
        return result

    def ratio(self, benchmark, group: str, name: str, other: str, label: str) -> None:
        """Store (as ``extra_info[label]``) and print ``name``'s median over ``other``'s."""
        mine, base = self._medians.get((group, name)), self._medians.get((group, other))
        if mine is not None and base:
            ratio = mine / base
            benchmark.extra_info[label] = round(ratio, 3)
            print(f"\n{group}: {name} / {other} = {ratio:.3f}")


class BenchEnv:
    """Everything one benchmark session shares: sizes, data, template files, adapters."""

    def __init__(self, scale: float, root: Path) -> None:
        self.scale = scale
        self.sizes = Sizes.for_scale(scale)
        self.data = Data(self.sizes)
        self.root = root
        self.templates: dict[str, Path] = {}
        self._adapters: dict[tuple[str, str], object] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._admin: dict[str, apsw.Connection] = {}
        self.pragmas_seen: dict[str, dict] = {}
        self._build_templates()
        # The generated rows live for the whole session; keep them out of the cyclic GC's
        # full collections so that collections triggered inside a timed call cost the same
        # for every library, whatever else the session holds.
        gc.collect()
        gc.freeze()

    # Templates: built once with plain APSW, then copied per library and purpose.

    def _build_templates(self) -> None:
        for name in ("empty", "users", "full"):
            path = self.root / f"template-{name}.db"
            users = self.data.users if name in ("users", "full") else ()
            conn = build_file(path, users, self.data.orders if name == "full" else ())
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            self.templates[name] = path
        self.oracle = apsw.Connection(str(self.templates["full"]), flags=apsw.SQLITE_OPEN_READONLY)

    # Adapters: one connection per (library, purpose), each on its own copy of a template.

    def adapter(self, lib: str, kind: str = "read"):
        key = (lib, kind)
        if key in self._failed:
            pytest.skip(self._failed[key])
        if key not in self._adapters:
            path = self.root / f"{lib}-{kind}.db"
            shutil.copyfile(self.templates[_KIND_TEMPLATE[kind]], path)
            try:
                with feature_guard(lib, "Database / model declaration"):
                    adapter = open_adapter(lib, str(path))
            except pytest.skip.Exception as exc:
                self._failed[key] = str(exc.msg)
                raise
            seen = {k: normalise_pragma(v) for k, v in adapter.read_pragmas().items()}
            assert seen == EXPECTED_PRAGMAS, f"{lib}: pragmas {seen} != {EXPECTED_PRAGMAS}"
            self.pragmas_seen[lib] = seen
            self._adapters[key] = adapter
        adapter = self._adapters[key]
        adapter.activate()
        return adapter

    def admin(self, adapter) -> apsw.Connection:
        """A separate plain connection to an adapter's file, for resets and checks."""
        path = adapter.path
        if path not in self._admin:
            conn = apsw.Connection(path)
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("ATTACH ? AS src", (str(self.templates["full"]),))
            self._admin[path] = conn
        return self._admin[path]

    def reset(self, adapter, what: str) -> None:
        """Put an adapter's file back to the state a write benchmark starts from."""
        conn = self.admin(adapter)
        with conn:
            if what == "users":
                conn.execute("DELETE FROM users")
            elif what == "orders":
                conn.execute("DELETE FROM orders")
            elif what == "update":
                conn.execute(
                    "UPDATE users SET status = ? WHERE status = ?", (UPDATE_FROM, UPDATE_TO)
                )
            elif what == "delete":
                conn.execute(
                    "INSERT OR IGNORE INTO orders SELECT * FROM src.orders WHERE status = ?",
                    (DELETE_STATUS,),
                )
            else:
                raise ValueError(what)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def table(self, adapter, name: str) -> list[tuple]:
        cols = USER_COLS if name == "users" else ORDER_COLS
        return self.admin(adapter).execute(f"SELECT {cols} FROM {name} ORDER BY id").fetchall()

    def scalar(self, adapter, sql: str, params: Sequence = ()):
        return self.admin(adapter).execute(sql, params).fetchone()[0]

    def close(self) -> None:
        for adapter in self._adapters.values():
            with contextlib.suppress(Exception):
                adapter.close()
        for conn in self._admin.values():
            conn.close()
        self.oracle.close()
        gc.unfreeze()


def run(
    benchmark,
    env: BenchEnv,
    lib: str,
    *,
    group: str,
    feature: str,
    target: Callable,
    args: Callable[[int], tuple],
    rounds: int,
    reset: Callable[[], None] | None = None,
    ops_per_round: int | None = None,
    probe_args: tuple | None = None,
    label: str | None = None,
):
    """Time `target(*args(round))` for `rounds` rounds; return (last result, its args).

    An untimed probe call runs first: it warms statement and compile caches for every
    library alike and, for activeq, turns a missing feature into a skip. `reset` and a full
    garbage collection run before every round, outside the timing.
    """
    library = label or lib
    benchmark.group = group
    benchmark.extra_info.update(
        workload=group,
        library=library,
        rounds=rounds,
        scale=env.scale,
        ops_per_round=ops_per_round,
    )

    if reset is not None:
        reset()
    with feature_guard(lib, feature):
        target(*(probe_args if probe_args is not None else args(0)))

    state = {"round": 0, "args": None}

    def setup():
        if reset is not None:
            reset()
        gc.collect()
        state["args"] = args(state["round"])
        state["round"] += 1
        return state["args"], {}

    result = benchmark.pedantic(target, setup=setup, rounds=rounds, iterations=1)
    return result, state["args"]


def batched(items: list, size: int) -> Callable[[int], tuple]:
    """Round i gets the i-th slice of `size` items (wrapping), as a one-argument tuple."""
    slices = [items[k : k + size] for k in range(0, len(items), size)] or [[]]

    def args(i: int) -> tuple:
        return (slices[i % len(slices)],)

    return args
