"""AsyncDatabase on PostgreSQL: the greenlets that run the synchronous session code.

A finished call leaves its greenlet idle for the next call (a new greenlet per call costs a
fresh Python frame stack each time); calls in flight together each get their own; a call that
failed or was cancelled leaves a worker that serves the next call normally.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from engine_urls import pg_url
from greenlet import getcurrent
from test_async_native import RENDEZVOUS

from activeq import AsyncActiveRecord, AsyncDatabase, Field
from activeq.errors import IntegrityError
from activeq.nplusone import NPlusOneError


class Tool(AsyncActiveRecord):
    __table_name__ = "tools"
    id: int = Field(primary_key=True)
    name: str = Field(unique=True)


@pytest.fixture
def url(pg_conninfo: str) -> str:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS tools")
        conn.execute(RENDEZVOUS)
    return pg_url(pg_conninfo)


async def _open(url: str) -> AsyncDatabase:
    db = AsyncDatabase(url, pool_size=3)
    db.bind(Tool)
    await db.create_tables(Tool)
    return db


def _greenlet(_db):
    return getcurrent()


def test_calls_one_after_another_run_in_one_reused_greenlet(url):
    async def main() -> None:
        db = await _open(url)
        hammer = await Tool.create(name="hammer")
        first = await db.run_sync(_greenlet)
        for _ in range(5):
            assert (await Tool.find_by_id(hammer.id)).name == "hammer"
            assert await db.run_sync(_greenlet) is first
        # The worker is idle between calls, not finished: it serves the next one.
        assert not first.dead and first is not getcurrent()
        await db.close()

    asyncio.run(main())


def test_calls_in_flight_together_each_get_their_own_greenlet(url):
    async def main() -> None:
        db = await _open(url)

        def meet(d, n):
            # Returns only once n sessions have called it: the three calls are in flight
            # together (the loop serves the others while one waits on the server).
            d.execute("SELECT rendezvous(%s)", (n,))
            return getcurrent()

        workers = await asyncio.gather(*(db.run_sync(lambda d: meet(d, 3)) for _ in range(3)))
        assert len({id(w) for w in workers}) == 3
        # All three are idle now, and the next calls reuse them.
        again = await asyncio.gather(*(db.run_sync(lambda d: meet(d, 6)) for _ in range(3)))
        assert {id(w) for w in again} == {id(w) for w in workers}
        await db.close()

    asyncio.run(main())


def test_a_failed_or_cancelled_call_leaves_a_worker_that_serves_the_next(url):
    async def main() -> None:
        db = await _open(url)
        await Tool.create(name="saw")
        with pytest.raises(IntegrityError, match="tools_name_key"):
            await Tool.create(name="saw")
        failed_in = await db.run_sync(_greenlet)
        assert [t.name for t in await Tool.query().all()] == ["saw"]

        slow = asyncio.create_task(db.run_sync(lambda d: d.execute("SELECT pg_sleep(5)")))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The cancelled statement ended on the server; the worker and connection go on.
        assert await db.run_sync(_greenlet) is failed_in
        await Tool.create(name="drill")
        assert await Tool.query().order_by(Tool.c.name).pluck("name") == ["drill", "saw"]
        await db.close()

    asyncio.run(main())


def test_find_by_id_is_awaited_on_the_loop_and_recorded_like_any_statement(url):
    seen = []

    def slow(query) -> None:  # every statement is "slow" at 0 ms: called as it is recorded
        seen.append((query.sql, query.params, query.rows, getcurrent().parent is None))

    async def main() -> None:
        db = AsyncDatabase(url, slow_query_ms=0, on_slow_query=slow)
        db.bind(Tool)
        await db.create_tables(Tool)
        chisel = await Tool.create(name="chisel")
        await Tool.find_by_id(chisel.id)  # the first lookup compiles the statement
        seen.clear()
        with db.track_queries() as tracked:
            assert (await Tool.find_by_id(chisel.id)).name == "chisel"
            assert await Tool.find_by_id(chisel.id + 100) is None
        sql = 'SELECT "id", "name" FROM "tools" WHERE "id" = %s'  # one table: bare columns
        assert [(q.sql, q.params) for q in tracked.queries] == [
            (sql, (chisel.id,)), (sql, (chisel.id + 100,))]
        # Recorded on the event loop's own greenlet, not in a worker greenlet.
        assert seen == [(sql, (chisel.id,), 1, True), (sql, (chisel.id + 100,), 0, True)]
        await db.close()

    asyncio.run(main())


def test_find_by_id_in_a_loop_is_reported_as_n_plus_one_at_the_users_line(url):
    async def main() -> None:
        db = AsyncDatabase(url, n_plus_one="raise")
        db.bind(Tool)
        await db.create_tables(Tool)
        ids = [(await Tool.create(name=f"t{i}")).id for i in range(6)]
        with pytest.raises(NPlusOneError) as raised:
            for i in ids:
                await Tool.find_by_id(i)  # the line reported
        report = raised.value.report
        assert report.filename == __file__
        assert report.function == "main"
        assert report.sql.startswith('SELECT "id", "name" FROM "tools"')
        with open(__file__) as source:
            assert source.read().splitlines()[report.lineno - 1].strip() == \
                "await Tool.find_by_id(i)  # the line reported"
        await db.close()

    asyncio.run(main())
