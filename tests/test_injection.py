"""Values never enter SQL text; identifiers are always quoted."""

from __future__ import annotations

import base64
import contextlib
import io
import json

import pytest
from helpers import Reserved, User

from activeq import (
    ActiveqError,
    ActiveRecord,
    CompileError,
    ConfigurationError,
    Database,
    Field,
    InvalidNameError,
    MultipleStatementsError,
    OperationalError,
    ValidationError,
    func,
    many_to_many,
)
from activeq.ast import Func
from activeq.cli import main as cli_main
from activeq.engines import open_engine
from activeq.monitor import explain_plan
from activeq.pragmas import check_pragmas

U = User.c

NASTY = [
    "O'Brien",
    'say "hi"',
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "back\\slash",
    "percent % and ?",
    "Zoë 日本語 😀🚀",
    "\u202eRTL",
    "",
    "line\nbreak\ttab",
    "nul\x00inside",
]


@pytest.mark.parametrize("value", NASTY)
def test_values_round_trip_through_insert_where_update(db, value):
    user = User.create(name=value, email=f"{len(value)}-{value}@x")
    assert User.find_one(U.name == value).id == user.id
    assert User.query().where(U.name.is_in([value, "other"])).count() == 1
    assert User.query().where(U.name.like(value)).count() >= 0  # a pattern, never SQL
    sql, params = User.query().where(U.name == value).to_sql()
    assert value == "" or value not in sql
    assert params == [value]
    assert User.query().where(U.id == user.id).update({"status": value}) == 1
    loaded = User.find_by_id(user.id)
    assert (loaded.name, loaded.status) == (value, value)
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(1,)]
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'users'").fetchall()


def test_drop_table_payload_in_every_position(db):
    payload = "'; DROP TABLE users; --"
    User.create(name=payload, email=payload)
    User.query().where(U.email == payload).update({"name": payload + "2"})
    User.query().where(U.name != payload).order_by(U.id).limit(5).all()
    assert User.query().select(U.name).where(U.email.ilike(payload)).pluck("name") == [
        payload + "2"
    ]
    assert User.query().where(U.name == payload + "2").delete() == 1
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(0,)]


def test_alias_with_quotes_is_quoted():
    sql, _ = User.query().select(U.name.as_('we"ird')).to_sql()
    assert sql == 'SELECT "users"."name" AS "we""ird" FROM "users"'
    sql, _ = User.query().select(U.name.as_("we`ird")).to_sql("mysql")
    assert sql == "SELECT `users`.`name` AS `we``ird` FROM `users`"


def test_reserved_table_and_column_names_end_to_end(db):
    db.bind(Reserved)
    db.create_tables(Reserved)
    row = Reserved.create(group="admins", select=1)
    Reserved.create(group="users", select=2)
    assert Reserved.find_by_id(row.id).group == "admins"
    assert Reserved.query().where(Reserved.c.group == "users").one().select == 2
    assert Reserved.query().order_by(Reserved.c.group.desc()).pluck("group") == ["users", "admins"]
    assert Reserved.query().select(Reserved.c.group).group_by(Reserved.c.group).count() == 2
    row.group = "staff"
    row.save()
    assert (
        Reserved.query().where(Reserved.c.select > 1).update({"select": Reserved.c.select + 10})
        == 1
    )
    assert Reserved.query().order_by(Reserved.c.id).tuples() == [
        (row.id, "staff", 1),
        (2, "users", 12),
    ]
    assert row.delete() == 1
    assert Reserved.query().count() == 1
    assert db.execute('SELECT "group" FROM "order"').fetchall() == [("users",)]


# Names: every caller-given string that reaches SQL text is quoted or refused ------------------
ATTACK = "abs(1) from t; drop table victims; select abs"
HOSTILE = 'x"); DROP TABLE victims; --'


class Measure(ActiveRecord):
    __table_name__ = "t"
    id: int = Field(primary_key=True)
    v: int


@pytest.fixture
def victims_db(tmp_path):
    """A real file with a table ``victims`` (one row) that no test may lose."""
    database = Database(str(tmp_path / "victims.db"))
    database.execute("CREATE TABLE victims (x)")
    database.execute("INSERT INTO victims VALUES (1)")
    database.bind(Measure)
    database.create_tables(Measure)
    Measure.create(v=-3)
    yield database
    database.close()


def _victims_survive(database: Database) -> None:
    assert database.execute("SELECT x FROM victims").fetchall() == [(1,)]


def test_function_name_with_sql_is_refused_when_the_expression_is_built(victims_db):
    with pytest.raises(CompileError, match="a function name must be an identifier") as info:
        getattr(func, ATTACK)(Measure.c.v)
    assert isinstance(info.value, InvalidNameError)
    with pytest.raises(CompileError):
        Func(ATTACK, (Measure.c.v,))
    _victims_survive(victims_db)
    # Before this check the same expression rendered, and ran, the DROP TABLE.
    assert Measure.query().select(func.abs(Measure.c.v).as_("a")).tuples() == [(3,)]
    _victims_survive(victims_db)


@pytest.mark.parametrize("name", ["abs(1)", "a b", "", "1abc", "x;y", "fn.", ".fn", "a..b",
                                  '"q"', "lower--", "é"])
def test_function_names_must_be_identifiers_optionally_dotted(name):
    with pytest.raises(InvalidNameError):
        getattr(func, name)


def test_dotted_function_name_renders_schema_qualified():
    call = getattr(func, "pg_catalog.lower")(User.c.name)
    assert call.name == "PG_CATALOG.LOWER"
    assert User.query().select(call).to_sql("postgres") == (
        'SELECT PG_CATALOG.LOWER("users"."name") FROM "users"', [])


def test_pragma_value_with_sql_is_refused_before_the_file_is_opened(tmp_path, victims_db):
    path = victims_db.path
    victims_db.close()
    bad = [
        {"cache_size": "-2000; DROP TABLE victims"},
        {"journal_mode": "wal; DROP TABLE victims"},
        {"cache_size; DROP TABLE victims": 1},
        {"busy_timeout": 1.5},
    ]
    for pragmas in bad:
        with pytest.raises(ConfigurationError):
            Database(path, pragmas=pragmas)
    fresh = tmp_path / "never-created.db"
    with pytest.raises(ConfigurationError, match="pragma cache_size takes an integer"):
        Database(str(fresh), pragmas={"cache_size": "-2000; DROP TABLE t"})
    assert not fresh.exists()
    again = Database(path)
    _victims_survive(again)
    again.close()


@pytest.mark.parametrize(("pragmas", "message"), [
    ({"journal_mode": "fast"}, "pragma journal_mode takes one of delete, memory, off, persist, "
                               "truncate, wal, not 'fast'"),
    ({"synchronous": 7}, "pragma synchronous takes one of extra, full, normal, off, 0, 1, 2, 3, "
                         "not 7"),
    ({"temp_store": "ram"}, "pragma temp_store takes one of default, file, memory, 0, 1, 2, "
                            "not 'ram'"),
    ({"foreign_keys": "maybe"}, "pragma foreign_keys takes a boolean (on, off, true, false, yes, "
                                "no, 1, 0), not 'maybe'"),
    ({"some_future_pragma": "fancy"}, "pragma some_future_pragma is not one activeq knows the "
                                      "values of: it takes an integer or a boolean word"),
    ({"x y": 1}, "pragma name must be an identifier (optionally schema.name), not 'x y'"),
])
def test_pragma_names_and_values_are_checked(tmp_path, pragmas, message):
    with pytest.raises(ConfigurationError) as info:
        Database(str(tmp_path / "p.db"), pragmas=pragmas)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_pragma_words_and_numbers_reach_the_connection(tmp_path):
    database = Database(str(tmp_path / "p.db"), pragmas={
        "journal_mode": "DELETE", "synchronous": "full", "temp_store": "file",
        "foreign_keys": "no", "cache_size": "-4000", "automatic_index": False,
    })
    read = {name: database.execute(f"PRAGMA {name}").fetchall()[0][0]
            for name in ("journal_mode", "synchronous", "temp_store", "foreign_keys",
                         "cache_size", "automatic_index")}
    assert read == {"journal_mode": "delete", "synchronous": 2, "temp_store": 1,
                    "foreign_keys": 0, "cache_size": -4000, "automatic_index": 0}
    database.close()
    assert check_pragmas({"some_future_pragma": 5, "other_one": "ON"}) == {
        "some_future_pragma": 5, "other_one": "on"}


def test_execute_refuses_a_second_statement_before_running_either(victims_db):
    with pytest.raises(MultipleStatementsError) as info:
        victims_db.execute("SELECT 1; DROP TABLE victims")
    assert str(info.value) == (
        "db.execute() runs one statement, and this SQL holds another after 'SELECT 1;': "
        "'DROP TABLE victims'; run scripts with db.executescript(sql)")
    with pytest.raises(MultipleStatementsError):
        victims_db.execute("INSERT INTO victims VALUES (?); DELETE FROM victims", (2,))
    with pytest.raises(MultipleStatementsError):
        victims_db.execute("-- lead\nINSERT INTO victims VALUES (3);\n/* c */ DELETE FROM victims")
    _victims_survive(victims_db)


@pytest.mark.parametrize("sql", [
    "SELECT x FROM victims;",
    "SELECT x FROM victims ;  -- a trailing comment",
    "SELECT x FROM victims; /* a comment */ ;; \n",
    "/* a leading comment */ SELECT x FROM victims /* unterminated",
    "-- a leading comment\nSELECT x FROM victims",
])
def test_execute_accepts_one_statement_with_trailing_semicolons_and_comments(victims_db, sql):
    assert victims_db.execute(sql).fetchall() == [(1,)]


def test_semicolons_inside_one_statement_are_not_a_second_statement(victims_db):
    assert victims_db.execute("SELECT ';' || x FROM victims").fetchall() == [(";1",)]
    victims_db.execute("CREATE TRIGGER keep AFTER INSERT ON victims BEGIN "
                       "UPDATE victims SET x = x + 1 WHERE rowid = new.rowid; END;")
    victims_db.execute("INSERT INTO victims VALUES (10)")
    assert victims_db.execute("SELECT x FROM victims ORDER BY x").fetchall() == [(1,), (11,)]


def test_explain_paths_refuse_a_second_statement(victims_db, tmp_path):
    with pytest.raises(MultipleStatementsError):
        victims_db.explain("SELECT 1; DROP TABLE victims")
    with pytest.raises(MultipleStatementsError):
        explain_plan(victims_db, "SELECT 1; DROP TABLE victims", record=False)
    victims_db.close()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli_main(["explain", victims_db.path, "SELECT 1; DROP TABLE victims"],
                        io.StringIO())
    assert code == 1
    assert "runs one statement" in err.getvalue()
    again = Database(victims_db.path)
    _victims_survive(again)
    again.close()


def test_executescript_runs_a_script_on_purpose(victims_db):
    victims_db.executescript("""
        CREATE TABLE log (msg TEXT);  -- one
        INSERT INTO log VALUES ('a;b');
        INSERT INTO log VALUES ('c');
    """)
    assert victims_db.execute("SELECT msg FROM log ORDER BY msg").fetchall() == [("a;b",), ("c",)]
    with pytest.raises(OperationalError, match="no such table: nowhere"):
        victims_db.executescript("INSERT INTO log VALUES ('d'); INSERT INTO nowhere VALUES (1);")
    # A script is not one transaction by itself: what ran before the failure stays.
    assert victims_db.execute("SELECT count(*) FROM log").fetchall() == [(3,)]
    with pytest.raises(OperationalError):
        with victims_db.transaction():
            victims_db.executescript("INSERT INTO log VALUES ('e'); INSERT INTO nowhere VALUES (1)")
    assert victims_db.execute("SELECT count(*) FROM log").fetchall() == [(3,)]


def test_executescript_drops_cached_results(victims_db):
    q = Measure.query().cache()
    assert [m.v for m in q.all()] == [-3]
    victims_db.executescript("UPDATE t SET v = 5; INSERT INTO victims VALUES (2);")
    assert [m.v for m in q.all()] == [5]


class Hostile(ActiveRecord):
    __table_name__ = HOSTILE
    id: int = Field(primary_key=True)
    label: str = Field(column=HOSTILE, index=True)
    rank: int = Field(default=0, column='r"; DELETE FROM victims; --')


def test_hostile_table_and_column_names_become_weird_names_not_statements(victims_db):
    victims_db.bind(Hostile)
    victims_db.create_tables(Hostile)
    names = {r[0] for r in victims_db.execute("SELECT name FROM sqlite_master").fetchall()}
    assert {HOSTILE, f"idx_{HOSTILE}_{HOSTILE}"} <= names
    columns = [r[1] for r in victims_db.execute(
        "SELECT * FROM pragma_table_info(?)", (HOSTILE,)).fetchall()]
    assert columns == ["id", HOSTILE, 'r"; DELETE FROM victims; --']
    row = Hostile.create(label="a", rank=1)
    Hostile.insert_many([{"label": "b", "rank": 2}, {"label": "c", "rank": 3}])
    assert Hostile.find_by_id(row.id).label == "a"
    q = Hostile.query().where(Hostile.c.rank > 1)
    assert q.order_by("-label").pluck("label") == ["c", "b"]
    assert q.select("label", "rank").order_by("rank").tuples() == [("b", 2), ("c", 3)]
    assert q.group_by("label").select("label").count() == 2
    assert Hostile.query().where(label="b").update({"rank": 20}) == 1
    assert Hostile.update_many([{"id": row.id, "label": "z"}]) == 1
    row.rank = 7
    row.save()
    assert Hostile.query().order_by("id").tuples() == [(1, "z", 7), (2, "b", 20), (3, "c", 3)]
    assert Hostile.query().where(Hostile.c.label == "c").delete() == 1
    victims_db.drop_tables(Hostile)
    _victims_survive(victims_db)


class Spiky(ActiveRecord):
    # No spaces in the table name: plan lines name tables by their first word.
    __table_name__ = 'sp"ky;--'
    id: int = Field(primary_key=True)
    rank: int = Field(default=0, column='r"; DELETE FROM victims; --')


def test_index_advice_quotes_hostile_names(victims_db):
    victims_db.bind(Spiky)
    victims_db.create_tables(Spiky)
    Spiky.insert_many([{"rank": i} for i in range(20)])
    victims_db.reset_stats()
    Spiky.query().where(Spiky.c.rank == 3).all()
    (suggestion,) = victims_db.suggest_indexes()
    assert (suggestion.table, suggestion.columns) == (
        'sp"ky;--', ('r"; DELETE FROM victims; --',))
    assert suggestion.sql == (
        'CREATE INDEX "idx_sp""ky;--_r""; DELETE FROM victims; --" '
        'ON "sp""ky;--" ("r""; DELETE FROM victims; --")')
    victims_db.execute(suggestion.sql)
    assert Spiky.query().where(Spiky.c.rank == 3).explain().uses_index
    _victims_survive(victims_db)


@pytest.mark.parametrize("ddl", [
    "TEXT); DROP TABLE victims; --",
    "TEXT, evil INTEGER",
    "TEXT /* a comment */",
    "TEXT -- swallows the rest",
    "TEXT CHECK (length(name) > 0",
    "TEXT)",
    "",
])
def test_mapping_ddl_must_describe_one_column(ddl):
    with pytest.raises(CompileError, match=r"__mapping__\['name'\]"):
        class Mapped(ActiveRecord):
            __table_name__ = "mapped"
            __mapping__ = {"name": ddl}
            id: int = Field(primary_key=True)
            name: str


def test_mapping_ddl_with_brackets_and_quoted_semicolons_is_kept(victims_db):
    class Mapped(ActiveRecord):
        __table_name__ = "mapped"
        __mapping__ = {"name": "VARCHAR(20) NOT NULL DEFAULT 'a;b' CHECK (length(name) > 0)"}
        id: int = Field(primary_key=True)
        name: str

    victims_db.bind(Mapped)
    victims_db.create_tables(Mapped)
    victims_db.execute("INSERT INTO mapped (id) VALUES (1)")
    assert victims_db.execute("SELECT name FROM mapped").fetchall() == [("a;b",)]
    _victims_survive(victims_db)


@pytest.mark.parametrize("build", [
    lambda: User.query().select(HOSTILE),
    lambda: User.query().order_by(HOSTILE),
    lambda: User.query().order_by("-" + HOSTILE),
    lambda: User.query().group_by(HOSTILE),
    lambda: User.query().where(**{HOSTILE: 1}),
    lambda: User.query().pluck(HOSTILE),
    lambda: User.query().includes(HOSTILE),
    lambda: User.query().includes({HOSTILE: True}),
    lambda: User.query().where(User.c.id == 1).update({HOSTILE: 1}),
    lambda: User.insert_many([{"name": "n", "email": "e", HOSTILE: 1}]),
    lambda: User.create(name="n", email="e", **{HOSTILE: 1}),
    lambda: User.query().chunks(10, by=HOSTILE),
])
def test_names_given_as_strings_must_name_a_known_column_or_relation(db, build):
    with pytest.raises(ActiveqError):
        build()
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(0,)]


def test_a_tampered_paging_cursor_is_bound_as_values(db):
    for i in range(3):
        User.create(name=f"u{i}", email=f"u{i}@x")
    payload = {"k": ["users.id"], "v": ["0) OR 1=1; DROP TABLE users; --"]}
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    # A value of the wrong type for the key column is refused before any SQL runs.
    with pytest.raises(ValidationError, match="User.id is an integer: cannot compare it with"):
        User.query().cursor_page(5, after=cursor)
    textual = base64.urlsafe_b64encode(json.dumps(
        {"k": ["users.name", "users.id"], "v": ["u0') OR 1=1; DROP TABLE users; --", 0]}
    ).encode()).decode()
    page = User.query().order_by(User.c.name).cursor_page(5, after=textual)
    # Compared as a value: only names sorting after that text follow it.
    assert [u.name for u in page.items] == ["u1", "u2"]
    forged = base64.urlsafe_b64encode(json.dumps(
        {"k": ['users.id"; DROP TABLE users; --'], "v": [0]}).encode()).decode()
    with pytest.raises(ValidationError, match="made for another ordering"):
        User.query().cursor_page(5, after=forged)
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(3,)]


class Shelf(ActiveRecord):
    __table_name__ = "shelves"
    id: int = Field(primary_key=True)
    name: str = "shelf"
    tags = many_to_many("Sticker", through='links"); DROP TABLE victims; --',
                        foreign_key="shelf_id", other_key="sticker_id")


class Sticker(ActiveRecord):
    __table_name__ = "stickers"
    id: int = Field(primary_key=True)
    label: str


def test_a_join_table_given_by_a_hostile_name_is_quoted(victims_db):
    victims_db.bind(Shelf, Sticker)
    links = Shelf.tags.through_model()
    victims_db.bind(links)
    victims_db.create_tables(Shelf, Sticker, links)
    shelf = Shelf.create()
    for label in ("a", "b"):
        links.create(shelf_id=shelf.id, sticker_id=Sticker.create(label=label).id)
    assert [s.label for s in Shelf.query().includes("tags").one().tags] == ["a", "b"]
    assert [s.label for s in Shelf.find_by_id(shelf.id).tags] == ["a", "b"]
    _victims_survive(victims_db)


def test_the_sqlite_engine_checks_pragmas_and_runs_one_statement(victims_db):
    url = f"sqlite:///{victims_db.path}"
    with pytest.raises(ConfigurationError, match="pragma cache_size takes an integer"):
        open_engine(url, pragmas={"cache_size": "-2000; DROP TABLE victims"})
    engine = open_engine(url)
    conn = engine.connect()
    try:
        with pytest.raises(MultipleStatementsError):
            conn.execute("SELECT 1; DROP TABLE victims")
        with pytest.raises(MultipleStatementsError):
            conn.explain("SELECT 1; DROP TABLE victims")
        assert conn.execute("SELECT x FROM victims; -- done").rows == [(1,)]
        cte_update = "WITH v AS (SELECT 1) UPDATE victims SET x = x WHERE x IN (SELECT * FROM v)"
        assert conn.execute(cte_update).rowcount == 1
        assert conn.execute("WITH v AS (SELECT 1) SELECT * FROM v").rowcount == -1
    finally:
        conn.close()
        engine.close()
    _victims_survive(victims_db)


def test_cte_subquery_alias_and_output_names_are_quoted(db):
    User.create(name="a", email="a@x", age=3)
    ids = User.query().select(User.c.id)
    sql, _ = ids.cte(HOSTILE).query().to_sql()
    assert sql == ('WITH "x""); DROP TABLE victims; --" AS (SELECT "users"."id" FROM "users") '
                   'SELECT "x""); DROP TABLE victims; --"."id" FROM "x""); DROP TABLE victims; --"')
    assert ids.cte(HOSTILE).query().tuples() == [(1,)]
    assert ids.subquery(HOSTILE).query().tuples() == [(1,)]
    other = User.alias(HOSTILE)
    assert User.query().join(other, User.c.id == other.c.id).pluck("id") == [1]
    ages = User.query().select(User.c.age.as_(HOSTILE)).group_by(HOSTILE).order_by("-" + HOSTILE)
    assert ages.dicts() == [{HOSTILE: 3}]
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(1,)]


class _TextInt(int):
    """An int whose str() is SQL: PostgreSQL's text holds the LIMIT count."""

    def __str__(self) -> str:
        return "1; DROP TABLE users --"

    __repr__ = __str__
    __format__ = lambda self, spec: str(self)  # noqa: E731


def test_an_int_subclass_as_limit_is_written_as_its_number():
    q = User.query().select("id").limit(_TextInt(3))
    assert q.to_sql("postgres") == ('SELECT "users"."id" FROM "users" LIMIT 3', [])
    sql, params = q.to_sql("sqlite")
    assert sql.endswith("LIMIT ?") and params == [3]
