"""The user's guide examples outside relationships, batches and async, run as written.

Each test declares what the guide assumes (models, ``backend``, ``cache``, ``process_user``)
and then runs the guide's code unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Optional

import apsw
import pytest

from activeq import ActiveQuery, ActiveRecord, BindParam, Database, Field


@pytest.fixture
def backend(tmp_path: Any) -> Any:
    db = Database(str(tmp_path / "guide.db"))
    yield db
    db.close()


class GuideUser(ActiveRecord):
    __table_name__ = "users"

    id: int = Field(primary_key=True)
    name: str = ""
    email: str = Field(max_length=255)
    status: str = Field(default="active")
    is_active: bool = True
    created_at: Optional[datetime] = None  # noqa: UP045 - the guide's spelling

    # Define indexes in mapping
    __mapping__ = {
        "id": "INTEGER PRIMARY KEY",
        "email": "VARCHAR(255) NOT NULL UNIQUE",
        "status": 'VARCHAR(20) DEFAULT "active"',
        "created_at": "TEXT",
    }


@pytest.fixture
def users(backend: Database) -> type[GuideUser]:
    backend.bind(GuideUser)
    backend.create_tables(GuideUser)
    for i in range(10):
        GuideUser.create(name=f"User {i}", email=f"user{i}@example.com", is_active=i % 2 == 0,
                         status="active" if i < 7 else "inactive")
    return GuideUser


def test_select_only_required_fields(users: Any, capsys: pytest.CaptureFixture[str]) -> None:
    User = users
    # ✅ Efficient - retrieves only id and name
    users = User.query().select('id', 'name').all()
    for user in users:
        print(user.id, user.name)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 User 0" and len(out) == 10
    assert users[0].model_fields_set == set() and "email" not in users[0].__dict__


def test_where_clauses_early(users: Any) -> None:
    User = users
    all_users = User.query().all()
    inefficient = [u for u in all_users if u.is_active]
    active_users = User.query().where(User.c.is_active == True).all()  # noqa: E712
    assert [u.id for u in active_users] == [u.id for u in inefficient] == [1, 3, 5, 7, 9]


def test_mapping_ddl_and_manual_indexes(users: Any, backend: Database) -> None:
    backend.execute("CREATE INDEX idx_users_status ON users(status);")
    backend.execute("CREATE INDEX idx_users_created_at ON users(created_at);")
    columns = {row[1]: row for row in backend.execute("PRAGMA table_info(users)")}
    assert columns["email"][2] == "VARCHAR(255)" and columns["email"][3] == 1  # NOT NULL
    assert columns["status"][2] == "VARCHAR(20)"
    unique = [r for r in backend.execute("PRAGMA index_list(users)") if r[2] == 1]
    assert unique, "the mapping's UNIQUE constraint is missing"
    GuideUser.create(name="x", email="new@example.com")
    assert GuideUser.find_one(GuideUser.c.email == "new@example.com").status == "active"
    plan = GuideUser.query().where(GuideUser.c.status == "active").explain()
    assert "idx_users_status" in plan.indexes


def test_query_result_caching_with_lru_cache(users: Any) -> None:
    User = users

    class UserRepository:
        """Repository with caching for User queries."""

        @staticmethod
        @lru_cache(maxsize=128)
        def get_active_users_cached():
            """Get active users with caching."""
            return User.query().where(
                User.c.status == 'active'
            ).all()

        @staticmethod
        def clear_cache():
            """Clear the query cache."""
            UserRepository.get_active_users_cached.cache_clear()

    # Usage
    active_users = UserRepository.get_active_users_cached()
    assert len(active_users) == 7
    assert UserRepository.get_active_users_cached() is active_users
    UserRepository.clear_cache()
    assert UserRepository.get_active_users_cached() is not active_users


def test_model_instance_caching(backend: Database) -> None:
    class User(ActiveRecord):
        __table_name__ = 'cached_users'

        id: int = Field(primary_key=True)
        name: str = Field()
        email: str = Field()

        _cache = {}

        @classmethod
        def find_by_id_cached(cls, id: int) -> Optional[User]:  # noqa: UP045
            """Find user by ID with instance caching."""
            if id in cls._cache:
                return cls._cache[id]

            user = cls.find_one(cls.c.id == id)
            if user:
                cls._cache[id] = user
            return user

        def save(self) -> int:
            """Save and update cache."""
            result = super().save()
            self._cache[self.id] = self
            return result

        def delete(self) -> int:
            """Delete and remove from cache."""
            result = super().delete()
            if self.id in self._cache:
                del self._cache[self.id]
            return result

    backend.bind(User)
    backend.create_tables(User)
    alice = User(name="Alice", email="a@example.com")
    assert alice.save() == 1
    assert User._cache == {alice.id: alice}
    User._cache.clear()
    with backend.track_queries() as t:
        first = User.find_by_id_cached(alice.id)
        second = User.find_by_id_cached(alice.id)
    assert first is second and first.name == "Alice"
    assert len(t) == 1
    assert first.delete() == 1
    assert User._cache == {} and User.find_by_id(alice.id) is None


def test_cache_invalidation(backend: Database) -> None:
    class SimpleCache:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

        def get(self, key: str) -> Any:
            return self.data.get(key)

        def set(self, key: str, value: Any, timeout: int = 0) -> None:
            self.data[key] = value

        def delete(self, key: str) -> None:
            self.data.pop(key, None)

    cache = SimpleCache()
    List = list

    class Product(ActiveRecord):
        __table_name__ = 'products'

        id: int = Field(primary_key=True)
        name: str = Field()
        price: float = Field()
        category_id: int = Field()

        @classmethod
        def get_by_category_cached(cls, category_id: int) -> List[Product]:
            """Get products by category with caching."""
            cache_key = f"products:category:{category_id}"

            cached = cache.get(cache_key)
            if cached is not None:
                return cached

            products = cls.query().where(
                cls.c.category_id == category_id
            ).all()

            cache.set(cache_key, products, timeout=300)  # 5 minutes
            return products

        @classmethod
        def invalidate_category_cache(cls, category_id: int):
            """Invalidate category cache when products change."""
            cache_key = f"products:category:{category_id}"
            cache.delete(cache_key)

        def save(self) -> int:
            """Save and invalidate relevant caches."""
            result = super().save()

            # Invalidate category cache
            self.invalidate_category_cache(self.category_id)
            return result

        def delete(self) -> int:
            """Delete and invalidate caches."""
            category_id = self.category_id
            result = super().delete()
            self.invalidate_category_cache(category_id)
            return result

    backend.bind(Product)
    backend.create_tables(Product)
    Product(name="pen", price=1.5, category_id=1).save()
    assert [p.name for p in Product.get_by_category_cached(1)] == ["pen"]
    Product(name="ink", price=3.0, category_id=1).save()
    assert [p.name for p in Product.get_by_category_cached(1)] == ["pen", "ink"]
    Product.get_by_category_cached(1)[0].delete()
    assert [p.name for p in Product.get_by_category_cached(1)] == ["ink"]


def test_sqlite_optimizations(users: Any, backend: Database) -> None:
    # Enable WAL mode for better concurrency
    backend.execute("PRAGMA journal_mode=WAL")

    # Increase cache size
    backend.execute("PRAGMA cache_size=-64000")  # 64MB

    # Enable foreign keys
    backend.execute("PRAGMA foreign_keys=ON")

    # Use indexed columns for WHERE clauses
    # Create indexes for frequently filtered columns
    backend.execute("CREATE INDEX IF NOT EXISTS idx_user_status ON users(status)")
    assert backend.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
    assert backend.execute("PRAGMA cache_size").fetchall() == [(-64000,)]
    names = [r[1] for r in backend.execute("PRAGMA index_list(users)")]
    assert "idx_user_status" in names


def test_prepared_statements(backend: Database) -> None:
    class User(ActiveRecord):
        __table_name__ = 'users'

        id: int = Field(primary_key=True)
        email: str = Field(max_length=255)
        status: str = Field(default='active')

        # Pre-compiled query for finding by email
        FIND_BY_EMAIL = None

        @classmethod
        def find_by_email(cls, email: str) -> Optional[User]:  # noqa: UP045
            """Find user by email using prepared statement."""
            if cls.FIND_BY_EMAIL is None:
                cls.FIND_BY_EMAIL = cls.query().where(
                    cls.c.email == BindParam('email')
                ).compile()

            result = cls.FIND_BY_EMAIL.execute(email=email)
            return result[0] if result else None

    backend.bind(User)
    backend.create_tables(User)
    User.create(email="a@example.com")
    User.create(email="b@example.com")
    assert User.find_by_email("b@example.com").id == 2
    assert User.find_by_email("missing@example.com") is None
    compiled = User.FIND_BY_EMAIL
    assert compiled.sql.endswith('WHERE "users"."email" = ?')
    with backend.track_queries() as t:
        User.find_by_email("a@example.com")
    assert t.queries[0].cache_hit and t.queries[0].params == ["a@example.com"] or \
        list(t.queries[0].params) == ["a@example.com"]


def test_explain_queries(users: Any, backend: Database, capsys: pytest.CaptureFixture[str]) -> None:
    User = users

    def explain_query(query: ActiveQuery) -> str:
        """Get EXPLAIN output for a query."""
        sql = query.explain()
        return backend.execute(sql).fetchall()

    # Analyze a query
    query = User.query().where(User.c.status == 'active').order_by(User.c.name)
    plan = explain_query(query)
    print(plan)
    details = [row[2] for row in plan]
    assert any("users" in d for d in details)
    assert any("ORDER BY" in d for d in details)  # a temp b-tree sorts by name
    assert "users" in capsys.readouterr().out


def test_query_timing(users: Any, capsys: pytest.CaptureFixture[str]) -> None:
    User = users

    @contextmanager
    def query_timer():
        """Context manager for timing queries."""
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        print(f"Query took: {elapsed*1000:.2f}ms")

    # Usage
    with query_timer():
        users = User.query().where(User.c.status == 'active').all()
    assert len(users) == 7
    assert capsys.readouterr().out.startswith("Query took: ")


def test_chunking_large_result_sets(users: Any) -> None:
    User = users
    seen: list[int] = []

    def process_user(user: Any) -> None:
        seen.append(user.id)

    # Process users in chunks of 1000
    chunk_size = 3
    last_id = 0

    while True:
        users = (
            User.query()
            .where(User.c.id > last_id)
            .order_by(User.c.id)
            .limit(chunk_size)
            .all()
        )

        if not users:
            break

        for user in users:
            process_user(user)

        last_id = users[-1].id
    assert seen == list(range(1, 11))


class BatchUser(ActiveRecord):
    __table_name__ = "batch_users"

    id: int = Field(primary_key=True)
    name: str
    email: str = Field(unique=True)
    status: str = "inactive"
    updated_at: Optional[datetime] = None  # noqa: UP045


def test_batch_operations(backend: Database) -> None:
    User = BatchUser
    backend.bind(User)
    backend.create_tables(User)

    # ❌ Inefficient - individual inserts
    users = []
    for i in range(1000):
        user = User(name=f"User {i}", email=f"user{i}@example.com")
        user.save()
        users.append(user)

    # ✅ Efficient - bulk insert
    users_data = [
        {'name': f"User {i}", 'email': f"user{i}@example.org"}
        for i in range(1000)
    ]
    User.insert_many(users_data)
    assert User.query().count() == 2000

    # ✅ Efficient - bulk update
    with backend.track_queries() as t:
        user_ids = [u.id for u in users]
        User.query().where(
            User.c.id.is_in(user_ids)
        ).update({
            'status': 'active',
            'updated_at': datetime.utcnow()
        })
    assert len(t) == 1 and t.queries[0].rows == 1000
    assert User.query().where(User.c.status == 'active').count() == 1000
    assert User.query().where(User.c.updated_at.is_not_null()).count() == 1000

    # ❌ Inefficient - individual updates (the guide's loop also works)
    for user in users[:3]:
        user.status = 'active'
        user.updated_at = datetime.utcnow()
        user.save()

    # ✅ Efficient - bulk delete
    with backend.track_queries() as t:
        User.query().where(
            User.c.status == 'inactive'
        ).delete()
    assert len(t) == 1 and t.queries[0].rows == 1000
    assert User.query().count() == 1000

    # ❌ Inefficient - individual deletes
    inactive_users = User.query().limit(2).all()
    for user in inactive_users:
        user.delete()
    assert User.query().count() == 998


class GuideNote(ActiveRecord):
    __table_name__ = "notes"

    id: int = Field(primary_key=True)
    text: str


def test_connection_pooling(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The guide's import line, mapped to activeq's names.
    from activeq import Database as SQLiteBackend
    from activeq.errors import BusyError as DatabaseLockedError

    class OptimizedSQLiteBackend(SQLiteBackend):
        """SQLite backend with optimized settings."""

        def connect(self):
            super().connect()

            # Optimizations
            self.execute("PRAGMA journal_mode=WAL")
            self.execute("PRAGMA synchronous=NORMAL")
            self.execute("PRAGMA cache_size=-64000")
            self.execute("PRAGMA temp_store=MEMORY")
            self.execute("PRAGMA mmap_size=268435456")  # 256MB

            # Enable foreign keys
            self.execute("PRAGMA foreign_keys=ON")

        def execute(self, sql: str, params=None):
            """Execute with retry on lock."""
            max_retries = 5
            for attempt in range(max_retries):
                try:
                    return super().execute(sql, params)
                except DatabaseLockedError:
                    if attempt == max_retries - 1:
                        raise
                    import time
                    time.sleep(0.01 * (2 ** attempt))  # Exponential backoff

    path = str(tmp_path / "optimized.db")
    # Settings of our own, which the guide's connect() replaces on every new connection; no
    # lock wait inside SQLite, so the guide's execute() does the retrying.
    backend = OptimizedSQLiteBackend(path, busy_timeout_ms=0, pragmas={
        "synchronous": "full", "cache_size": -1000, "temp_store": "default", "foreign_keys": "off"})
    settings = ["synchronous", "cache_size", "temp_store", "foreign_keys", "journal_mode"]

    def current() -> list[Any]:
        return [backend.execute(f"PRAGMA {name}").fetchall()[0][0] for name in settings]

    assert current() == [1, -64000, 2, 1, "wal"]
    in_thread: list[Any] = []
    thread = threading.Thread(target=lambda: in_thread.append(current()))
    thread.start()
    thread.join(30)
    assert in_thread == [[1, -64000, 2, 1, "wal"]]  # the new thread's own connection too

    backend.bind(GuideNote)
    backend.create_tables(GuideNote)
    other = apsw.Connection(path)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if other.in_transaction:
            other.execute("ROLLBACK")  # the lock is released during the backoff

    monkeypatch.setattr(time, "sleep", sleep)
    note = GuideNote.create(text="kept")  # create() goes through the retrying execute()
    assert slept == [0.01]
    assert GuideNote.find_by_id(note.id).text == "kept"
    other.close()
    backend.close()


def test_query_logging(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    from activeq import Database as SQLiteBackend  # the guide's import line, mapped

    class QueryLogger:
        """Query logging middleware."""

        def __init__(self):
            self.logger = logging.getLogger('queries')
            self.logger.setLevel(logging.DEBUG)

            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter('%(asctime)s - %(message)s')
            )
            self.logger.addHandler(handler)

        def log_query(self, sql: str, params: tuple, duration: float):
            """Log query execution."""
            self.logger.debug(
                f"Query ({duration*1000:.2f}ms): {sql} | Params: {params}"
            )

    # Integrate with backend
    class LoggedSQLiteBackend(SQLiteBackend):
        """SQLite backend with query logging."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.logger = QueryLogger()

        def execute(self, sql: str, params=None):
            start = time.perf_counter()
            result = super().execute(sql, params)
            duration = time.perf_counter() - start

            self.logger.log_query(sql, params, duration)
            return result

    backend = LoggedSQLiteBackend(str(tmp_path / "logged.db"))
    try:
        backend.bind(GuideNote)
        with caplog.at_level(logging.DEBUG, logger="queries"):
            backend.create_tables(GuideNote)
            note = GuideNote.create(text="a")
            found = GuideNote.find_by_id(note.id)
            rows = GuideNote.query().where(GuideNote.c.text == "a").all()
            changed = GuideNote.query().where(GuideNote.c.id == note.id).update({"text": "b"})
            GuideNote.insert_many([{"text": "c"}, {"text": "d"}])
            streamed = [n.text for n in GuideNote.query().order_by(GuideNote.c.id).iter()]
            raw = backend.execute("SELECT count(*) FROM notes").fetchall()
        logged = [r.getMessage().split("): ", 1)[1] for r in caplog.records if r.name == "queries"]
        assert (found.text, [n.id for n in rows], changed, streamed, raw) == \
            ("a", [1], 1, ["b", "c", "d"], [(3,)])
        select = 'SELECT "notes"."id", "notes"."text" FROM "notes"'
        insert = 'INSERT INTO "notes" ("text") VALUES (?)'
        setup = logged[:logged.index(f"{insert} | Params: ['a']")]
        # create_tables() reads the catalog first, then creates the table in a transaction.
        assert [m.partition(' ("')[0] for m in setup if not m.startswith("SELECT")] == [
            "BEGIN IMMEDIATE | Params: ()", 'CREATE TABLE IF NOT EXISTS "notes"',
            "COMMIT | Params: ()"]
        assert logged[len(setup):] == [
            f"{insert} | Params: ['a']",
            # find_by_id reads one table: its columns go unqualified.
            'SELECT "id", "text" FROM "notes" WHERE "id" = ? | Params: (1,)',
            f'{select} WHERE "notes"."text" = ? | Params: (\'a\',)',
            'UPDATE "notes" SET "text" = ? WHERE "notes"."id" = ? | Params: (\'b\', 1)',
            "BEGIN IMMEDIATE | Params: ()",
            f"{insert} | Params: ('c',)",
            f"{insert} | Params: ('d',)",
            "COMMIT | Params: ()",
            f'{select} ORDER BY "notes"."id" | Params: ()',
            "SELECT count(*) FROM notes | Params: None",
        ]
    finally:
        logging.getLogger("queries").handlers.clear()
        backend.close()
    # Without an override nothing is routed: the plain paths stay in place.
    plain = Database(str(tmp_path / "plain.db"))
    assert not {"_select", "_exec_write", "_exec_control"} & set(plain.__dict__)
    plain.close()
