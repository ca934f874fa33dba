"""Reflection: tables and models read back from SQLite, DuckDB and PostgreSQL catalogs.

Each round trip creates tables from models, reflects them, and compares: the reflected
Table's DDL with the model's, its Python types, keys, indexes and foreign keys, and the rows
the reflected models read with the rows the original models wrote.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
import uuid
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from activeq import (
    ActiveRecord,
    Column,
    Database,
    Field,
    SchemaError,
    Table,
    belongs_to,
    func,
    has_many,
)
from activeq.cli import main
from activeq.ddl import create_table_statements
from activeq.reflection import python_type
from activeq.registry import resolve_model


class Author(ActiveRecord):
    __table_name__ = "r_authors"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=40, unique=True)
    born: dt.date | None = None
    books = has_many("Book", foreign_key="author_id")


class Book(ActiveRecord):
    __table_name__ = "r_books"
    __indexes__ = (("author_id", "title"),)
    __unique__ = (("title", "edition"),)
    id: int = Field(primary_key=True)
    title: str = Field(index=True)
    edition: int
    author_id: int
    price: Decimal = Field(max_digits=8, decimal_places=2)
    meta: dict[str, Any]
    weight: float | None = None
    stamped: pydantic.AwareDatetime | None = None
    day: dt.datetime
    ref: uuid.UUID | None = None
    blob: bytes | None = None
    ok: bool
    author = belongs_to("Author", foreign_key="author_id", on_delete="restrict")


TAGS = Table("r_tags", Column("book_id", int, primary_key=True, foreign_key="r_books.id"),
             Column("tag", str, primary_key=True), Column("weight", int | None))

REF = uuid.UUID("0c2b6a4e-3f1d-4d7e-9d1a-7f6f7c1e2a3b")


def _pg_url(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(conninfo)
    return f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "reflect.db")
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'reflect.duckdb'}"
    return _pg_url(request.getfixturevalue("pg_conninfo"))


def _fill(db: Database) -> None:
    db.bind(Author, Book, TAGS)
    db.create_tables(Author, Book, TAGS)
    ann = Author.create(name="Ann", born=dt.date(1950, 3, 1))
    bob = Author.create(name="Bob")
    Book.insert_many([
        {"title": "One", "edition": 1, "author_id": ann.id, "price": Decimal("12.50"),
         "meta": {"pages": 100}, "weight": 0.5, "day": dt.datetime(2024, 1, 2, 3, 4, 5),
         "stamped": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "ref": REF,
         "blob": b"\x00\x01", "ok": True},
        {"title": "Two", "edition": 2, "author_id": ann.id, "price": Decimal("3.10"),
         "meta": {}, "day": dt.datetime(2024, 2, 1), "ok": False},
        {"title": "Three", "edition": 1, "author_id": bob.id, "price": Decimal("7.00"),
         "meta": {"a": [1]}, "day": dt.datetime(2024, 3, 1), "ok": True},
    ])
    from activeq import insert

    insert(TAGS).values({"book_id": 1, "tag": "sf", "weight": 3},
                        {"book_id": 1, "tag": "old", "weight": None},
                        {"book_id": 3, "tag": "sf", "weight": 1}).execute()


# What each engine declares, read back (SQLite keeps the declared storage type only).
EXPECTED_TYPES = {
    "sqlite": {"id": int, "title": str, "edition": int, "author_id": int, "price": int,
               "meta": str, "weight": float | None, "stamped": dt.datetime | None,
               "day": dt.datetime, "ref": str | None, "blob": bytes | None, "ok": bool},
    "duckdb": {"id": int, "title": str, "edition": int, "author_id": int, "price": Decimal,
               "meta": dict, "weight": float | None, "stamped": pydantic.AwareDatetime | None,
               "day": dt.datetime, "ref": uuid.UUID | None, "blob": bytes | None, "ok": bool},
}
EXPECTED_TYPES["postgres"] = EXPECTED_TYPES["duckdb"]


def test_reflect_round_trip(url):
    db = Database(url)
    _fill(db)
    dialect = db.dialect
    books = db.reflect("r_books")
    assert {c.name: c.type for c in books.columns} == EXPECTED_TYPES[dialect]
    assert books.primary_key == ("id",)
    assert sorted((ix.columns, ix.unique) for ix in books.indexes) == [
        (("author_id", "title"), False), (("title",), False), (("title", "edition"), True)]
    assert [(fk.column, fk.table, fk.target_column) for fk in books.foreign_keys] == [
        ("author_id", "r_authors", "id")]
    authors = db.reflect("r_authors")
    name = authors.columns[1]
    assert (name.unique, name.options) == (
        (True, {}) if dialect == "duckdb" else (True, {"max_length": 40}))
    tags = db.reflect("r_tags")
    assert tags.primary_key == ("book_id", "tag")
    # The reflected tables are what create_tables made: the same DDL, the same live shape.
    comparable = {"duckdb": (Book,), "sqlite": (Author, Book), "postgres": (Author, Book)}
    for model in comparable[dialect]:
        expected = create_table_statements(model, dialect)
        if dialect == "duckdb":
            # DuckDB's catalog keeps no foreign key action: its keys only ever refuse.
            expected = [sql.replace("ON DELETE RESTRICT", "ON DELETE NO ACTION") for sql in expected]
        assert create_table_statements(db.reflect(model.__table_name__), dialect) == expected
    assert create_table_statements(tags, dialect)[-1] == create_table_statements(TAGS, dialect)[-1]
    assert db.check_schema(books, authors, tags) == []
    # Rows read through the reflected table equal those the model reads.
    q = books.query().order_by(books.c.id)
    if dialect == "sqlite":
        assert [r.title for r in q.all()] == ["One", "Two", "Three"]
    else:
        assert [tuple(r) for r in q.all()] == [
            tuple(getattr(b, c.name) for c in books.columns)
            for b in Book.query().order_by(Book.c.id).all()]
    db.close()


def test_reflect_models_infers_relations_and_reads_rows(url):
    db = Database(url)
    _fill(db)
    models = db.reflect_models()
    assert sorted(models) == ["r_authors", "r_books", "r_tags"]
    RAuthor, RBook, RTag = models["r_authors"], models["r_books"], models["r_tags"]
    assert (RAuthor.__name__, RBook.__name__, RTag.__name__) == ("RAuthor", "RBook", "RTag")
    with db.track_queries() as t:
        authors = RAuthor.query().includes("r_books").order_by(RAuthor.c.id).all()
    assert len(t) == 2  # one query per level
    assert [(a.name, sorted(b.title for b in a.r_books)) for a in authors] == [
        ("Ann", ["One", "Two"]), ("Bob", ["Three"])]
    book = RBook.query().includes("author").where(RBook.c.title == "Three").one()
    assert book.author.name == "Bob"
    tagged = (RBook.query().join(RTag, RTag.c.book_id == RBook.c.id)
              .select(RBook.c.title, func.count().as_("n")).group_by(RBook.c.title)
              .order_by("title"))
    assert tagged.tuples() == [("One", 2), ("Three", 1)]
    assert [b.day for b in RBook.query().order_by(RBook.c.id).all()] == [
        b.day for b in Book.query().order_by(Book.c.id).all()]
    db.close()


def test_cli_prints_model_source_that_imports_and_runs(tmp_path):
    path = str(tmp_path / "cli.db")
    db = Database(path)
    _fill(db)
    db.close()
    out = io.StringIO()
    assert main(["reflect", path], out=out) == 0
    source = out.getvalue()
    assert "class RBook(ActiveRecord):" in source
    assert "    author = belongs_to('RAuthor', foreign_key='author_id', on_delete='restrict')" in source
    assert "    r_books = has_many('RBook', foreign_key='author_id')" in source
    assert "    __unique__ = (('title', 'edition',),)" in source
    namespace: dict[str, Any] = {"__name__": "reflected_by_cli"}
    exec(compile(source, "reflected.py", "exec", dont_inherit=True), namespace)
    again = Database(path)
    again.bind(namespace["RAuthor"], namespace["RBook"], namespace["RTag"])
    ann = namespace["RAuthor"].query().includes("r_books").where(name="Ann").one()
    assert sorted(b.title for b in ann.r_books) == ["One", "Two"]
    assert again.check_schema(namespace["RAuthor"], namespace["RBook"]) == []
    again.close()


def test_python_m_activeq_reflect_prints_an_importable_module(tmp_path, monkeypatch):
    path = str(tmp_path / "mod.db")
    db = Database(path)
    _fill(db)
    db.close()
    done = subprocess.run([sys.executable, "-m", "activeq", "reflect", path, "-t", "r_authors",
                           "-t", "r_books"], capture_output=True, text=True, check=True)
    (tmp_path / "shop_models.py").write_text(done.stdout)
    monkeypatch.syspath_prepend(str(tmp_path))
    shop = importlib.import_module("shop_models")
    again = Database(path)
    again.bind(shop.RAuthor, shop.RBook)
    assert [b.author.name for b in shop.RBook.query().includes("author").order_by("id").all()] == [
        "Ann", "Ann", "Bob"]
    again.close()


def test_cli_reflect_refuses_a_missing_file(tmp_path, capsys):
    assert main(["reflect", str(tmp_path / "none.db")]) == 1
    assert "error: no database file at" in capsys.readouterr().err


def test_reflecting_a_missing_table_names_it(tmp_path):
    db = Database(str(tmp_path / "x.db"))
    with pytest.raises(SchemaError, match="the database has no table 'nothing'"):
        db.reflect("nothing")
    db.close()


def test_awkward_column_names_become_attributes_that_keep_their_column(tmp_path):
    db = Database(str(tmp_path / "odd.db"))
    db.executescript('CREATE TABLE "odd things" (id INTEGER PRIMARY KEY, "class" TEXT NOT NULL, '
                     '"my col" INT, query TEXT, _hidden REAL);'
                     "INSERT INTO \"odd things\" VALUES (1, 'x', 2, 'q', 1.5);")
    t = db.reflect("odd things")
    assert [c.name for c in t.columns] == ["id", "class", "my col", "query", "_hidden"]
    row = t.query().first()
    assert (row["class"], row["my col"], row["_hidden"]) == ("x", 2, 1.5)
    (Odd,) = db.reflect_models().values()
    assert Odd.__name__ == "OddThing"
    odd = Odd.query().first()
    assert (odd.class_, odd.my_col, odd.query_, odd.hidden) == ("x", 2, "q", 1.5)
    db.close()


@pytest.mark.parametrize(("declared", "dialect", "expected"), [
    ("bigint", "postgres", (int, {})),
    ("character varying(20)", "postgres", (str, {"max_length": 20})),
    ("numeric(12,2)", "postgres", (Decimal, {"max_digits": 12, "decimal_places": 2})),
    ("numeric", "postgres", (float, {})),
    ("timestamp with time zone", "postgres", (pydantic.AwareDatetime, {})),
    ("interval", "postgres", (dt.timedelta, {})),
    ("jsonb", "postgres", (dict, {})),
    ("tsvector", "postgres", (str, {})),
    ("TIMESTAMP", "duckdb", (dt.datetime, {})),
    ("UUID", "duckdb", (uuid.UUID, {})),
    ("BLOB", "duckdb", (bytes, {})),
    ("VARCHAR(9)", "sqlite", (str, {"max_length": 9})),
    ("", "sqlite", (bytes, {})),
    ("MEDIUM CHARACTER STRING", "sqlite", (str, {})),
    ("BOOLEAN", "sqlite", (bool, {})),
])
def test_declared_types_map_to_python_types(declared, dialect, expected):
    assert python_type(declared, dialect) == expected


class ShelfCrate(ActiveRecord):
    __table_name__ = "shelf_crates"
    id: int = Field(primary_key=True)
    label: str


def test_reflected_models_leave_declared_names_to_declared_models(tmp_path):
    db = Database(str(tmp_path / "crates.db"))
    try:
        db.bind(ShelfCrate)
        db.create_tables(ShelfCrate)
        ShelfCrate.create(label="top")
        reflected = db.reflect_models()["shelf_crates"]
        assert reflected is not ShelfCrate and reflected.__name__ == "ShelfCrate"
        assert resolve_model("ShelfCrate") is ShelfCrate

        class ShelfLid(ActiveRecord):
            # Declared in another module than ShelfCrate: "ShelfCrate" resolves by its plain name.
            __module__ = "elsewhere.shelf_lids"
            __table_name__ = "shelf_lids"
            id: int = Field(primary_key=True)
            shelf_crate_id: int
            shelf_crate = belongs_to("ShelfCrate")

        assert ShelfLid.shelf_crate.target_model() is ShelfCrate
        # The reflected model still finds itself by its own module's name.
        assert resolve_model(f"{reflected.__module__}.ShelfCrate") is reflected
        assert [s.label for s in reflected.query().all()] == ["top"]
    finally:
        db.close()
