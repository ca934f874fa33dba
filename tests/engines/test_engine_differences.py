"""Each native difference listed in docs/engine-differences.md, asserted on every engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from activeq import ActiveRecord, Database, Field, func
from activeq.errors import OperationalError

DOC = Path(__file__).resolve().parents[2] / "docs" / "engine-differences.md"


class Pair(ActiveRecord):
    __table_name__ = "pairs"
    id: int = Field(primary_key=True)
    x: int
    y: int
    s: str


@pytest.fixture
def pairs(database: Database) -> Database:
    database.bind(Pair)
    database.create_tables(Pair)
    Pair.create(x=7, y=0, s="Ébc")
    Pair.create(x=-7, y=2, s="abc")
    return database


def test_integer_division_and_modulo_agree(pairs: Database) -> None:
    row = Pair.query().where(Pair.c.y == 2)
    assert row.pluck(Pair.c.x / Pair.c.y) == [-3.5]
    assert row.pluck(Pair.c.x % Pair.c.y) == [-1]


def test_a_backslash_in_a_like_pattern_is_literal_everywhere(pairs: Database) -> None:
    Pair.create(x=1, y=1, s="a\\_c")
    Pair.create(x=2, y=1, s="a_c")
    # PostgreSQL alone escapes with a backslash by default; activeq renders ESCAPE '' there.
    assert Pair.query().where(Pair.c.s.like("a\\_c")).pluck(Pair.c.s) == ["a\\_c"]
    assert Pair.query().where(Pair.c.s.ilike("A\\%")).pluck(Pair.c.s) == ["a\\_c"]
    assert Pair.query().where(Pair.c.s.not_like("%\\%")).order_by(Pair.c.id).pluck(Pair.c.s) == [
        "Ébc", "abc", "a_c"]


def test_upper_and_lower_of_non_ascii_text(pairs: Database) -> None:
    folded = Pair.query().where(Pair.c.x == 7).pluck(func.lower(Pair.c.s), func.upper(Pair.c.s))
    if pairs.dialect == "sqlite":
        assert folded == [("Ébc", "ÉBC")]
    else:
        assert folded == [("ébc", "ÉBC")]


def test_division_by_zero(pairs: Database) -> None:
    zero = Pair.query().where(Pair.c.y == 0)
    if pairs.dialect == "sqlite":
        assert zero.pluck(Pair.c.x / Pair.c.y) == [None]
    elif pairs.dialect == "duckdb":
        assert zero.pluck(Pair.c.x / Pair.c.y) == [float("inf")]
    else:
        with pytest.raises(OperationalError, match="division by zero"):
            zero.pluck(Pair.c.x / Pair.c.y)


def test_integer_modulo_by_zero(pairs: Database) -> None:
    zero = Pair.query().where(Pair.c.y == 0)
    if pairs.dialect == "sqlite":
        assert zero.pluck(Pair.c.x % Pair.c.y) == [None]
    else:
        with pytest.raises(OperationalError, match="(?i)division by zero"):
            zero.pluck(Pair.c.x % Pair.c.y)


def test_like_case_sensitivity(pairs: Database) -> None:
    expected = 1 if pairs.dialect == "sqlite" else 0
    assert Pair.query().where(Pair.c.s.like("A%")).count() == expected
    assert Pair.query().where(Pair.c.s.like("a%")).count() == 1


def test_ilike_folds_non_ascii_case_except_on_sqlite(pairs: Database) -> None:
    expected = 0 if pairs.dialect == "sqlite" else 1
    assert Pair.query().where(Pair.c.s.ilike("é%")).count() == expected
    assert Pair.query().where(Pair.c.s.ilike("A%")).count() == 1


def test_the_table_lists_exactly_these_cases() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == [
        "`c.x / c.y` with `y = 0`",
        "`c.x % c.y` with `y = 0` (integers)",
        '`c.s.like("A%")` against `"abc"`',
        '`c.s.ilike("é%")` against `"Ébc"`',
        '`func.lower(c.s)`, `func.upper(c.s)` of `"Ébc"`',
        "`order_by(c.n)`, `order_by(c.n.desc())` with NULLs in `n`",
        "`func.max(c.n, 5)`, `func.min(c.n, 5)` with `n` NULL",
        "`func.random()`",
    ]


class Maybe(ActiveRecord):
    __table_name__ = "maybes"
    id: int = Field(primary_key=True)
    n: int | None = None


@pytest.fixture
def maybes(database: Database) -> Database:
    database.bind(Maybe)
    database.create_tables(Maybe)
    Maybe.insert_many([{"n": 2}, {"n": None}, {"n": 1}])
    return database


def test_null_placement_in_order_by(maybes: Database) -> None:
    ascending = Maybe.query().order_by(Maybe.c.n).pluck(Maybe.c.n)
    descending = Maybe.query().order_by(Maybe.c.n.desc()).pluck(Maybe.c.n)
    expected = {"sqlite": ([None, 1, 2], [2, 1, None]), "duckdb": ([1, 2, None], [2, 1, None]),
                "postgres": ([1, 2, None], [None, 2, 1])}
    assert (ascending, descending) == expected[maybes.dialect]
    # Saying where NULLs go gives one order everywhere.
    assert Maybe.query().order_by(Maybe.c.n.asc().nulls_first()).pluck(Maybe.c.n) == [None, 1, 2]
    assert Maybe.query().order_by(Maybe.c.n.asc().nulls_last_()).pluck(Maybe.c.n) == [1, 2, None]
    assert Maybe.query().order_by(Maybe.c.n.desc().nulls_first()).pluck(Maybe.c.n) == [None, 2, 1]
    assert Maybe.query().order_by(Maybe.c.n.desc().nulls_last_()).pluck(Maybe.c.n) == [2, 1, None]


def test_greatest_and_least_of_a_null(maybes: Database) -> None:
    by_id = Maybe.query().order_by(Maybe.c.id)
    largest, smallest = by_id.pluck(func.max(Maybe.c.n, 5)), by_id.pluck(func.min(Maybe.c.n, 5))
    if maybes.dialect == "postgres":
        assert (largest, smallest) == ([5, 5, 5], [2, 5, 1])
    else:
        assert (largest, smallest) == ([5, None, 5], [2, None, 1])


def test_random(maybes: Database) -> None:
    value = Maybe.query().select(func.random()).limit(1).scalar()
    if maybes.dialect == "sqlite":
        assert isinstance(value, int) and -(2**63) <= value < 2**63
    else:
        assert isinstance(value, float) and 0 <= value < 1


def test_readme_links_the_table() -> None:
    assert "docs/engine-differences.md" in (DOC.parents[1] / "README.md").read_text()
