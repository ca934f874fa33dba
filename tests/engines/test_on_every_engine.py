"""The engine-neutral behaviour of activeq through its public API, on SQLite (a file), DuckDB
(in-process) and a real PostgreSQL 15 server: relations and N+1 detection, batches, upsert and
returning, paging and chunks, caches, monitoring and plans."""

from __future__ import annotations

import pytest

from activeq import ActiveRecord, Database, Field, belongs_to, has_many, many_to_many
from activeq.nplusone import NPlusOneError


class Author(ActiveRecord):
    __table_name__ = "authors"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=40, unique=True)
    born: int = 1900
    books = has_many("Book", foreign_key="author_id")


class Book(ActiveRecord):
    __table_name__ = "books"
    id: int = Field(primary_key=True)
    author_id: int = Field(index=True)
    title: str = Field(max_length=80)
    pages: int = 100
    author = belongs_to("Author", foreign_key="author_id")


@pytest.fixture
def library(database: Database) -> Database:
    """Three authors; the first has two books, the second one, the third none."""
    database.bind(Author, Book)
    database.create_tables(Author, Book)
    ann = Author.create(name="Ann", born=1950)
    bob = Author.create(name="Bob", born=1960)
    Author.create(name="Cid", born=1970)
    Book.create(author_id=ann.id, title="A1", pages=120)
    Book.create(author_id=ann.id, title="A2", pages=300)
    Book.create(author_id=bob.id, title="B1", pages=80)
    return database


def test_includes_loads_children_in_one_more_query(library: Database) -> None:
    with library.track_queries() as t:
        authors = Author.query().includes("books").order_by(Author.c.id).all()
        titles = {a.name: sorted(b.title for b in a.books) for a in authors}
    assert titles == {"Ann": ["A1", "A2"], "Bob": ["B1"], "Cid": []}
    assert len(t) == 2
    with library.track_queries() as t:
        books = Book.query().includes("author").order_by(Book.c.title).all()
        owners = [(b.title, b.author.name) for b in books]
    assert owners == [("A1", "Ann"), ("A2", "Ann"), ("B1", "Bob")]
    assert len(t) == 2


def test_lazy_loop_is_reported_as_n_plus_one(library: Database) -> None:
    authors = Author.query().order_by(Author.c.id).all()
    with library.track_queries() as t, pytest.raises(NPlusOneError) as info:
        with library.detect_n_plus_one(mode="raise", threshold=2):
            for author in authors:
                list(author.books)
    assert len(t) == 3
    assert info.value.report.count == 3
    assert "Author.query().includes('books')" in info.value.report.suggestion


def test_where_order_limit_offset_and_aggregates(library: Database) -> None:
    long_books = Book.query().where(Book.c.pages >= 100).order_by(Book.c.pages.desc())
    assert [b.title for b in long_books.all()] == ["A2", "A1"]
    assert [b.title for b in Book.query().order_by(Book.c.title).limit(2).offset(1).all()] \
        == ["A2", "B1"]
    assert Book.query().where(Book.c.title.like("A%")).count() == 2
    assert Book.query().where(Book.c.author_id.is_in([1, 2])).count() == 3
    assert Author.query().where(Author.c.name == "Bob").one().born == 1960
    assert sorted(Book.query().pluck("pages")) == [80, 120, 300]


def test_insert_many_large_batch_returns_every_id_in_order(database: Database) -> None:
    database.bind(Author)
    database.create_tables(Author)
    rows = [{"name": f"w{i:05d}", "born": 1900 + i % 100} for i in range(3000)]
    with database.track_queries() as t:
        ids = Author.insert_many(rows, returning=True)
    assert len(ids) == 3000 and len(set(ids)) == 3000
    statements = [q for q in t.queries if not q.sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT"))]
    assert len(statements) < 3000  # batched: never one statement per row
    by_id = dict(database.execute("SELECT id, name FROM authors").fetchall())
    assert [by_id[i] for i in ids] == [r["name"] for r in rows]
    assert Author.insert_many([{"name": "x1"}, {"name": "x2"}]) == 2
    assert Author.query().count() == 3002


def test_upsert_and_ignore_on_conflict(library: Database) -> None:
    changed = Author.insert_many(
        [{"name": "Ann", "born": 1951}, {"name": "Dee", "born": 1980}],
        on_conflict="update", conflict_columns=["name"], update_columns=["born"])
    assert changed == 2
    borns = {a.name: a.born for a in Author.query().all()}
    assert borns == {"Ann": 1951, "Bob": 1960, "Cid": 1970, "Dee": 1980}
    Author.insert_many([{"name": "Bob", "born": 1}], on_conflict="ignore")
    assert Author.query().where(Author.c.name == "Bob").one().born == 1960
    assert Author.query().count() == 4


def test_update_and_delete_returning(library: Database) -> None:
    rows = (Book.query().where(Book.c.pages < 200)
            .returning(Book.c.title, Book.c.pages).update({"pages": Book.c.pages + 1}))
    assert sorted(tuple(r) for r in rows) == [("A1", 121), ("B1", 81)]
    gone = Book.query().where(Book.c.title == "A2").returning(Book.c.id).delete()
    assert len(list(gone)) == 1
    assert Book.query().count() == 2


def test_paginate_and_keyset_pages_and_chunks(library: Database) -> None:
    Book.insert_many([{"author_id": 3, "title": f"C{i:02d}", "pages": i} for i in range(20)])
    page = Book.query().order_by(Book.c.id).paginate(page=2, per_page=5)
    assert [b.title for b in page.items] == ["C02", "C03", "C04", "C05", "C06"]
    assert page.total == 23
    titles = []
    cursor = None
    while True:
        keyset = Book.query().cursor_page(7, after=cursor)
        titles += [b.title for b in keyset.items]
        cursor = keyset.next_cursor
        if cursor is None:
            break
    assert titles == ["A1", "A2", "B1"] + [f"C{i:02d}" for i in range(20)]
    sizes = [len(chunk) for chunk in Book.query().order_by(Book.c.id).chunks(10)]
    assert sizes == [10, 10, 3]


def test_result_cache_hits_and_is_invalidated_by_writes(library: Database) -> None:
    query = Book.query().where(Book.c.author_id == 1).order_by(Book.c.title).cache()
    assert [b.title for b in query.all()] == ["A1", "A2"]
    with library.track_queries() as t:
        assert [b.title for b in query.all()] == ["A1", "A2"]
    assert len(t) == 0
    Book.create(author_id=1, title="A3")
    with library.track_queries() as t:
        assert [b.title for b in query.all()] == ["A1", "A2", "A3"]
    assert len(t) == 1
    library.execute("DELETE FROM books WHERE title = 'A1'")
    assert [b.title for b in query.all()] == ["A2", "A3"]


def test_model_cache_and_its_invalidation(library: Database) -> None:
    library.enable_cache(Author)
    Author.find_by_id(1)
    with library.track_queries() as t:
        assert Author.find_by_id(1).name == "Ann"
    assert len(t) == 0
    Author.query().where(Author.c.id == 1).update({"born": 1949})
    assert Author.find_by_id(1).born == 1949
    library.execute("UPDATE authors SET born = 1948 WHERE id = 1")
    assert Author.find_by_id(1).born == 1948


def test_timings_statistics_and_slow_queries(library: Database) -> None:
    library.reset_stats()
    for author_id in (1, 2, 3):
        Book.query().where(Book.c.author_id == author_id).all()
    (shape,) = [s for s in library.stats() if "books" in s.sql]
    assert shape.count == 3
    assert shape.total_ms >= 0
    with library.track_queries() as t:
        Author.find_by_id(2)
    (timing,) = t.queries
    assert "authors" in timing.sql and timing.duration_ms >= 0
    slow = library.slow_queries(threshold_ms=0)
    assert any("books" in s.sql for s in slow)


def test_explain_finds_full_scans_and_indexes(library: Database) -> None:
    Book.insert_many([{"author_id": 3, "title": f"C{i}", "pages": i} for i in range(500)])
    if library.dialect != "sqlite":
        library.execute("ANALYZE")
    scan = Book.query().where(Book.c.pages == 7).explain()
    assert scan.full_scans == ["books"]
    assert scan.indexes == []
    if library.dialect == "duckdb":
        pytest.skip("DuckDB answers point filters with a scan and zone maps, not the index")
    library.execute("CREATE INDEX ix_books_pages ON books (pages)")
    if library.dialect == "postgres":
        library.execute("ANALYZE")
    indexed = Book.query().where(Book.c.pages == 7).explain()
    assert indexed.full_scans == []
    assert indexed.indexes == ["ix_books_pages"]


def test_a_deleted_record_saved_again_is_inserted_with_its_key(library: Database) -> None:
    cid = Author.query().where(Author.c.name == "Cid").one()
    key = cid.id
    assert cid.delete() == 1
    cid.born = 1999
    with library.track_queries() as t:
        assert cid.save() == 1
    assert [q.sql.split()[0] for q in t.queries] == ["INSERT"]
    again = Author.find_by_id(key)
    assert (again.name, again.born) == ("Cid", 1999)
    assert Author.query().count() == 3


class Tag(ActiveRecord):
    __table_name__ = "tags"
    id: int = Field(primary_key=True)
    label: str
    books = many_to_many("Book", through="book_tags", foreign_key="tag_id", other_key="book_id")


def test_many_to_many_through_a_table_name_loads_on_every_engine(library: Database) -> None:
    # The join table is named, not declared: its columns take the types of the keys they hold.
    library.bind(Tag)
    join_model = Tag.__aq__.relations["books"].through_model()
    library.bind(join_model)
    library.create_tables(Tag, join_model)
    books = {b.title: b.id for b in Book.query().all()}
    red, blue = Tag.create(label="red"), Tag.create(label="blue")
    join_model.insert_many([{"tag_id": red.id, "book_id": books["A1"]},
                            {"tag_id": red.id, "book_id": books["B1"]},
                            {"tag_id": blue.id, "book_id": books["A2"]}])
    with library.track_queries() as t:
        tags = Tag.query().includes("books").order_by(Tag.c.id).all()
    assert [(tag.label, sorted(b.title for b in tag.books)) for tag in tags] == [
        ("red", ["A1", "B1"]), ("blue", ["A2"])]
    assert len(t) == 2
    assert sorted(b.title for b in Tag.find_by_id(blue.id).books) == ["A2"]
