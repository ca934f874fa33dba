"""AsyncDatabase / AsyncActiveRecord, and the reader pool of the synchronous Database."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from activeq import (
    ActiveqError,
    AsyncActiveRecord,
    AsyncDatabase,
    BindParam,
    Database,
    Field,
    OperationalError,
    PoolTimeoutError,
    RelationNotLoadedError,
    ValidationError,
    func,
    has_many,
)


class User(AsyncActiveRecord):
    __table_name__ = "users"
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    age: int | None = None

    orders = has_many("Order", foreign_key="user_id")


class Order(AsyncActiveRecord):
    __table_name__ = "orders"
    id: int = Field(primary_key=True)
    user_id: int
    total: float = 0.0


class UserPreference(AsyncActiveRecord):
    __table_name__ = "user_preferences"
    id: int = Field(primary_key=True)
    user_id: int
    theme: str = "light"


MODELS = (User, Order, UserPreference)


# The seed guide's examples, as written ------------------------------------------------------
async def load_user_data(user_id: int):
    """Load user data with concurrent queries."""
    # These queries can run in parallel
    user, orders, preferences = await asyncio.gather(
        User.find_by_id(user_id),
        Order.query().where(Order.c.user_id == user_id).all(),
        UserPreference.query().where(
            UserPreference.c.user_id == user_id
        ).first(),
    )

    return {
        'user': user,
        'orders': orders,
        'preferences': preferences,
    }


async def bulk_create_users(users_data: list[dict]) -> list[User]:
    """Create multiple users concurrently."""
    async def create_one(data):
        user = User(**data)
        await user.save()
        return user

    # Create all users concurrently
    users = await asyncio.gather(
        *[create_one(data) for data in users_data]
    )
    return users


# Helpers ------------------------------------------------------------------------------------
class Probe:
    """SQLite functions that observe how many statements run at once.

    ``gate(x)`` counts itself in, waits until ``parties`` statements are inside at the same
    time (a barrier: it can only pass if they really overlap), then counts itself out.
    ``hold(x)`` blocks until ``release`` is set.
    """

    def __init__(self, parties: int = 1) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.barrier = threading.Barrier(parties, timeout=20)
        self.release = threading.Event()
        self.entered = threading.Event()

    def gate(self, x: Any) -> Any:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.active -= 1
        return x

    def hold(self, x: Any) -> Any:
        self.entered.set()
        if not self.release.wait(20):
            raise RuntimeError("hold() was never released")
        return x

    def install(self, conn: Any) -> None:
        conn.create_scalar_function("gate", self.gate, 1)
        conn.create_scalar_function("hold", self.hold, 1)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def open_db(path: Any, probe: Probe | None = None, **kw: Any) -> AsyncDatabase:
    db = AsyncDatabase(str(path), on_connect=probe.install if probe else None, **kw)
    db.bind(*MODELS)
    await db.create_tables(*MODELS)
    return db


async def seed(db: AsyncDatabase) -> list[User]:
    users = await bulk_create_users(
        [{"name": n, "email": f"{n.lower()}@example.com", "age": a}
         for n, a in (("Ann", 30), ("Bob", 40), ("Cid", 50))]
    )
    await Order.insert_many([{"user_id": users[0].id, "total": 10.0},
                             {"user_id": users[0].id, "total": 20.0},
                             {"user_id": users[1].id, "total": 5.0}])
    await UserPreference(user_id=users[0].id, theme="dark").save()
    return list(users)


# Seed examples --------------------------------------------------------------------------------
def test_seed_load_user_data(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            ann, bob, _ = await seed(db)
            with db.track_queries() as t:
                data = await load_user_data(ann.id)
            assert data["user"].name == "Ann"
            assert sorted(o.total for o in data["orders"]) == [10.0, 20.0]
            assert data["preferences"].theme == "dark"
            assert len(t) == 3
            assert all(sql.startswith("SELECT") for sql in t.sql)
            other = await load_user_data(bob.id)
            assert [o.total for o in other["orders"]] == [5.0]
            assert other["preferences"] is None
            missing = await load_user_data(999)
            assert missing == {"user": None, "orders": [], "preferences": None}

    run(main())


def test_seed_bulk_create_users(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db"):
            data = [{"name": f"u{i}", "email": f"u{i}@example.com"} for i in range(20)]
            users = await bulk_create_users(data)
            assert [u.name for u in users] == [d["name"] for d in data]
            assert len({u.id for u in users}) == 20
            assert all(u.is_persisted for u in users)
            rows = await User.query().order_by(User.c.id).pluck("id", "name")
            assert sorted(rows) == sorted((u.id, u.name) for u in users)

    run(main())


# Parallel reads -------------------------------------------------------------------------------
def test_gathered_reads_execute_at_the_same_time(tmp_path):
    probe = Probe(parties=4)

    async def main():
        async with await open_db(tmp_path / "a.db", probe, pool_size=4) as db:
            users = await seed(db)

            def probe_query(user: User) -> Any:
                return User.query().select(func.gate(User.c.id)).where(User.c.id == user.id).scalar()

            # Each statement waits inside SQLite until all four are inside at once.
            results = await asyncio.gather(*[probe_query(u) for u in users + users[:1]])
            assert results == [u.id for u in users + users[:1]]
            assert probe.peak == 4
            stats = db.pool_stats()
            assert stats.peak_in_use == 4 and stats.in_use == 0 and stats.timeouts == 0

    run(main())


def test_sync_pool_threads_read_in_parallel(tmp_path):
    from helpers import User as SyncUser

    probe = Probe(parties=3)
    db = Database(str(tmp_path / "s.db"), pool_size=3, on_connect=probe.install)
    db.bind(SyncUser)
    db.create_tables(SyncUser)
    ann = SyncUser.create(name="Ann", email="ann@example.com")
    results: list[Any] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            q = SyncUser.query().select(func.gate(SyncUser.c.id)).where(SyncUser.c.id == ann.id)
            results.append(q.scalar())
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [ann.id] * 3
    assert probe.peak == 3
    stats = db.pool.stats()
    assert (stats.size, stats.opened, stats.in_use, stats.peak_in_use) == (3, 3, 0, 3)
    db.close()
    assert db.pool.closed


def test_sync_pool_transactions_stay_private_to_their_thread(tmp_path):
    from helpers import User as SyncUser

    db = Database(str(tmp_path / "s.db"), pool_size=2)
    db.bind(SyncUser)
    db.create_tables(SyncUser)
    seen: list[int] = []
    with db.transaction():
        SyncUser.create(name="Ann", email="ann@example.com")
        assert SyncUser.query().count() == 1  # the writer sees its own write
        t = threading.Thread(target=lambda: seen.append(SyncUser.query().count()))
        t.start()
        t.join()
    assert seen == [0]  # another thread reads the last commit from the pool
    assert SyncUser.query().count() == 1
    db.close()


def test_pool_needs_a_file():
    with pytest.raises(ActiveqError, match="needs a database file"):
        Database(":memory:", pool_size=2)
    with pytest.raises(ActiveqError, match="positive integer"):
        from activeq.pool import ConnectionPool

        ConnectionPool(object, 0)


# Failures and cancellation ---------------------------------------------------------------------
def test_failing_query_in_gather_does_not_disturb_others(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db", pool_size=2) as db:
            ann, bob, _ = await seed(db)
            bad = User.query().select(func.no_such_function(User.c.id)).all()
            results = await asyncio.gather(
                User.find_by_id(ann.id), bad, Order.query().where(Order.c.user_id == bob.id).all(),
                User.query().count(), return_exceptions=True,
            )
            assert results[0].name == "Ann"
            assert isinstance(results[1], OperationalError)
            assert "no_such_function" in str(results[1]).lower()
            assert [o.total for o in results[2]] == [5.0]
            assert results[3] == 3
            assert db.pool_stats().in_use == 0
            # Without return_exceptions the error surfaces and the database carries on.
            with pytest.raises(OperationalError):
                await asyncio.gather(User.query().count(), bad_query())
            assert await User.query().count() == 3

    def bad_query():
        return User.query().select(func.no_such_function(User.c.id)).all()

    run(main())


def test_cancelled_task_inside_transaction_rolls_back(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            saved = asyncio.Event()

            async def work():
                async with db.transaction():
                    await User(name="Ann", email="ann@example.com").save()
                    saved.set()
                    await asyncio.sleep(30)

            task = asyncio.create_task(work())
            await saved.wait()
            assert db.in_transaction
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await User.query().count() == 0
            assert not db.in_transaction
            assert await db.run_sync(lambda d: d.in_transaction) is False
            # The writer is free: a new transaction commits.
            async with db.transaction():
                await User(name="Bob", email="bob@example.com").save()
            assert await User.query().pluck("name") == ["Bob"]

    run(main())


def test_cancelled_while_a_write_is_running_rolls_back(tmp_path):
    probe = Probe()

    async def main():
        async with await open_db(tmp_path / "a.db", probe) as db:
            async def work():
                async with db.transaction():
                    await User(name="Ann", email="ann@example.com").save()
                    # hold() keeps this INSERT inside SQLite on the writer thread.
                    await db.execute(
                        "INSERT INTO users (name, email) VALUES (hold('Bob'), 'bob@example.com')"
                    )

            task = asyncio.create_task(work())
            while not probe.entered.is_set():
                await asyncio.sleep(0.001)
            task.cancel()
            probe.release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await User.query().count() == 0
            assert await db.run_sync(lambda d: d.in_transaction) is False

    run(main())


def test_other_tasks_writes_wait_for_an_open_transaction(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            inside = asyncio.Event()
            outside_done = asyncio.Event()

            async def failing_transaction():
                async with db.transaction():
                    await User(name="Ann", email="ann@example.com").save()
                    inside.set()
                    await asyncio.sleep(0.05)
                    # Another task's write must not have landed inside this transaction.
                    assert not outside_done.is_set()
                    assert await User.query().count() == 1
                    raise RuntimeError("abort")

            async def outside():
                await inside.wait()
                assert await User.query().count() == 0  # readers see the last commit
                await User(name="Bob", email="bob@example.com").save()
                outside_done.set()

            results = await asyncio.gather(failing_transaction(), outside(), return_exceptions=True)
            assert isinstance(results[0], RuntimeError)
            assert await User.query().pluck("name") == ["Bob"]

    run(main())


def test_nested_transaction_is_a_savepoint(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            async with User.transaction():
                await User(name="Ann", email="ann@example.com").save()
                with pytest.raises(ValueError):
                    async with db.transaction():
                        await User(name="Bob", email="bob@example.com").save()
                        raise ValueError("inner")
            assert await User.query().pluck("name") == ["Ann"]

    run(main())


# Pool exhaustion ---------------------------------------------------------------------------------
def test_pool_exhaustion_raises_a_timeout_error_async(tmp_path):
    probe = Probe()

    async def main():
        async with await open_db(tmp_path / "a.db", probe, pool_size=1, pool_timeout=0.2) as db:
            await seed(db)
            slow = asyncio.create_task(
                User.query().select(func.hold(User.c.id)).order_by(User.c.id).scalar()
            )
            while not probe.entered.is_set():
                await asyncio.sleep(0.001)
            with pytest.raises(PoolTimeoutError) as info:
                await User.query().count()
            assert isinstance(info.value, ActiveqError)
            assert isinstance(info.value, TimeoutError)
            assert "no reader connection became free within 0.2 s" in str(info.value)
            assert "all 1 are in use" in str(info.value)
            probe.release.set()
            assert await slow == 1
            stats = db.pool_stats()
            assert stats.timeouts == 1 and stats.in_use == 0
            assert await User.query().count() == 3

    run(main())


def test_pool_exhaustion_raises_a_timeout_error_sync(tmp_path):
    from helpers import User as SyncUser

    db = Database(str(tmp_path / "s.db"), pool_size=1, pool_timeout=0.05)
    db.bind(SyncUser)
    db.create_tables(SyncUser)
    with db.pool.borrow():
        with pytest.raises(PoolTimeoutError, match="within 0.05 s"):
            SyncUser.query().all()
    assert SyncUser.query().all() == []
    stats = db.pool.stats()
    assert (stats.timeouts, stats.in_use, stats.idle) == (1, 0, 1)
    db.close()


def test_waiting_borrowers_are_served_in_turn(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db", pool_size=1, pool_timeout=5) as db:
            await seed(db)
            counts = await asyncio.gather(*[User.query().count() for _ in range(10)])
            assert counts == [3] * 10
            stats = db.pool_stats()
            assert stats.waits >= 1 and stats.timeouts == 0 and stats.in_use == 0

    run(main())


# The async API surface ------------------------------------------------------------------------------
def test_async_terminals_and_record_methods(tmp_path):
    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            ann, bob, cid = await seed(db)
            q = User.query().where(User.c.age >= 40).order_by(User.c.id)
            assert type(q).__name__ == "AsyncQuery"
            assert await q.count() == 2
            assert await q.exists() is True
            assert [u.name for u in await q.all()] == ["Bob", "Cid"]
            assert (await q.first()).name == "Bob"
            assert (await User.query().where(User.c.name == "Cid").one()).age == 50
            assert await User.query().where(User.c.name == "Zed").one_or_none() is None
            assert await q.pluck("name") == ["Bob", "Cid"]
            assert await q.select("name").dicts() == [{"name": "Bob"}, {"name": "Cid"}]
            assert await q.select("name").tuples() == [("Bob",), ("Cid",)]
            assert await User.query().select(func.max(User.c.age)).scalar() == 50
            assert (await User.find_one(User.c.email == "ann@example.com")).id == ann.id
            assert len(await User.find_all(User.c.age > 30)) == 2
            assert [u.name async for u in User.query().order_by(User.c.id).iter(batch=2)] == [
                "Ann", "Bob", "Cid"]
            assert [[u.name for u in c] async for c in User.query().chunks(2)] == [
                ["Ann", "Bob"], ["Cid"]]
            stmt = User.query().where(User.c.email == BindParam("email")).compile()
            assert (await stmt.first(email="bob@example.com")).name == "Bob"
            plan = await User.query().where(User.c.id == 1).explain()
            assert plan.rows

            # includes: one query per relation
            with db.track_queries() as t:
                users = await User.query().includes("orders").order_by(User.c.id).all()
            assert [len(u.orders) for u in users] == [2, 1, 0]
            assert len(t) == 2
            # A relation not included would need a query on the event loop: refused.
            with pytest.raises(RelationNotLoadedError, match="includes"):
                _ = (await User.find_by_id(ann.id)).orders

            # writes
            assert await User.query().where(User.c.id.is_in([ann.id, bob.id])).update(
                {"age": User.c.age + 1}) == 2
            await ann.refresh()
            assert ann.age == 31
            ann.name = "Anna"
            assert await ann.save() == 1
            assert (await User.find_by_id(ann.id)).name == "Anna"
            dee = await User.create(name="Dee", email="dee@example.com")
            assert dee.id is not None
            assert await dee.delete() == 1
            assert await User.find_by_id(dee.id) is None
            assert await Order.query().where(Order.c.user_id == ann.id).delete() == 2
            assert await Order.query().count() == 1

            # bad input is refused before anything is written
            with pytest.raises(ValidationError):
                await User.create(name="Eve", emial="eve@example.com")
            with pytest.raises(ValidationError):
                await User.insert_many([{"name": "F", "email": "f@example.com"}, {"name": "G"}])
            assert await User.query().count() == 3

    run(main())


def test_memory_database_reads_on_the_writer():
    async def main():
        async with await open_db(":memory:") as db:
            assert db.pool is None and db.pool_stats() is None
            users = await seed(db)
            data = await load_user_data(users[0].id)
            assert data["user"].name == "Ann" and len(data["orders"]) == 2

    run(main())


def test_close_waits_for_work_in_flight(tmp_path):
    probe = Probe()

    async def main():
        db = await open_db(tmp_path / "a.db", probe)
        await seed(db)
        slow = asyncio.create_task(
            User.query().select(func.hold(User.c.name)).order_by(User.c.id).pluck(
                func.hold(User.c.name))
        )
        while not probe.entered.is_set():
            await asyncio.sleep(0.001)
        closing = asyncio.create_task(db.close())
        await asyncio.sleep(0.01)
        assert not closing.done()  # the read is still running
        with pytest.raises(ActiveqError, match="closed"):
            await User.query().count()
        probe.release.set()
        await closing
        assert await slow == ["Ann", "Bob", "Cid"]
        assert db.closed
        await db.close()  # idempotent

    run(main())


def test_unbound_async_model_is_a_clear_error():
    class Loose(AsyncActiveRecord):
        __table_name__ = "loose"
        id: int = Field(primary_key=True)

    with pytest.raises(ActiveqError, match="not bound to an AsyncDatabase"):
        run(Loose.query().all())


def test_async_query_is_not_sync_iterable(tmp_path):
    with pytest.raises(TypeError, match="async for"):
        list(User.query())


def test_sync_pool_streams_on_a_pooled_connection(tmp_path):
    from helpers import User as SyncUser

    db = Database(str(tmp_path / "s.db"), pool_size=1, pool_timeout=0.05)
    db.bind(SyncUser)
    db.create_tables(SyncUser)
    for i in range(5):
        SyncUser.create(name=f"u{i}", email=f"u{i}@example.com")
    stream = SyncUser.query().order_by(SyncUser.c.id).iter(batch=2)
    assert next(stream).name == "u0"
    assert db.pool.stats().in_use == 1  # the cursor keeps its connection until the end
    assert [u.name for u in stream] == ["u1", "u2", "u3", "u4"]
    assert db.pool.stats().in_use == 0
    with db.transaction():
        SyncUser.create(name="u5", email="u5@example.com")
        # inside the transaction the stream runs on the writer and sees the new row
        assert [u.name for u in SyncUser.query().iter()][-1] == "u5"
        assert db.pool.stats().in_use == 0
    db.close()


def test_statistics_stay_consistent_under_pooled_threads(tmp_path):
    from helpers import User as SyncUser

    db = Database(str(tmp_path / "stats.db"), pool_size=4)
    db.bind(SyncUser)
    db.create_tables(SyncUser)
    SyncUser.create(name="Ann", email="ann@example.com")
    db.reset_stats()
    errors: list[BaseException] = []
    per_thread = 600  # several folds' worth from every thread

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                if i % 3 == n % 3:
                    db.execute("SELECT ?", (i,))  # raw SQL: a compile-cache miss every time
                else:
                    SyncUser.query().where(SyncUser.c.id > i % 2 - n).all()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    by_sql = {s.sql: s for s in db.stats()}
    raw = by_sql["SELECT ?"]
    # Every raw statement misses the compile cache; none of them is ever counted as a hit.
    assert raw.cache_hits == 0
    assert 0 < raw.cache_misses == raw.count <= 4 * per_thread
    assert sum(s.count for s in by_sql.values()) <= 4 * per_thread
    db.close()


# Statements as values (activeq.insert/update/delete) on async models --------------------------


def test_statements_on_async_models_are_awaited_on_the_writer(tmp_path):
    from activeq import delete, insert, update

    async def main():
        async with await open_db(tmp_path / "a.db") as db:
            stmt = insert(User).values(name="Ann", email="ann@example.com")
            assert stmt.to_sql()[1] == ["Ann", "ann@example.com"]  # rendering runs nothing
            with db.sync.track_queries() as tracked:
                pending = stmt.execute()
                assert len(tracked) == 0  # nothing ran before the await
                assert await pending == 1
            assert [q.sql for q in tracked.queries] == [stmt.to_sql()[0]]
            new = await insert(User).values(name="Bob", email="bob@example.com").returning("id").execute()
            assert [r.id for r in new] == [2]
            changed = await update(User).where(User.c.id == 2).values(age=40).returning("age").execute()
            assert [r.age for r in changed] == [40]
            assert await delete(User).where(User.c.name == "Ann").execute() == 1
            assert await User.query().tuples() == [(2, "Bob", "bob@example.com", 40)]

            # Inside a transaction they run in it: a rollback takes them back.
            with pytest.raises(RuntimeError, match="undo"):
                async with db.transaction():
                    await update(User).where(User.c.id == 2).values(age=41).execute()
                    await insert(User).values(name="Cy", email="cy@example.com").execute()
                    assert await User.query().count() == 2
                    raise RuntimeError("undo")
            assert await User.query().tuples() == [(2, "Bob", "bob@example.com", 40)]

            # Bad input is refused when execute() is called, before anything is queued.
            with pytest.raises(ActiveqError, match="without where\\(\\) would remove every row"):
                delete(User).execute()

    run(main())
