"""Result, instance and function caches: hits run no SQL, every write path invalidates."""

from __future__ import annotations

import apsw
import pytest
from helpers import Order, User

from activeq import ActiveqError, ActiveRecord, Database, Field, belongs_to, has_many
from activeq import cache as cache_module
from activeq.cache import CacheStats, MemoryCache
from activeq.invalidation import dml_tables


def names(query) -> list[str]:
    return [u.name for u in query.all()]


def active_users():
    return User.query().where(User.c.status == "active").order_by(User.c.id).cache(ttl=300)


def other_connection(db: Database) -> apsw.Connection:
    conn = apsw.Connection(db.path)
    conn.set_busy_timeout(5000)
    return conn


# query results ------------------------------------------------------------------------------
def test_hit_runs_no_sql_and_returns_equal_results(db, people):
    q = active_users()
    first = names(q)
    with db.track_queries() as t:
        second = names(q)
    assert first == second == ["Ann", "Cid"]
    assert len(t) == 0
    stats = db.cache_stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


def test_same_shape_other_values_is_another_entry(db, people):
    by_status = lambda s: User.query().where(User.c.status == s).cache()  # noqa: E731
    assert [u.name for u in by_status("active").all()] == ["Ann", "Cid"]
    assert [u.name for u in by_status("inactive").all()] == ["Bob"]
    assert db.cache_stats().misses == 2
    with db.track_queries() as t:
        assert [u.name for u in by_status("inactive").all()] == ["Bob"]
    assert len(t) == 0


def test_uncached_queries_are_not_stored(db, people):
    User.query().all()
    assert db.cache_stats() == CacheStats(0, 0, 0, 0)


def test_returned_models_are_never_shared(db, people):
    q = active_users()
    got = q.all()
    got[0].name = "changed"
    got.append("junk")
    again = q.all()
    assert [u.name for u in again] == ["Ann", "Cid"]
    assert again[0] is not got[0]
    rows = q.tuples()
    rows.clear()
    assert len(q.tuples()) == 2


def test_every_terminal_is_cached(db, people):
    q = User.query().where(User.c.age > 20).cache()
    results = (q.count(), q.exists(), q.pluck("name"), q.tuples(), q.dicts(), q.first().name)
    with db.track_queries() as t:
        again = (q.count(), q.exists(), q.pluck("name"), q.tuples(), q.dicts(), q.first().name)
    assert again == results
    assert results[0] == 2 and results[2] == ["Ann", "Bob"]
    assert len(t) == 0


def test_compiled_query_uses_the_cache(db, people):
    from activeq import BindParam

    stmt = User.query().where(User.c.email == BindParam("email")).cache().compile()
    assert [u.name for u in stmt.execute(email="bob@example.com")] == ["Bob"]
    with db.track_queries() as t:
        assert [u.name for u in stmt.execute(email="bob@example.com")] == ["Bob"]
    assert len(t) == 0
    User.query().where(User.c.name == "Bob").update({"name": "Rob"})
    assert [u.name for u in stmt.execute(email="bob@example.com")] == ["Rob"]


@pytest.mark.parametrize("write", [
    "create", "save", "delete", "insert_many", "query_update", "query_delete",
    "raw_insert", "raw_update", "raw_delete", "raw_replace",
])
def test_every_write_path_invalidates(db, people, write):
    ann = people[0]
    q = active_users()
    assert names(q) == ["Ann", "Cid"]
    if write == "create":
        User.create(name="Dee", email="dee@example.com")
        expected = ["Ann", "Cid", "Dee"]
    elif write == "save":
        ann.name = "Anna"
        ann.save()
        expected = ["Anna", "Cid"]
    elif write == "delete":
        ann.delete()
        expected = ["Cid"]
    elif write == "insert_many":
        User.insert_many([{"name": "Dee", "email": "dee@example.com"}])
        expected = ["Ann", "Cid", "Dee"]
    elif write == "query_update":
        User.query().where(User.c.name == "Bob").update({"status": "active"})
        expected = ["Ann", "Bob", "Cid"]
    elif write == "query_delete":
        User.query().where(User.c.name == "Cid").delete()
        expected = ["Ann"]
    elif write == "raw_insert":
        db.execute("INSERT INTO users (name, email, status) VALUES (?, ?, 'active')",
                   ("Dee", "dee@example.com"))
        expected = ["Ann", "Cid", "Dee"]
    elif write == "raw_update":
        db.execute("UPDATE users SET name = 'Anna' WHERE name = 'Ann'")
        expected = ["Anna", "Cid"]
    elif write == "raw_delete":
        db.execute('DELETE FROM "users" WHERE name = ?', ("Ann",))
        expected = ["Cid"]
    else:  # REPLACE is not parsed: everything is invalidated, which is still right
        db.execute("REPLACE INTO users (id, name, email, status) VALUES (?, 'Zed', 'z@x', 'active')",
                   (ann.id,))
        expected = ["Zed", "Cid"]
    assert names(q) == expected
    assert db.cache_stats().invalidations >= 1


def test_a_write_invalidates_only_its_tables(db, people):
    orders = Order.query().order_by(Order.c.id).cache()
    users = active_users()
    orders.all()
    users.all()
    User.query().where(User.c.name == "Ann").update({"age": 31})
    with db.track_queries() as t:
        assert len(orders.all()) == 3
    assert len(t) == 0
    with db.track_queries() as t:
        users.all()
    assert len(t) == 1


def test_join_results_depend_on_both_tables(db, people):
    q = (User.query().join(Order, User.c.id == Order.c.user_id)
         .select(User.c.name, Order.c.total).order_by(Order.c.id).cache())
    assert [(r.User.name, r.Order.total) for r in q.all()] == [
        ("Ann", 10.0), ("Ann", 25.5), ("Bob", 7.25)]
    Order.query().where(Order.c.total == 7.25).update({"total": 8.0})
    assert [r.Order.total for r in q.all()] == [10.0, 25.5, 8.0]


def test_commit_by_another_connection_invalidates(db, people):
    q = active_users()
    assert names(q) == ["Ann", "Cid"]
    other = other_connection(db)
    other.execute("UPDATE users SET name = 'Annie' WHERE name = 'Ann'")
    assert names(q) == ["Annie", "Cid"]
    other.execute("INSERT INTO users (name, email, status) VALUES ('Eve', 'e@x', 'active')")
    assert names(q) == ["Annie", "Cid", "Eve"]
    other.close()


def test_commit_by_another_database_object_invalidates(db, people):
    q = active_users()
    names(q)
    second = Database(db.path)
    second.execute("DELETE FROM users WHERE name = 'Cid'")
    second.close()
    assert names(q) == ["Ann"]


def test_own_commits_do_not_count_as_foreign(db, people):
    q = active_users()
    orders = Order.query().cache()
    names(q)
    orders.all()
    User.query().where(User.c.name == "Ann").update({"age": 33})
    with db.track_queries() as t:
        orders.all()
    assert len(t) == 0


# transactions -------------------------------------------------------------------------------
def test_writes_in_a_transaction_are_visible_inside_it(db, people):
    q = active_users()
    assert names(q) == ["Ann", "Cid"]
    with db.transaction():
        User.query().where(User.c.name == "Bob").update({"status": "active"})
        assert names(q) == ["Ann", "Bob", "Cid"]
        assert names(q) == ["Ann", "Bob", "Cid"]
    assert names(q) == ["Ann", "Bob", "Cid"]
    with db.track_queries() as t:
        assert names(q) == ["Ann", "Bob", "Cid"]
    assert len(t) == 0


def test_rollback_keeps_the_cache_consistent(db, people):
    q = active_users()
    assert names(q) == ["Ann", "Cid"]
    with pytest.raises(KeyError), db.transaction():
        User.create(name="Tmp", email="tmp@example.com")
        assert names(q) == ["Ann", "Cid", "Tmp"]
        raise KeyError("undo")
    with db.track_queries() as t:
        assert names(q) == ["Ann", "Cid"]
    assert len(t) == 0  # still the committed state: served from the cache


def test_untouched_tables_are_served_inside_a_transaction(db, people):
    orders = Order.query().cache()
    orders.all()
    with db.transaction():
        User.create(name="Dee", email="dee@example.com")
        with db.track_queries() as t:
            assert len(orders.all()) == 3
        assert len(t) == 0


def test_raw_begin_and_commit_are_handled(db, people):
    q = active_users()
    names(q)
    db.execute("BEGIN")
    db.execute("UPDATE users SET name = 'X' WHERE name = 'Ann'")
    assert names(q) == ["X", "Cid"]
    db.execute("COMMIT")
    assert names(q) == ["X", "Cid"]
    db.execute("BEGIN")
    db.execute("UPDATE users SET name = 'Y' WHERE name = 'X'")
    assert names(q) == ["Y", "Cid"]
    db.execute("ROLLBACK")
    assert names(q) == ["X", "Cid"]


# schema dependencies ------------------------------------------------------------------------
class Parent(ActiveRecord):
    __table_name__ = "parents"
    id: int = Field(primary_key=True)
    name: str


class Child(ActiveRecord):
    __table_name__ = "children"
    id: int = Field(primary_key=True)
    parent_id: int | None = None
    label: str


@pytest.fixture
def family(tmp_path):
    db = Database(str(tmp_path / "family.db"))
    db.bind(Parent, Child)
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("CREATE TABLE children (id INTEGER PRIMARY KEY, label TEXT, "
               "parent_id INTEGER REFERENCES parents(id) ON DELETE CASCADE)")
    db.execute("CREATE TABLE audit (n INTEGER)")
    p = Parent.create(name="p")
    Child.create(parent_id=p.id, label="c1")
    Child.create(parent_id=p.id, label="c2")
    yield db, p
    db.close()


def test_cascading_delete_invalidates_the_child_table(family):
    db, parent = family
    kids = Child.query().cache()
    assert len(kids.all()) == 2
    parent.delete()
    assert kids.all() == []


def test_trigger_makes_writes_invalidate_everything(family):
    db, parent = family
    db.execute("CREATE TRIGGER t_audit AFTER INSERT ON parents BEGIN "
               "UPDATE children SET label = 'touched'; END")
    kids = Child.query().order_by(Child.c.id).cache()
    assert [k.label for k in kids.all()] == ["c1", "c2"]
    Parent.create(name="q")
    assert [k.label for k in kids.all()] == ["touched", "touched"]


def test_drop_and_recreate_invalidates(family):
    db, _ = family
    kids = Child.query().cache()
    assert len(kids.all()) == 2
    db.execute("DROP TABLE children")
    db.execute("CREATE TABLE children (id INTEGER PRIMARY KEY, label TEXT, parent_id INTEGER)")
    assert kids.all() == []


def test_view_results_follow_their_base_table(family):
    db, parent = family

    class Named(ActiveRecord):
        __table_name__ = "child_labels"
        id: int = Field(primary_key=True)
        label: str

    db.bind(Named)
    db.execute("CREATE VIEW child_labels AS SELECT id, label FROM children")
    q = Named.query().order_by(Named.c.id).cache()
    assert [n.label for n in q.all()] == ["c1", "c2"]
    Child.query().where(Child.c.label == "c1").update({"label": "renamed"})
    assert [n.label for n in q.all()] == ["renamed", "c2"]


# TTL and LRU --------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(cache_module, "monotonic", c)
    return c


def test_ttl_expiry(db, people, clock):
    q = User.query().where(User.c.status == "active").cache(ttl=10)
    assert len(q.all()) == 2
    clock.now += 9
    with db.track_queries() as t:
        q.all()
    assert len(t) == 0
    clock.now += 2
    with db.track_queries() as t:
        q.all()
    assert len(t) == 1


def test_database_default_ttl(tmp_path, clock):
    db = Database(str(tmp_path / "ttl.db"), cache_ttl=5)
    db.bind(User)
    db.create_tables(User)
    q = User.query().cache()
    q.all()
    clock.now += 6
    with db.track_queries() as t:
        q.all()
    assert len(t) == 1
    db.close()


def test_lru_eviction(tmp_path):
    backend = MemoryCache(max_entries=2)
    db = Database(str(tmp_path / "lru.db"), cache=backend)
    db.bind(User)
    db.create_tables(User)
    for i in range(3):
        User.create(name=f"u{i}", email=f"u{i}@x")
    q = [User.query().where(User.c.name == f"u{i}").cache() for i in range(3)]
    q[0].all()
    q[1].all()
    q[0].all()  # now the most recently used
    q[2].all()  # evicts q[1]
    assert len(backend) == 2
    with db.track_queries() as t:
        q[0].all()
        q[2].all()
    assert len(t) == 0
    with db.track_queries() as t:
        assert [u.name for u in q[1].all()] == ["u1"]
    assert len(t) == 1
    db.close()


def test_query_cache_for_every_query(tmp_path):
    db = Database(str(tmp_path / "all.db"), query_cache=True)
    db.bind(User)
    db.create_tables(User)
    User.create(name="a", email="a@x")
    q = User.query()
    q.all()
    with db.track_queries() as t:
        q.all()
        q.cache(enabled=False).all()
    assert len(t) == 1
    db.close()


# model instance cache -----------------------------------------------------------------------
def test_find_by_id_from_the_instance_cache(db, people):
    db.enable_cache(User)
    ann = people[0]
    first = User.find_by_id(ann.id)
    with db.track_queries() as t:
        second = User.find_by_id(ann.id)
    assert len(t) == 0
    assert first is not second and first.__dict__ == second.__dict__
    second.name = "mutated"
    assert User.find_by_id(ann.id).name == "Ann"
    assert User.find_by_id(10_000) is None
    assert second.is_persisted


def test_instance_cache_refreshed_on_save_evicted_on_delete(db, people):
    db.enable_cache(User)
    ann, bob, _ = people
    User.find_by_id(ann.id)
    User.find_by_id(bob.id)
    loaded = User.find_by_id(ann.id)
    loaded.name = "Anna"
    loaded.save()
    assert User.find_by_id(ann.id).name == "Anna"
    with db.track_queries() as t:
        User.find_by_id(bob.id)  # another row of the table is still cached
    assert len(t) == 0
    User.find_by_id(bob.id).delete()
    assert User.find_by_id(bob.id) is None


def test_instance_cache_evicted_by_bulk_and_foreign_writes(db, people):
    db.enable_cache(User)
    ann = people[0]
    User.find_by_id(ann.id)
    User.query().where(User.c.age > 0).update({"status": "gone"})
    assert User.find_by_id(ann.id).status == "gone"
    db.execute("UPDATE users SET status = 'raw'")
    assert User.find_by_id(ann.id).status == "raw"
    other = other_connection(db)
    other.execute("UPDATE users SET status = 'other'")
    other.close()
    assert User.find_by_id(ann.id).status == "other"


def test_instance_cache_in_transactions(db, people):
    db.enable_cache(User)
    ann = people[0]
    User.find_by_id(ann.id)
    with pytest.raises(KeyError), db.transaction():
        User.query().where(User.c.id == ann.id).update({"name": "tmp"})
        assert User.find_by_id(ann.id).name == "tmp"
        raise KeyError
    assert User.find_by_id(ann.id).name == "Ann"
    with db.transaction():
        u = User.find_by_id(ann.id)
        u.name = "kept"
        u.save()
        assert User.find_by_id(ann.id).name == "kept"
    assert User.find_by_id(ann.id).name == "kept"


def test_model_cache_for_every_model(tmp_path):
    db = Database(str(tmp_path / "mc.db"), model_cache=True)
    db.bind(User)
    db.create_tables(User)
    u = User.create(name="a", email="a@x")
    User.find_by_id(u.id)
    with db.track_queries() as t:
        assert User.find_by_id(u.id).name == "a"
    assert len(t) == 0
    db.close()


def test_primary_key_of_another_type_bypasses_the_instance_cache(db, people):
    db.enable_cache(User)
    ann = people[0]
    assert User.find_by_id(str(ann.id)).name == "Ann"
    assert db.cache_stats().entries == 0
    db.disable_cache(User)
    with db.track_queries() as t:
        User.find_by_id(ann.id)
        User.find_by_id(ann.id)
    assert len(t) == 2


# decorator ----------------------------------------------------------------------------------
def test_cached_function_invalidated_by_its_tables(db, people):
    calls = []

    @db.cached(ttl=60, tables=[User])
    def active(status: str) -> list[User]:
        calls.append(status)
        return User.query().where(User.c.status == status).order_by(User.c.id).all()

    assert [u.name for u in active("active")] == ["Ann", "Cid"]
    got = active("active")
    got[0].name = "mutated"
    assert [u.name for u in active("active")] == ["Ann", "Cid"]
    assert calls == ["active"]
    Order.create(user_id=1, total=1.0)
    active("active")
    assert calls == ["active"]
    User.create(name="Dee", email="dee@example.com")
    assert [u.name for u in active("active")] == ["Ann", "Cid", "Dee"]
    assert calls == ["active", "active"]


def test_cached_function_without_tables_follows_every_write(db, people):
    calls = []

    @db.cached()
    def total() -> dict[str, float]:
        calls.append(1)
        return {"sum": db.execute("SELECT sum(total) FROM orders").fetchall()[0][0]}

    assert total() == {"sum": 42.75}
    total()["sum"] = 0
    assert total() == {"sum": 42.75}
    assert len(calls) == 1
    User.create(name="Dee", email="dee@example.com")
    total()
    assert len(calls) == 2


def test_cached_function_errors(db):
    @db.cached(tables=["users"])
    def f(x):
        return x

    with pytest.raises(ActiveqError, match="must be hashable"):
        f([1, 2])
    with pytest.raises(ActiveqError, match="table names or model classes"):
        db.cached(tables=[3])
    with pytest.raises(ActiveqError, match="ttl must be a positive number"):
        db.cached(ttl=-1)


# statistics and bad input -------------------------------------------------------------------
def test_stats(db, people):
    q = active_users()
    q.all()
    q.all()
    User.create(name="Dee", email="dee@example.com")
    stats = db.cache_stats()
    assert (stats.hits, stats.misses, stats.invalidations, stats.entries) == (1, 1, 1, 0)
    assert stats.hit_rate == 0.5
    assert str(stats) == "cache: 1 hits, 1 misses (50% hit rate), 1 invalidations, 0 entries"


def test_bad_arguments(tmp_path):
    with pytest.raises(ActiveqError, match="ttl must be a positive number"):
        User.query().cache(ttl=0)
    with pytest.raises(ActiveqError, match="ttl must be a positive number"):
        Database(":memory:", cache_ttl="soon")
    with pytest.raises(ActiveqError, match="takes a CacheBackend"):
        Database(":memory:", cache={})
    with pytest.raises(ActiveqError, match="max_entries must be a positive integer"):
        MemoryCache(max_entries=0)
    backend = MemoryCache()
    Database(str(tmp_path / "a.db"), cache=backend).close()
    with pytest.raises(ActiveqError, match="serves one database file"):
        Database(str(tmp_path / "b.db"), cache=backend)


def test_closed_database_does_not_serve_cached_results(tmp_path):
    db = Database(str(tmp_path / "closed.db"))
    db.bind(User)
    db.create_tables(User)
    q = User.query().cache()
    q.all()
    db.close()
    with pytest.raises(ActiveqError, match="closed"):
        q.all()


def test_memory_database():
    db = Database(":memory:")
    db.bind(User)
    db.create_tables(User)
    User.create(name="a", email="a@x")
    q = User.query().cache()
    assert len(q.all()) == 1
    User.create(name="b", email="b@x")
    assert len(q.all()) == 2
    db.close()


@pytest.mark.parametrize(("sql", "tables"), [
    ('UPDATE "users" SET name = ? WHERE id = ?', {"users"}),
    ("insert into orders (user_id) values (1)", {"orders"}),
    ("DELETE FROM main.users WHERE id IN (SELECT user_id FROM orders)", {"users"}),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", {"t"}),
    ("INSERT INTO a VALUES (1); DELETE FROM b", {"a", "b"}),
    ("REPLACE INTO t VALUES (1)", None),
    ("not sql at all", None),
])
def test_dml_tables(sql, tables):
    got = dml_tables(sql)
    assert (None if got is None else set(got)) == tables


# relations ----------------------------------------------------------------------------------
class Author(ActiveRecord):
    __table_name__ = "authors"
    id: int = Field(primary_key=True)
    name: str
    books = has_many("Book", foreign_key="author_id")


class Book(ActiveRecord):
    __table_name__ = "books"
    id: int = Field(primary_key=True)
    author_id: int
    title: str
    author = belongs_to("Author", foreign_key="author_id")


@pytest.fixture
def library(tmp_path):
    db = Database(str(tmp_path / "library.db"))
    db.bind(Author, Book)
    db.create_tables(Author, Book)
    ann = Author.create(name="Ann")
    bob = Author.create(name="Bob")
    Book.create(author_id=ann.id, title="A1")
    Book.create(author_id=ann.id, title="A2")
    Book.create(author_id=bob.id, title="B1")
    db.enable_cache(Author)
    yield db, ann, bob
    db.close()


def titles(author) -> list[str]:
    return [b.title for b in author.books]


def test_lazy_loads_cached_per_parent(library):
    db, ann, bob = library
    assert titles(Author.find_by_id(ann.id)) == ["A1", "A2"]
    assert titles(Author.find_by_id(bob.id)) == ["B1"]
    with db.track_queries() as t:
        first = Author.find_by_id(ann.id)
        assert titles(first) == ["A1", "A2"]
        assert titles(Author.find_by_id(bob.id)) == ["B1"]
    assert len(t) == 0
    first.books[0].title = "mutated"
    assert titles(Author.find_by_id(ann.id)) == ["A1", "A2"]
    Book.create(author_id=ann.id, title="A3")
    assert titles(Author.find_by_id(ann.id)) == ["A1", "A2", "A3"]


def test_includes_cached_and_invalidated_by_the_child_table(library):
    db, ann, bob = library
    q = Author.query().order_by(Author.c.id).includes("books")
    assert [titles(a) for a in q.all()] == [["A1", "A2"], ["B1"]]
    with db.track_queries() as t:
        assert [titles(a) for a in q.all()] == [["A1", "A2"], ["B1"]]
    assert len(t) == 1  # the authors query itself is not cached; the books query is
    Book.query().where(Book.c.title == "B1").update({"title": "B1b"})
    assert [titles(a) for a in q.all()] == [["A1", "A2"], ["B1b"]]
    other = other_connection(db)
    other.execute("DELETE FROM books WHERE title = 'A1'")
    other.close()
    assert [titles(a) for a in q.all()] == [["A2"], ["B1b"]]


def test_relations_of_uncached_models_are_not_cached(library):
    db, ann, _ = library
    book = Book.query().where(Book.c.title == "A1").first()
    assert book.author.name == "Ann"
    book = Book.query().where(Book.c.title == "A1").first()
    with db.track_queries() as t:
        assert book.author.name == "Ann"
    assert len(t) == 1
