"""includes(): every form costs one query per relation per level and equals lazy loading."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from activeq import (
    ActiveRecord,
    CompileError,
    Database,
    Field,
    belongs_to,
    has_many,
    has_one,
    many_to_many,
)


class Publisher(ActiveRecord):
    __table_name__ = "publishers"
    id: int = Field(primary_key=True)
    name: str
    authors = has_many("Writer", foreign_key="publisher_id")


class Writer(ActiveRecord):
    __table_name__ = "writers"
    id: int = Field(primary_key=True)
    publisher_id: int | None = None
    name: str
    books = has_many("Title", foreign_key="writer_id", order_by="id")
    publisher = belongs_to("Publisher", foreign_key="publisher_id")
    bio = has_one("Bio", foreign_key="writer_id")


class Title(ActiveRecord):
    __table_name__ = "titles"
    id: int = Field(primary_key=True)
    writer_id: int | None = None
    name: str
    year: int = 2000
    reviews = has_many("Review", foreign_key="title_id", order_by="id")
    writer = belongs_to("Writer", foreign_key="writer_id")
    genres = many_to_many("Genre", through="title_genres", foreign_key="title_id",
                          other_key="genre_id", order_by="id")


class Review(ActiveRecord):
    __table_name__ = "reviews"
    id: int = Field(primary_key=True)
    title_id: int
    stars: int


class Bio(ActiveRecord):
    __table_name__ = "bios"
    id: int = Field(primary_key=True)
    writer_id: int
    text: str


class Genre(ActiveRecord):
    __table_name__ = "genres"
    id: int = Field(primary_key=True)
    name: str
    titles = many_to_many("Title", through="title_genres", order_by="id")


MODELS = (Publisher, Writer, Title, Review, Bio, Genre)
JOIN_TABLE = "CREATE TABLE title_genres (title_id INTEGER, genre_id INTEGER)"


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    database = Database(str(tmp_path / "inc.db"))
    database.bind(*MODELS)
    database.create_tables(*MODELS)
    database.execute(JOIN_TABLE)
    yield database
    database.close()


def insert(db: Database, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    with db.connection:
        db.connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


@pytest.fixture
def catalog(db: Database) -> None:
    """2 publishers; 5 writers (one without publisher, one without books); titles, reviews,
    genres and bios with gaps at every level."""
    insert(db, "publishers", "id, name", [(1, "North"), (2, "South"), (3, "Empty")])
    insert(db, "writers", "id, publisher_id, name",
           [(1, 1, "Ann"), (2, 1, "Bob"), (3, 2, "Cid"), (4, None, "Dee"), (5, 2, "Eve")])
    insert(db, "titles", "id, writer_id, name, year",
           [(1, 1, "A1", 1990), (2, 1, "A2", 2001), (3, 1, "A3", 2010), (4, 2, "B1", 2005),
            (5, 3, "C1", 1985), (6, None, "Anon", 1900), (7, 4, "D1", 2020)])
    insert(db, "reviews", "id, title_id, stars",
           [(1, 1, 5), (2, 1, 2), (3, 2, 4), (4, 4, 1), (5, 5, 5), (6, 5, 3), (7, 7, 4)])
    insert(db, "genres", "id, name", [(1, "poetry"), (2, "crime"), (3, "unused")])
    insert(db, "title_genres", "title_id, genre_id", [(1, 1), (1, 2), (2, 2), (5, 1), (7, 2)])
    insert(db, "bios", "id, writer_id, text", [(1, 1, "ann's"), (2, 3, "cid's")])


def tree(obj: Any, spec: dict[str, Any]) -> Any:
    """Field values plus the given relations, recursively (reading relations as attributes)."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [tree(o, spec) for o in obj]
    return (obj.model_dump(), {name: tree(getattr(obj, name), sub) for name, sub in spec.items()})


def eager_equals_lazy(db: Database, query: Any, lazy_query: Any, spec: dict[str, Any],
                      queries: int) -> Any:
    """Run the eager query, check its query count, and compare with lazy loading."""
    with db.track_queries() as t:
        eager = query.all()
    assert len(t) == queries, [q.sql for q in t.queries]
    with db.track_queries() as t:
        eager_tree = tree(eager, spec)
    assert len(t) == 0, "reading eager-loaded relations ran queries"
    lazy_tree = tree(lazy_query.all(), spec)
    assert eager_tree == lazy_tree
    return eager_tree


# forms -------------------------------------------------------------------------------------

def test_single_relation(db: Database, catalog) -> None:
    q = Writer.query().order_by(Writer.c.id)
    result = eager_equals_lazy(db, q.includes("books"), q, {"books": {}}, 2)
    assert [[b[0]["name"] for b in w[1]["books"]] for w in result] == [
        ["A1", "A2", "A3"], ["B1"], ["C1"], ["D1"], []]


def test_child_query_binds_parent_keys_as_one_array(db: Database, catalog) -> None:
    with db.track_queries() as t:
        Writer.query().order_by(Writer.c.id).includes("books").all()
    child = t.queries[1]
    assert child.sql == (
        'SELECT "titles"."id", "titles"."writer_id", "titles"."name", "titles"."year" '
        'FROM "titles" WHERE "titles"."writer_id" IN (SELECT "value" FROM JSON_EACH(?)) '
        'ORDER BY "titles"."id"'
    )
    assert [json.loads(p) for p in child.params] == [[1, 2, 3, 4, 5]]


def test_several_relations(db: Database, catalog) -> None:
    q = Title.query().order_by(Title.c.id)
    spec = {"reviews": {}, "writer": {}, "genres": {}}
    eager_equals_lazy(db, q.includes("reviews", "writer", "genres"), q, spec, 4)


def test_has_one(db: Database, catalog) -> None:
    q = Writer.query().order_by(Writer.c.id)
    result = eager_equals_lazy(db, q.includes("bio"), q, {"bio": {}}, 2)
    assert [w[1]["bio"] and w[1]["bio"][0]["text"] for w in result] == [
        "ann's", None, "cid's", None, None]


def test_dict_with_refinement_filters_only_its_level(db: Database, catalog) -> None:
    q = Writer.query().order_by(Writer.c.id)
    eager = q.includes({"books": lambda b: b.where(Title.c.year >= 2000)})
    with db.track_queries() as t:
        writers = eager.all()
    assert len(t) == 2
    assert len(writers) == 5
    assert [[b.name for b in w.books] for w in writers] == [["A2", "A3"], ["B1"], [], ["D1"], []]
    # The same refinement on a lazy load gives the same lists.
    lazy = [Title.query().where(Title.c.writer_id == w.id, Title.c.year >= 2000)
            .order_by(Title.c.id).all() for w in q.all()]
    assert [w.books for w in writers] == lazy


def test_refinement_order_and_limit_apply_per_parent(db: Database, catalog) -> None:
    def latest_two(q: Any) -> Any:
        return q.order_by(Title.c.year.desc()).limit(2)

    writers = Writer.query().order_by(Writer.c.id).includes({"books": latest_two}).all()
    assert [[b.name for b in w.books] for w in writers] == [["A3", "A2"], ["B1"], ["C1"], ["D1"], []]
    # One parent: the limit stays in SQL and the result is the same.
    ann = Writer.query().where(Writer.c.id == 1).includes({"books": latest_two}).one()
    assert [b.name for b in ann.books] == ["A3", "A2"]
    skipped = Writer.query().order_by(Writer.c.id).includes(
        {"books": lambda q: q.order_by(Title.c.year).offset(1)}).all()
    assert [[b.name for b in w.books] for w in skipped] == [["A2", "A3"], [], [], [], []]


def test_nested_dict(db: Database, catalog) -> None:
    q = Writer.query().order_by(Writer.c.id)
    spec = {"books": {"reviews": {}, "genres": {}}}
    eager_equals_lazy(db, q.includes({"books": {"reviews": True, "genres": True}}), q, spec, 4)


def test_dotted_paths(db: Database, catalog) -> None:
    q = Publisher.query().order_by(Publisher.c.id)
    spec = {"authors": {"books": {"reviews": {}}}}
    eager_equals_lazy(db, q.includes("authors.books.reviews"), q, spec, 4)


def test_three_nested_levels_count_one_query_per_level(db: Database, catalog) -> None:
    q = Publisher.query().order_by(Publisher.c.id)
    spec = {"authors": {"books": {"reviews": {}, "genres": {}}, "bio": {}}}
    eager = q.includes({"authors": {"books": {"reviews": True, "genres": True}, "bio": True}})
    result = eager_equals_lazy(db, eager, q, spec, 1 + 5)
    north = result[0][1]["authors"]
    assert [r[0]["stars"] for r in north[0][1]["books"][0][1]["reviews"]] == [5, 2]


def test_filter_on_a_nested_level(db: Database, catalog) -> None:
    good = {"reviews": lambda r: r.where(Review.c.stars >= 4)}
    for form in ({"books": good}, {"books.reviews": good["reviews"]}):
        with db.track_queries() as t:
            writers = Writer.query().order_by(Writer.c.id).includes(form).all()
        assert len(t) == 3
        # Every book is there; only the reviews are filtered.
        assert [[b.name for b in w.books] for w in writers] == [
            ["A1", "A2", "A3"], ["B1"], ["C1"], ["D1"], []]
        assert [[[r.stars for r in b.reviews] for b in w.books] for w in writers] == [
            [[5], [4], []], [[]], [[5]], [[4]], []]


def test_filter_on_the_outer_level_with_nested_includes(db: Database, catalog) -> None:
    with db.track_queries() as t:
        writers = Writer.query().order_by(Writer.c.id).includes(
            {"books": lambda q: q.where(Title.c.year < 2000), "books.reviews": True}).all()
    assert len(t) == 3
    assert [[(b.name, [r.stars for r in b.reviews]) for b in w.books] for w in writers] == [
        [("A1", [5, 2])], [], [("C1", [5, 3])], [], []]


def test_repeated_includes_calls_merge(db: Database, catalog) -> None:
    q = (Writer.query().order_by(Writer.c.id).includes("books")
         .includes("books.reviews").includes({"books": lambda b: b.where(Title.c.year > 2000)}))
    with db.track_queries() as t:
        writers = q.all()
    assert len(t) == 3
    assert [[b.name for b in w.books] for w in writers] == [["A2", "A3"], ["B1"], [], ["D1"], []]


def test_many_to_many_both_directions(db: Database, catalog) -> None:
    q = Title.query().order_by(Title.c.id)
    result = eager_equals_lazy(db, q.includes("genres"), q, {"genres": {}}, 2)
    assert [[g[0]["name"] for g in t[1]["genres"]] for t in result] == [
        ["poetry", "crime"], ["crime"], [], [], ["poetry"], [], ["crime"]]
    g = Genre.query().order_by(Genre.c.id)
    result = eager_equals_lazy(db, g.includes("titles"), g, {"titles": {}}, 2)
    assert [[t[0]["name"] for t in x[1]["titles"]] for x in result] == [
        ["A1", "C1"], ["A1", "A2", "D1"], []]


def test_belongs_to_with_null_foreign_keys(db: Database, catalog) -> None:
    q = Title.query().order_by(Title.c.id)
    result = eager_equals_lazy(db, q.includes("writer"), q, {"writer": {}}, 2)
    assert [t[1]["writer"] and t[1]["writer"][0]["name"] for t in result] == [
        "Ann", "Ann", "Ann", "Bob", "Cid", None, "Dee"]
    # Only NULL keys: nothing to look up, so no second query.
    anon = Title.query().where(Title.c.writer_id == None)  # noqa: E711
    with db.track_queries() as t:
        titles = anon.includes("writer").all()
    assert len(t) == 1
    assert [x.writer for x in titles] == [None]


def test_belongs_to_shares_one_instance_per_key(db: Database, catalog) -> None:
    titles = Title.query().where(Title.c.writer_id == 1).includes("writer").all()
    assert titles[0].writer is titles[1].writer is titles[2].writer


def test_no_parents(db: Database, catalog) -> None:
    q = Writer.query().where(Writer.c.name == "nobody")
    with db.track_queries() as t:
        assert q.includes("books.reviews", "bio").all() == []
    assert len(t) == 1


def test_parents_without_children(db: Database, catalog) -> None:
    # Eve has no books: the books query runs, and the empty level needs no reviews query.
    q = Writer.query().where(Writer.c.name == "Eve")
    result = eager_equals_lazy(db, q.includes("books.reviews"), q, {"books": {"reviews": {}}}, 2)
    assert result[0][1] == {"books": []}
    # Publisher "Empty" has no authors at all.
    p = Publisher.query().where(Publisher.c.name == "Empty")
    result = eager_equals_lazy(db, p.includes("authors.books"), p, {"authors": {"books": {}}}, 2)
    assert result[0][1] == {"authors": []}


def test_two_thousand_parents_in_one_child_query(db: Database) -> None:
    insert(db, "writers", "id, name", [(i, f"w{i}") for i in range(1, 2001)])
    titles = [(i, f"t{i}-{k}") for i in range(1, 2001) for k in range(i % 3)]
    insert(db, "titles", "writer_id, name", titles)
    q = Writer.query().order_by(Writer.c.id)
    with db.track_queries() as t:
        writers = q.includes("books").all()
    assert len(t) == 2
    assert len(writers) == 2000
    child = t.queries[1]
    assert len(child.params) == 1
    assert json.loads(child.params[0]) == list(range(1, 2001))
    assert child.rows == len(titles)
    assert sum(len(w.books) for w in writers) == len(titles)
    lazy = q.all()
    with db.track_queries() as t:
        assert [[b.name for b in w.books] for w in writers] == [[b.name for b in w.books] for w in lazy]
    assert len(t) == 2000


def test_first_and_iter_load_includes(db: Database, catalog) -> None:
    with db.track_queries() as t:
        ann = Writer.query().order_by(Writer.c.id).includes("books").first()
    assert len(t) == 2
    assert [b.name for b in ann.books] == ["A1", "A2", "A3"]
    streamed = list(Writer.query().order_by(Writer.c.id).includes("books").iter(batch=2))
    assert [[b.name for b in w.books] for w in streamed] == [
        ["A1", "A2", "A3"], ["B1"], ["C1"], ["D1"], []]


def test_partial_select_of_children_keeps_the_key(db: Database, catalog) -> None:
    writers = Writer.query().order_by(Writer.c.id).includes(
        {"books": lambda q: q.select("id", "name")}).all()
    assert [[b.name for b in w.books] for w in writers][0] == ["A1", "A2", "A3"]
    # Only the selected fields are loaded, plus the key the rows are grouped by.
    assert set(writers[0].books[0].__dict__) == {"id", "name", "writer_id"}


# errors -----------------------------------------------------------------------------------

def test_unknown_relation_raises_when_the_query_is_built(db: Database) -> None:
    with pytest.raises(CompileError) as err:
        Writer.query().includes("book")
    assert str(err.value) == (
        "Writer has no relation 'book'; did you mean 'books'? "
        "relations of Writer: bio, books, publisher"
    )
    with pytest.raises(CompileError, match="Title has no relation 'revues'"):
        Writer.query().includes("books.revues")
    with pytest.raises(CompileError, match="Title has no relation 'nope'"):
        Writer.query().includes({"books": {"nope": True}})
    with pytest.raises(CompileError, match="relations of Review: \\(none declared\\)"):
        Title.query().includes("reviews.x")


def test_bad_include_arguments(db: Database) -> None:
    with pytest.raises(CompileError, match="empty relation name"):
        Writer.query().includes("")
    with pytest.raises(CompileError, match="empty relation name in 'books.'"):
        Writer.query().includes("books.")
    with pytest.raises(CompileError, match="takes relation names, dotted paths or dicts"):
        Writer.query().includes(42)
    with pytest.raises(CompileError, match="takes True, a function refining the query"):
        Writer.query().includes({"books": 3})


def test_refinement_must_return_a_query_of_the_target(db: Database, catalog) -> None:
    with pytest.raises(CompileError, match="must return a query of Title"):
        Writer.query().includes({"books": lambda q: None}).all()
    with pytest.raises(CompileError, match="may select only Title columns"):
        Writer.query().includes({"books": lambda q: q.select(Title.c.id.as_("x"))}).all()


def test_includes_needs_the_parent_key_selected(db: Database, catalog) -> None:
    with pytest.raises(CompileError, match="loading Writer.books needs Writer.id: add it to select"):
        Writer.query().select("name").includes("books").all()
    writers = Writer.query().select("id", "name").order_by(Writer.c.id).includes("books").all()
    assert [len(w.books) for w in writers] == [3, 1, 1, 1, 0]
