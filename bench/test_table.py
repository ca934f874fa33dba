"""A Table without a model beside the equivalent model, and raw APSW, in the same run.

Claim measured here (ratio of medians, in ``extra_info`` and printed): the filtered query
(status = ? AND age > ? ORDER BY id LIMIT 20) and a fetch of every row cost about what they
cost through the model: a Table's rows are ``Row``s built by a generated builder, as a
model's instances are.

Every round runs a batch of operations; the per-operation time is the median / batch.
"""

from __future__ import annotations

from itertools import starmap

import apsw
import pytest

from bench.common import (
    LIMIT,
    SCHEMA,
    USER_COLS,
    Data,
    Sizes,
    UserRow,
    pragma_statements,
    user_key,
)
from bench.harness import scale_option

FILTERED = f"SELECT {USER_COLS} FROM users WHERE status = ? AND age > ? ORDER BY id LIMIT {LIMIT}"

FILTER_GROUP = "table: filtered query"
ALL_GROUP = "table: fetch 1000 rows"

_medians: dict[tuple[str, str], float] = {}


def _model():
    from activeq import ActiveRecord, Field

    class TableUser(ActiveRecord):
        __table_name__ = "users"

        id: int = Field(primary_key=True)
        name: str
        email: str = Field(unique=True)
        status: str = Field(index=True)
        age: int
        created_at: str

    return TableUser


def _table():
    from activeq import Column, Table

    return Table("users", Column("id", int, primary_key=True), Column("name", str),
                 Column("email", str, unique=True), Column("status", str, index=True),
                 Column("age", int), Column("created_at", str))


class Setup:
    """One database file, a raw APSW connection and an activeq Database on it."""

    def __init__(self, scale: float, root) -> None:
        self.sizes = Sizes.for_scale(scale)
        self.data = Data(self.sizes)
        path = str(root / "table.db")
        conn = apsw.Connection(path)
        for stmt in pragma_statements():
            conn.execute(stmt).fetchall()
        with conn:
            for stmt in SCHEMA:
                conn.execute(stmt)
            conn.executemany(f"INSERT INTO users ({USER_COLS}) VALUES (?,?,?,?,?,?)",
                             self.data.users)
        conn.execute("ANALYZE")
        self.raw = conn
        self.cur = conn.cursor()

        from activeq import Database

        self.db = Database(path, stats=False)
        self.User = _model()
        self.users = _table()
        self.db.bind(self.User, self.users)

    def close(self) -> None:
        self.db.close()
        self.raw.close()


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    s = Setup(scale_option(request), tmp_path_factory.mktemp("bench-table"))
    yield s
    s.close()


def _time(benchmark, group: str, name: str, target, args, ops: int, rounds: int):
    benchmark.group = group
    benchmark.extra_info.update(variant=name, ops_per_round=ops)
    target(*args)  # warm statement and compile caches alike
    result = benchmark.pedantic(target, args=args, rounds=rounds, iterations=1, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        median = stats.stats.median
        _medians[(group, name)] = median
        benchmark.extra_info["per_op_us"] = round(median / ops * 1e6, 3)
    return result


def _ratio(benchmark, group: str, name: str, other: str, label: str) -> None:
    mine, base = _medians.get((group, name)), _medians.get((group, other))
    if mine is not None and base:
        ratio = mine / base
        benchmark.extra_info[label] = round(ratio, 3)
        print(f"\n{group}: {name} / {other} = {ratio:.3f}")


VARIANTS = ("raw apsw", "activeq model", "activeq table")


@pytest.mark.parametrize("variant", VARIANTS)
def test_table_filtered(benchmark, setup, variant):
    sizes = setup.sizes
    params = setup.data.filter_params[: sizes.batch]
    User, users = setup.User, setup.users

    def raw(params):
        ex = setup.cur.execute
        return [list(starmap(UserRow, ex(FILTERED, p))) for p in params]

    def model(params):
        c = User.c
        return [User.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT).all()
                for s, n in params]

    def table(params):
        c = users.c
        return [users.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT)
                .all() for s, n in params]

    target = {"raw apsw": raw, "activeq model": model, "activeq table": table}[variant]
    result = _time(benchmark, FILTER_GROUP, variant, target, (params,), sizes.batch,
                   sizes.batches(sizes.filtered))
    expected = [setup.data.filtered(s, n) for s, n in params]
    if variant == "activeq table":
        assert [[tuple(r) for r in rows] for rows in result] == expected
        _ratio(benchmark, FILTER_GROUP, variant, "activeq model", "table_vs_model")
        _ratio(benchmark, FILTER_GROUP, variant, "raw apsw", "table_vs_raw")
    else:
        assert [[user_key(u) for u in rows] for rows in result] == expected


@pytest.mark.parametrize("variant", VARIANTS)
def test_table_fetch_rows(benchmark, setup, variant):
    n = min(1000, setup.sizes.users)
    User, users = setup.User, setup.users
    sql = f"SELECT {USER_COLS} FROM users ORDER BY id LIMIT {n}"

    def raw():
        return list(starmap(UserRow, setup.cur.execute(sql)))

    def model():
        return User.query().order_by(User.c.id).limit(n).all()

    def table():
        return users.query().order_by(users.c.id).limit(n).all()

    target = {"raw apsw": raw, "activeq model": model, "activeq table": table}[variant]
    result = _time(benchmark, ALL_GROUP, variant, target, (), n, max(10, setup.sizes.batches(20_000)))
    assert [user_key(tuple(r) if variant == "activeq table" else r) for r in result] == [
        setup.data.user(i) for i in range(1, n + 1)]
    if variant == "activeq table":
        _ratio(benchmark, ALL_GROUP, variant, "activeq model", "table_vs_model")
        _ratio(benchmark, ALL_GROUP, variant, "raw apsw", "table_vs_raw")
