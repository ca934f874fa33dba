"""Operators by type: text concatenation, escaped LIKE helpers, date arithmetic, date parts, JSON
paths and exact decimal arithmetic, each rendered per dialect and run on SQLite and DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activeq import ActiveRecord, Database, Field, ValidationError, extract, func
from activeq.compiler import compiler
from activeq.ddl import create_table_statements
from activeq.query import Insert

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Note(ActiveRecord):
    __table_name__ = "op_notes"
    id: int = Field(primary_key=True)
    title: str = ""
    day: dt.date = dt.date(2024, 1, 1)
    at: dt.datetime = dt.datetime(2024, 1, 1)
    stamp: pydantic.AwareDatetime | None = None
    took: dt.timedelta = dt.timedelta(0)
    price: Decimal = Field(default=Decimal("0"), max_digits=12, decimal_places=2)
    meta: dict[str, Any] = Field(default_factory=dict)


N = Note.c


@pytest.fixture
def db(tmp_path: Any) -> Any:
    database = Database(str(tmp_path / "ops.db"))
    database.bind(Note)
    database.create_tables(Note)
    yield database
    database.close()


def _duck() -> Any:
    con = duckdb.connect()
    for sql in create_table_statements(Note, "duckdb"):
        con.execute(sql)
    return con


def _duck_insert(con: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        full = Note(**row).model_dump(exclude={"id"})
        names = tuple(full)
        entry, _ = compiler.compile(Insert(Note, names), "duckdb")
        con.execute(entry.sql, entry.values([full[n] for n in names]))


def _duck_rows(con: Any, query: Any) -> list[tuple[Any, ...]]:
    """Rows of ``query`` run on DuckDB, converted as tuples() converts them."""
    entry, _ = compiler.compile(query, "duckdb")
    return entry.convert_rows(con.execute(entry.sql, entry.values(query.params)).fetchall())


# --- text --------------------------------------------------------------------------------------

def test_plus_on_text_concatenates_in_every_dialect(db: Any) -> None:
    q = Note.query().select((N.title + " Jr").as_("full"), ("Mr " + N.title).as_("mr"))
    assert q.to_sql("sqlite") == (
        'SELECT "op_notes"."title" || ? AS "full", ? || "op_notes"."title" AS "mr" FROM "op_notes"',
        [" Jr", "Mr "])
    assert q.to_sql("postgres")[0] == (
        'SELECT "op_notes"."title" || %s AS "full", %s || "op_notes"."title" AS "mr" FROM "op_notes"')
    assert q.to_sql("mysql")[0] == (
        "SELECT CONCAT(`op_notes`.`title`, %s) AS `full`, CONCAT(%s, `op_notes`.`title`) AS `mr` "
        "FROM `op_notes`")
    Note.create(title="Ann")
    assert q.dicts() == [{"full": "Ann Jr", "mr": "Mr Ann"}]
    Note.query().update({"title": N.title + "!"}, all_rows=True)
    assert Note.query().pluck("title") == ["Ann!"]
    con = _duck()
    _duck_insert(con, [{"title": "Bo"}])
    assert _duck_rows(con, q) == [("Bo Jr", "Mr Bo")]


def test_text_takes_no_arithmetic_and_only_text_to_concatenate() -> None:
    with pytest.raises(ValidationError, match=r"Note\.title is text: cannot compare it with 1"):
        N.title + 1  # noqa: B018
    with pytest.raises(ValidationError, match=r"Note\.title \(str\) takes no '-' operator"):
        N.title - "x"  # noqa: B018


HAYSTACKS = ["50% off", "50 off", "a_b", "axb", "wow!", "wo", "100%", "_start", "end_"]


@pytest.mark.parametrize(("method", "needle", "want"), [
    ("contains", "%", ["50% off", "100%"]),
    ("contains", "_", ["a_b", "_start", "end_"]),
    ("contains", "!", ["wow!"]),
    ("startswith", "_", ["_start"]),
    ("endswith", "_", ["end_"]),
    ("endswith", "%", ["100%"]),
    ("startswith", "50%", ["50% off"]),
])
def test_like_helpers_take_percent_underscore_and_escape_literally(db: Any, method: str, needle: str,
                                                                   want: list[str]) -> None:
    Note.insert_many([{"title": h} for h in HAYSTACKS])
    cond = getattr(N.title, method)(needle)
    q = Note.query().select(N.title).where(cond).order_by(N.id)
    sql, params = q.to_sql()
    assert sql.endswith(""" WHERE "op_notes"."title" LIKE ? ESCAPE '!' ORDER BY "op_notes"."id\"""")
    assert [r[0] for r in q.tuples()] == want
    con = _duck()
    _duck_insert(con, [{"title": h} for h in HAYSTACKS])
    assert [r[0] for r in _duck_rows(con, q)] == want
    assert q.to_sql("postgres")[0].endswith("LIKE %s ESCAPE '!' ORDER BY \"op_notes\".\"id\"")


@SETTINGS
@given(hays=st.lists(st.text(alphabet="ab%_!\\x", max_size=6), min_size=1, max_size=6),
       needle=st.text(alphabet="ab%_!\\", max_size=3))
def test_like_helpers_agree_with_python_str_methods(hays: list[str], needle: str) -> None:
    db = Database(":memory:")
    db.bind(Note)
    db.create_tables(Note)
    Note.insert_many([{"title": h} for h in hays])
    con = _duck()
    _duck_insert(con, [{"title": h} for h in hays])
    for method, test in (("contains", lambda h: needle in h), ("startswith", str.startswith),
                         ("endswith", str.endswith)):
        q = Note.query().select(func.count()).where(getattr(N.title, method)(needle))
        want = sum(1 for h in hays if (test(h) if method == "contains" else test(h, needle)))
        assert q.scalar() == want, (method, needle, hays)
        assert _duck_rows(con, q) == [(want,)]
    db.close()
    con.close()


def test_like_helpers_refuse_a_non_text_argument_or_column() -> None:
    with pytest.raises(ValidationError, match=r"contains\(\) takes a str, not int"):
        N.title.contains(5)
    with pytest.raises(ValidationError, match=r"startswith\(\) needs a text column"):
        N.price.startswith("1")


# --- date arithmetic -------------------------------------------------------------------------

datetimes = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))
deltas = st.timedeltas(min_value=dt.timedelta(days=-2000), max_value=dt.timedelta(days=2000))


def test_date_arithmetic_sql_per_dialect() -> None:
    q = Note.query().select((N.day + dt.timedelta(days=90)).as_("d"))
    assert q.to_sql("sqlite") == (
        'SELECT DATE("op_notes"."day", ((? - (((? % 86400000000) + 86400000000) % 86400000000))'
        ' / 86400000000) || \' days\') AS "d" FROM "op_notes"', [7776000000000] * 2)
    assert q.to_sql("duckdb") == (
        'SELECT CAST("op_notes"."day" + ? AS DATE) AS "d" FROM "op_notes"', [dt.timedelta(days=90)])
    assert q.to_sql("postgres")[0] == 'SELECT CAST("op_notes"."day" + %s AS DATE) AS "d" FROM "op_notes"'
    at = Note.query().select((N.at - dt.timedelta(hours=1)).as_("t"))
    assert at.to_sql("duckdb") == ('SELECT "op_notes"."at" - ? AS "t" FROM "op_notes"',
                                   [dt.timedelta(hours=1)])
    assert at.to_sql("mysql") == (
        "SELECT DATE_ADD(`op_notes`.`at`, INTERVAL (%s) MICROSECOND) AS `t` FROM `op_notes`",
        [-3600000000])
    sql, params = at.to_sql("sqlite")
    assert sql.startswith("SELECT STRFTIME('%Y-%m-%d %H:%M:%S', SUBSTR(\"op_notes\".\"at\", 1, 19)")
    assert params == [-3600000000] * 3


@SETTINGS
@given(rows=st.lists(st.tuples(datetimes, deltas), min_size=1, max_size=5), shift=deltas)
def test_date_and_datetime_plus_minus_timedelta_match_python(rows: list[Any], shift: dt.timedelta) -> None:
    db = Database(":memory:")
    db.bind(Note)
    db.create_tables(Note)
    data = [{"at": at, "day": at.date(), "took": took,
             "stamp": at.replace(tzinfo=dt.timezone(dt.timedelta(hours=3)))} for at, took in rows]
    Note.insert_many(data)
    con = _duck()
    _duck_insert(con, data)
    q = Note.query().select(N.at + shift, N.at - shift, N.day + shift, N.day - shift,
                            N.at + N.took, N.stamp + shift).order_by(N.id)
    want = [(d["at"] + shift, d["at"] - shift, d["day"] + shift, d["day"] - shift,
             d["at"] + d["took"], d["stamp"] + shift) for d in data]
    assert q.tuples() == want
    assert _duck_rows(con, q) == want
    # A shifted column compares with stored values and bound ones.
    pivot = data[0]["at"]
    where = Note.query().select(func.count()).where(N.at + shift > pivot)
    count = sum(1 for d in data if d["at"] + shift > pivot)
    assert where.scalar() == count
    assert _duck_rows(con, where) == [(count,)]
    Note.query().update({"at": N.at + shift, "day": N.day - shift}, all_rows=True)
    assert [(n.at, n.day) for n in Note.query().order_by(N.id).all()] == [
        (d["at"] + shift, d["day"] - shift) for d in data]
    db.close()
    con.close()


def test_date_arithmetic_takes_only_a_timedelta() -> None:
    with pytest.raises(ValidationError, match=r"Note\.at is a datetime: \+ takes a timedelta, not 5"):
        N.at + 5  # noqa: B018
    with pytest.raises(ValidationError, match="only a timedelta can be subtracted"):
        dt.timedelta(days=1) - N.day  # noqa: B018
    with pytest.raises(ValidationError, match=r"Note\.day \(date\) takes no '\*' operator"):
        N.day * 2  # noqa: B018


# --- date parts ----------------------------------------------------------------------------------

PARTS = ("year", "month", "day", "hour", "minute", "second", "dow")


def _part(value: dt.datetime, part: str) -> int:
    if part == "dow":
        return (value.weekday() + 1) % 7  # Sunday = 0
    return getattr(value, part)  # type: ignore[no-any-return]


@SETTINGS
@given(moments=st.lists(st.datetimes(min_value=dt.datetime(1, 1, 1),
                                     max_value=dt.datetime(9999, 12, 31)), min_size=1, max_size=5))
def test_extract_every_part_matches_python_with_sunday_zero(moments: list[dt.datetime]) -> None:
    db = Database(":memory:")
    db.bind(Note)
    db.create_tables(Note)
    data = [{"at": m, "day": m.date()} for m in moments]
    Note.insert_many(data)
    con = _duck()
    _duck_insert(con, data)
    q = Note.query().select(*[extract(p, N.at) for p in PARTS],
                            extract("dow", N.day), extract("year", N.day)).order_by(N.id)
    want = [tuple(_part(m, p) for p in PARTS) + (_part(m, "dow"), m.year) for m in moments]
    assert q.tuples() == want
    assert _duck_rows(con, q) == want
    db.close()
    con.close()


def test_extract_reads_aware_values_in_utc_and_renders_per_dialect(db: Any) -> None:
    Note.create(stamp=dt.datetime(2024, 3, 2, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))))
    q = Note.query().select(extract("hour", N.stamp), extract("day", N.stamp), extract("dow", N.stamp))
    assert q.tuples() == [(20, 1, 5)]  # 2024-03-01 20:30 UTC, a Friday
    con = _duck()
    _duck_insert(con, [{"stamp": dt.datetime(2024, 3, 2, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5)))}])
    assert _duck_rows(con, q) == [(20, 1, 5)]
    one = Note.query().select(extract("dow", N.at), extract("second", N.stamp))
    assert one.to_sql("postgres")[0] == (
        'SELECT CAST(EXTRACT(DOW FROM "op_notes"."at") AS INT), '
        'CAST(FLOOR(EXTRACT(SECOND FROM "op_notes"."stamp" AT TIME ZONE \'UTC\')) AS INT) FROM "op_notes"')
    assert one.to_sql("mysql")[0] == (
        "SELECT DAYOFWEEK(`op_notes`.`at`) - 1, SECOND(`op_notes`.`stamp`) FROM `op_notes`")
    assert one.to_sql("sqlite")[0] == (
        'SELECT CAST(STRFTIME(\'%w\', "op_notes"."at") AS INTEGER), '
        'CAST(STRFTIME(\'%S\', "op_notes"."stamp") AS INTEGER) FROM "op_notes"')


def test_extract_refuses_parts_a_type_does_not_have() -> None:
    with pytest.raises(ValidationError, match="extract\\('hour'\\) does not apply"):
        extract("hour", N.day)
    with pytest.raises(ValidationError, match="does not apply"):
        extract("year", N.title)
    with pytest.raises(ValidationError, match="extract\\(\\) takes one of year, month"):
        extract("week", N.at)


# --- JSON paths ---------------------------------------------------------------------------------

def test_json_path_sql_per_dialect() -> None:
    q = Note.query().select(N.id).where(N.meta["a"]["b"] == 3).order_by(N.meta["a"]["b"])
    assert q.to_sql("sqlite") == (
        'SELECT "op_notes"."id" FROM "op_notes" WHERE CASE WHEN JSON_TYPE("op_notes"."meta", ?) '
        'IN (\'integer\', \'real\') THEN JSON_EXTRACT("op_notes"."meta", ?) END = ? '
        'ORDER BY JSON_EXTRACT("op_notes"."meta", ?)', ['$."a"."b"'] * 2 + [3, '$."a"."b"'])
    assert q.to_sql("postgres") == (
        'SELECT "op_notes"."id" FROM "op_notes" WHERE "op_notes"."meta" #> %s = CAST(%s AS JSONB) '
        'ORDER BY NULLIF("op_notes"."meta" #> %s, CAST(\'null\' AS JSONB))', [["a", "b"], "3", ["a", "b"]])
    # DuckDB reads the path as a number only where the JSON value is one ("3" is text there too),
    # and sorts numbers by value before text, as SQLite's json_extract does.
    number = ("CASE WHEN JSON_TYPE(\"op_notes\".\"meta\", ?) IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
              "THEN CAST(JSON_EXTRACT_STRING(\"op_notes\".\"meta\", ?) AS DOUBLE) END")
    integer = ("CASE WHEN JSON_TYPE(\"op_notes\".\"meta\", ?) IN ('BIGINT', 'UBIGINT') "
               "THEN CAST(JSON_EXTRACT_STRING(\"op_notes\".\"meta\", ?) AS INT128) END")
    text = ("CASE WHEN JSON_TYPE(\"op_notes\".\"meta\", ?) IN ('VARCHAR') "
            "THEN JSON_EXTRACT_STRING(\"op_notes\".\"meta\", ?) END")
    assert q.to_sql("duckdb") == (
        f'SELECT "op_notes"."id" FROM "op_notes" WHERE {number} = ? ORDER BY {number}, {integer}, {text}',
        ['$."a"."b"'] * 2 + [3] + ['$."a"."b"'] * 6)
    assert q.to_sql("mysql")[0] == (
        "SELECT `op_notes`.`id` FROM `op_notes` WHERE JSON_EXTRACT(`op_notes`.`meta`, %s) = %s "
        "ORDER BY NULLIF(JSON_EXTRACT(`op_notes`.`meta`, %s), CAST('null' AS JSON))")


def test_json_paths_compare_by_kind_and_reach_into_arrays(db: Any) -> None:
    docs = [{"a": {"b": 3}, "tags": ["x", "y"], 'q"k': True, "d": {"z": 1}},
            {"a": {"b": 10}, "tags": ["y"], 'q"k': False, "d": {"z": 2}},
            {"a": {"b": "3"}, "tags": [], "d": None}]
    Note.insert_many([{"meta": d} for d in docs])
    con = _duck()
    _duck_insert(con, [{"meta": d} for d in docs])

    def ids(cond: Any) -> list[int]:
        q = Note.query().select(N.id).where(cond).order_by(N.id)
        got = [r[0] for r in q.tuples()]
        assert [r[0] for r in _duck_rows(con, q)] == got
        return got

    assert ids(N.meta["a"]["b"] == 3) == [1]
    assert ids(N.meta["a"]["b"] == "3") == [3]
    assert ids(N.meta["a"]["b"] > 4) == [2]  # the string "3" is not compared with numbers
    assert ids(N.meta["a"]["b"] < "4") == [3]
    assert ids(N.meta["tags"].at(0) == "y") == [2]
    assert ids(N.meta["tags", 1] == "y") == [1]
    assert ids(N.meta['q"k'] == True) == [1]  # noqa: E712
    assert ids(N.meta["d"] == {"z": 2}) == [2]
    assert ids(N.meta["d"] == None) == [3]  # noqa: E711 - JSON null and a missing key alike
    assert ids(N.meta == docs[1]) == [2]
    with pytest.raises(ValidationError, match="a JSON path step is a str key or an int index"):
        N.meta[1.5]


# --- exact decimals --------------------------------------------------------------------------------

def test_decimal_arithmetic_stays_exact(db: Any) -> None:
    made = Note.create(price=Decimal("9999999999.99"))
    Note.query().where(N.id == made.id).update({"price": N.price - Decimal("0.01")})
    assert Note.find_by_id(made.id).price == Decimal("9999999999.98")
    q = Note.query().select((N.price + Decimal("0.02")).as_("p"), (N.price * 3).as_("t"))
    assert q.dicts() == [{"p": Decimal("10000000000.00"), "t": Decimal("29999999999.94")}]
    con = _duck()
    _duck_insert(con, [{"price": Decimal("9999999999.98")}])
    assert _duck_rows(con, q) == [(Decimal("10000000000.00"), Decimal("29999999999.94"))]


def test_decimal_arithmetic_refuses_what_is_not_exact() -> None:
    with pytest.raises(ValidationError, match=r"Note\.price is an exact Decimal: '/' has no exact result"):
        N.price / 2  # noqa: B018
    with pytest.raises(ValidationError, match="multiply it by an integer only"):
        N.price * Decimal("1.5")  # noqa: B018
    with pytest.raises(ValidationError, match=r"Note\.price has 2 decimal places: 0\.001 has more"):
        N.price + Decimal("0.001")  # noqa: B018
