"""AsyncDatabase on PostgreSQL: psycopg's AsyncConnection and AsyncConnectionPool, no thread hop.

Every test runs against the real PostgreSQL server the suite starts.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from engine_urls import pg_url
from psycopg import errors as pg_errors

from activeq import AsyncActiveRecord, AsyncDatabase, Field
from activeq.engines.psycopg import AsyncPsycopgEngine
from activeq.errors import (
    ActiveqError,
    ConfigurationError,
    IntegrityError,
    OperationalError,
    SerializationError,
)


class Gadget(AsyncActiveRecord):
    __table_name__ = "gadgets"
    id: int = Field(primary_key=True)
    name: str = Field(unique=True)
    price: int = 0


# Waits inside the server until ``n`` sessions have called it: it returns only when that many
# statements are in flight together, so a serialized run can never pass (it gives up after
# 20 s with an error instead of hanging). Arrivals are counted with a sequence, whose
# nextval() every session sees at once, outside any transaction.
RENDEZVOUS = """
CREATE SEQUENCE arrivals;
CREATE FUNCTION rendezvous(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM nextval('arrivals');
    LOOP
        IF (SELECT last_value FROM arrivals) >= n THEN
            RETURN pg_backend_pid();
        END IF;
        IF clock_timestamp() - t0 > interval '20 seconds' THEN
            RAISE EXCEPTION 'only some of the % sessions met', n;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$"""


@pytest.fixture
def url(pg_conninfo: str) -> str:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute(RENDEZVOUS)
    return pg_url(pg_conninfo)


async def _open(url: str, **options) -> AsyncDatabase:
    db = AsyncDatabase(url, **options)
    db.bind(Gadget)
    await db.create_tables(Gadget)
    return db


def test_postgres_url_runs_on_psycopg_async_engine_on_the_loop_thread(url):
    seen: list[tuple[int, type]] = []

    def record(raw) -> None:  # on_connect: called for every pooled connection
        seen.append((threading.get_ident(), type(raw)))

    async def main() -> None:
        before = {t.ident for t in threading.enumerate()}
        db = await _open(url, on_connect=record)
        assert isinstance(db.native, AsyncPsycopgEngine)
        assert db.dialect == "postgres"
        loop_thread = threading.get_ident()
        with db.track_queries() as t:
            g = await Gadget.create(name="lamp", price=3)
            found = await Gadget.find_by_id(g.id)
            names = await Gadget.query().where(Gadget.c.price > 1).pluck("name")
        assert (found.name, names) == ("lamp", ["lamp"])
        assert [q.sql.split()[0] for q in t.queries] == ["INSERT", "SELECT", "SELECT"]
        # Every connection was made on this thread, and is psycopg's async connection.
        assert {ident for ident, _ in seen} == {loop_thread}
        assert {kind for _, kind in seen} == {psycopg.AsyncConnection}
        # No worker thread was started for it (the SQLite design starts a writer thread).
        started = {t.name for t in threading.enumerate() if t.ident not in before}
        assert not any(name.startswith("activeq-") for name in started)
        # Nor was anything handed to the loop's executor (run_in_executor, to_thread).
        assert asyncio.get_running_loop()._default_executor is None
        await db.close()

    asyncio.run(main())


def test_statements_run_on_the_event_loop_thread_inside_the_driver(url):
    async def main() -> None:
        db = await _open(url)
        threads: list[int] = []
        # A notice from the server is handled by psycopg in the thread that runs the query.
        raws: list = []

        def capture(db_sync) -> None:
            raw = db_sync.connection
            raws.append(raw)
            raw.add_notice_handler(lambda diag: threads.append(threading.get_ident()))
            db_sync.execute("DO $$ BEGIN RAISE NOTICE 'here'; END $$")

        await db.run_sync(capture)
        assert isinstance(raws[0], psycopg.AsyncConnection)
        assert threads == [threading.get_ident()]
        await db.close()

    asyncio.run(main())


def test_gathered_reads_run_at_once_on_several_pooled_connections(url):
    async def main() -> None:
        db = await _open(url, pool_size=4)

        async def meet() -> int:
            return await db.run_sync(
                lambda d: d.execute("SELECT rendezvous(4)").fetchall()[0][0], write=False)

        pids = await asyncio.gather(*(meet() for _ in range(4)))
        # Four statements were in flight together, each on its own server session.
        assert len(set(pids)) == 4
        await db.close()

    asyncio.run(main())


def test_pool_size_bounds_the_connections_of_gathered_work(url):
    async def main() -> None:
        db = await _open(url, pool_size=2)

        async def pid() -> int:
            return await db.run_sync(
                lambda d: d.execute("SELECT pg_backend_pid() FROM pg_sleep(0.05)").fetchall()[0][0])

        pids = await asyncio.gather(*(pid() for _ in range(6)))
        assert len(set(pids)) <= 2
        await db.close()

    asyncio.run(main())


def _pid(d) -> int:
    return d.execute("SELECT pg_backend_pid()").fetchall()[0][0]


def test_awaits_one_after_another_reuse_one_connection_and_gathered_ones_still_meet(url):
    async def main() -> None:
        db = await _open(url, pool_size=3)
        lamp = await Gadget.create(name="lamp", price=3)

        async def meet(n: int) -> int:
            return await db.run_sync(
                lambda d: d.execute("SELECT rendezvous(%s)", (n,)).fetchall()[0][0], write=False)

        # Three statements in flight together: the pool now holds three server sessions.
        assert len(set(await asyncio.gather(*(meet(3) for _ in range(3))))) == 3
        pids = []
        for _ in range(12):
            assert (await Gadget.find_by_id(lamp.id)).name == "lamp"
            pids.append(await db.run_sync(_pid, write=False))
        # One after another, every call ran on the same server session.
        assert len(set(pids)) == 1
        # Gathered calls still run at once, the kept connection among the three.
        met = await asyncio.gather(*(meet(6) for _ in range(3)))
        assert len(set(met)) == 3 and pids[0] in met
        await db.close()

    asyncio.run(main())


def test_the_kept_connection_counts_within_pool_size_and_is_given_to_waiters(url):
    async def main() -> None:
        db = await _open(url, pool_size=1)
        lamp = await Gadget.create(name="lamp", price=3)
        # With one connection, gathered calls and a transaction take turns on it (none waits
        # for a connection the database keeps for itself).
        found = await asyncio.gather(*(Gadget.find_by_id(lamp.id) for _ in range(5)))
        assert [g.name for g in found] == ["lamp"] * 5
        async with db.transaction():
            await Gadget.create(name="desk")
        pids = await asyncio.gather(*(db.run_sync(_pid, write=False) for _ in range(4)))
        assert len(set(pids)) == 1
        assert await Gadget.query().order_by(Gadget.c.name).pluck("name") == ["desk", "lamp"]
        await db.close()

    asyncio.run(main())


def test_transactions_commit_roll_back_and_nest(url):
    async def main() -> None:
        db = await _open(url)
        async with db.transaction():
            await Gadget.create(name="a")
            assert db.in_transaction
            try:
                async with db.transaction():  # a savepoint
                    await Gadget.create(name="b")
                    raise KeyError("undo the inner level")
            except KeyError:
                pass
            # Another task sees only committed rows, on another connection.
            assert await asyncio.create_task(_count_outside(db)) == 0
        assert not db.in_transaction
        assert await Gadget.query().order_by(Gadget.c.name).pluck("name") == ["a"]

        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction():
                await Gadget.create(name="c")
                raise RuntimeError("boom")
        assert await Gadget.query().count() == 1
        await db.close()

    asyncio.run(main())


async def _count_outside(db: AsyncDatabase) -> int:
    # A task of its own, outside the transaction: it reads on another pooled connection.
    from activeq import aio

    token = aio._TX.set(None)
    try:
        return await Gadget.query().count()
    finally:
        aio._TX.reset(token)


def test_errors_are_translated_by_sqlstate_and_keep_the_driver_error(url):
    async def main() -> None:
        db = await _open(url)
        await Gadget.create(name="x")
        with pytest.raises(IntegrityError) as raised:
            await Gadget.create(name="x")
        assert raised.value.sqlstate == "23505"
        assert isinstance(raised.value.__cause__, pg_errors.UniqueViolation)
        with pytest.raises(OperationalError, match='relation "nope" does not exist'):
            await db.execute("SELECT * FROM nope")
        # The connection that failed is usable again.
        assert await Gadget.query().count() == 1
        await db.close()

    asyncio.run(main())


def test_serialization_failure_is_a_serialization_error_and_rolls_back(url):
    async def main() -> None:
        db = await _open(url)
        await Gadget.create(name="s", price=1)
        entered = asyncio.Event()
        other_done = asyncio.Event()

        async def first() -> None:
            try:
                async with db.transaction("serializable"):
                    assert await Gadget.query().pluck("price") == [1]
                    entered.set()
                    await other_done.wait()
                    await Gadget.query().where(Gadget.c.name == "s").update({"price": 10})
            finally:
                entered.set()

        async def second() -> None:
            await entered.wait()
            try:
                async with db.transaction("serializable"):
                    assert await Gadget.query().pluck("price") == [1]
                    await Gadget.query().where(Gadget.c.name == "s").update({"price": 20})
            finally:
                other_done.set()

        results = await asyncio.gather(first(), second(), return_exceptions=True)
        assert results[1] is None
        assert isinstance(results[0], SerializationError)
        assert results[0].sqlstate == "40001"
        assert await Gadget.query().pluck("price") == [20]
        await db.close()

    asyncio.run(main())


def test_a_server_that_is_down_is_reported_when_opened(url):
    async def main() -> None:
        with pytest.raises(OperationalError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1 "):
            async with AsyncDatabase("postgresql://ann:s3cret@127.0.0.1:1/app"):
                pass

    asyncio.run(main())


def test_bad_pool_size_is_refused(url):
    with pytest.raises(ConfigurationError, match="pool_size must be a positive integer, not 0"):
        AsyncDatabase(url, pool_size=0)


def test_streaming_and_chunks_keep_one_connection(url):
    async def main() -> None:
        db = await _open(url)
        await Gadget.insert_many([{"name": f"g{i:02}", "price": i} for i in range(25)])
        names = [g.name async for g in Gadget.query().order_by(Gadget.c.name).iter(batch=10)]
        assert names == [f"g{i:02}" for i in range(25)]
        sizes = [len(c) async for c in Gadget.query().chunks(10)]
        assert sizes == [10, 10, 5]
        await db.close()

    asyncio.run(main())


def test_blocking_use_of_the_async_session_is_refused(url):
    async def main() -> None:
        db = await _open(url)
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(lambda: db.sync.execute("SELECT 1"))
            with pytest.raises(ActiveqError, match="use it through its AsyncDatabase"):
                future.result()
        await db.close()

    asyncio.run(main())


def test_serialization_failure_is_retried_by_atomic_in_run_sync(url):
    from activeq import RetryPolicy

    async def main() -> None:
        db = await _open(url, retry=RetryPolicy(attempts=3, base_delay=0))
        runs: list[int] = []

        def work() -> int:
            runs.append(1)
            Gadget.create(name=f"try{len(runs)}")  # synchronous here, as in any run_sync
            if len(runs) == 1:  # the first try loses a race after its insert
                db.sync.execute("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$")
            return Gadget.query().count()

        assert await db.run_sync(lambda d: d.atomic(work, mode="serializable")) == 1
        assert len(runs) == 2 and db.sync.busy_retries == 1
        assert await Gadget.query().pluck("name") == ["try2"]  # the failed try rolled back
        await db.close()

    asyncio.run(main())


def test_a_retry_backs_off_on_the_event_loop_not_by_blocking_it(url):
    async def main() -> None:
        db = await _open(url)
        order: list[str] = []
        tasks: list[asyncio.Task] = []

        def back_off(d) -> None:
            # Runs when the loop next gets control: during the pause, or after this job.
            tasks.append(asyncio.get_running_loop().create_task(_note(order)))
            order.append("before")
            d._thread().conn.pause(0)  # what a retry does between two tries
            order.append("after")

        await db.run_sync(back_off)
        await tasks[0]
        # The other task ran while this one backed off: the loop was not blocked.
        assert order == ["before", "other task", "after"]
        await db.close()

    asyncio.run(main())


async def _note(order: list[str]) -> None:
    order.append("other task")
