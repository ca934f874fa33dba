"""A Table without a model beside the equivalent model, and raw APSW, in the same run.

Claim measured here (ratio of medians, in ``extra_info`` and printed): the filtered query
(status = ? AND age > ? ORDER BY id LIMIT 20) and a fetch of every row cost about what they
cost through the model: a Table's rows are ``Row``s built by a generated builder, as a
model's instances are.

Every round runs a batch of operations; the per-operation time is the median / batch.
"""

from __future__ import annotations

from functools import cache
from itertools import starmap

import pytest

from bench.common import LIMIT, USER_COLS, UserRow, user_key
from bench.harness import Medians, UsersFile

FILTERED = f"SELECT {USER_COLS} FROM users WHERE status = ? AND age > ? ORDER BY id LIMIT {LIMIT}"

FILTER_GROUP = "table: filtered query"
ALL_GROUP = "table: fetch 1000 rows"

_medians = Medians()


@cache
def _table():
    from activeq import Column, Table

    return Table("users", Column("id", int, primary_key=True), Column("name", str),
                 Column("email", str, unique=True), Column("status", str, index=True),
                 Column("age", int), Column("created_at", str))


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    s = UsersFile(request, tmp_path_factory, "TableUser", _table())
    yield s
    s.close()


VARIANTS = ("raw apsw", "activeq model", "activeq table")


@pytest.mark.parametrize("variant", VARIANTS)
def test_table_filtered(benchmark, setup, variant):
    sizes = setup.sizes
    params = setup.data.filter_params[: sizes.batch]
    User, users = setup.User, _table()

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
    result = _medians.time(benchmark, FILTER_GROUP, variant, target, (params,), sizes.batch,
                   sizes.batches(sizes.filtered))
    expected = [setup.data.filtered(s, n) for s, n in params]
    if variant == "activeq table":
        assert [[tuple(r) for r in rows] for rows in result] == expected
        _medians.ratio(benchmark, FILTER_GROUP, variant, "activeq model", "table_vs_model")
        _medians.ratio(benchmark, FILTER_GROUP, variant, "raw apsw", "table_vs_raw")
    else:
        assert [[user_key(u) for u in rows] for rows in result] == expected


@pytest.mark.parametrize("variant", VARIANTS)
def test_table_fetch_rows(benchmark, setup, variant):
    n = min(1000, setup.sizes.users)
    User, users = setup.User, _table()
    sql = f"SELECT {USER_COLS} FROM users ORDER BY id LIMIT {n}"

    def raw():
        return list(starmap(UserRow, setup.cur.execute(sql)))

    def model():
        return User.query().order_by(User.c.id).limit(n).all()

    def table():
        return users.query().order_by(users.c.id).limit(n).all()

    target = {"raw apsw": raw, "activeq model": model, "activeq table": table}[variant]
    result = _medians.time(benchmark, ALL_GROUP, variant, target, (), n, max(10, setup.sizes.batches(20_000)))
    assert [user_key(tuple(r) if variant == "activeq table" else r) for r in result] == [
        setup.data.user(i) for i in range(1, n + 1)]
    if variant == "activeq table":
        _medians.ratio(benchmark, ALL_GROUP, variant, "activeq model", "table_vs_model")
        _medians.ratio(benchmark, ALL_GROUP, variant, "raw apsw", "table_vs_raw")
