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

from activeq import AsyncActiveRecord, AsyncDatabase, Field
from activeq.errors import IntegrityError


class Tool(AsyncActiveRecord):
    __table_name__ = "tools"
    id: int = Field(primary_key=True)
    name: str = Field(unique=True)


@pytest.fixture
def url(pg_conninfo: str) -> str:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS tools")
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

        def held(d):
            # Waits on the server (the loop serves the other calls meanwhile).
            d.execute("SELECT pg_sleep(0.05)")
            return getcurrent()

        workers = await asyncio.gather(*(db.run_sync(held) for _ in range(3)))
        assert len({id(w) for w in workers}) == 3
        # All three are idle now, and the next calls reuse them.
        again = await asyncio.gather(*(db.run_sync(held) for _ in range(3)))
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
