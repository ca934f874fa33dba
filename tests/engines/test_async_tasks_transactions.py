"""AsyncDatabase on PostgreSQL: transactions open at once in different tasks keep their own
bookkeeping. A rollback in one task restores only that task's records and drops only its
pending cache invalidations; another task's commit or rollback is untouched by it.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from engine_urls import pg_url

from activeq import AsyncActiveRecord, AsyncDatabase, Field


class Crate(AsyncActiveRecord):
    __table_name__ = "crates"
    id: int = Field(primary_key=True)
    name: str


class Undo(Exception):
    pass


@pytest.fixture
def url(pg_conninfo: str) -> str:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS crates")
    return pg_url(pg_conninfo)


async def _open(url: str, **options) -> AsyncDatabase:
    db = AsyncDatabase(url, pool_size=4, **options)
    db.bind(Crate)
    await db.create_tables(Crate)
    return db


def test_a_rollback_in_one_task_leaves_another_tasks_committed_record_saved(url):
    async def main() -> None:
        db = await _open(url)
        kept = Crate(name="kept")
        lost = Crate(name="lost")
        b_wrote = asyncio.Event()
        a_ended = asyncio.Event()

        async def rolls_back():
            try:
                async with db.transaction():
                    await lost.save()
                    await b_wrote.wait()
                    raise Undo()
            finally:
                a_ended.set()

        async def commits():
            async with db.transaction():
                await kept.save()
                b_wrote.set()
                await a_ended.wait()

        results = await asyncio.gather(rolls_back(), commits(), return_exceptions=True)
        assert isinstance(results[0], Undo) and results[1] is None
        # The rolled-back record is new again; the committed one keeps its row's id.
        assert lost.id is None
        assert kept.id is not None
        assert await Crate.query().pluck("id", "name") == [(kept.id, "kept")]
        # Saving the committed record again updates its row (no second INSERT).
        kept.name = "kept2"
        await kept.save()
        assert await Crate.query().pluck("id", "name") == [(kept.id, "kept2")]
        await db.close()

    asyncio.run(main())


def test_a_commit_in_one_task_does_not_keep_another_tasks_rolled_back_record(url):
    async def main() -> None:
        db = await _open(url)
        kept = Crate(name="kept")
        lost = Crate(name="lost")
        b_wrote = asyncio.Event()
        a_ended = asyncio.Event()

        async def commits():
            try:
                async with db.transaction():
                    await kept.save()
                    await b_wrote.wait()
            finally:
                a_ended.set()

        async def rolls_back():
            async with db.transaction():
                await lost.save()
                b_wrote.set()
                await a_ended.wait()
                raise Undo()

        results = await asyncio.gather(commits(), rolls_back(), return_exceptions=True)
        assert results[0] is None and isinstance(results[1], Undo)
        assert kept.id is not None
        assert lost.id is None
        assert await Crate.query().pluck("name") == ["kept"]
        # The rolled-back record is new: saving it inserts its row now.
        await lost.save()
        assert await Crate.query().order_by(Crate.c.name).pluck("name") == ["kept", "lost"]
        await db.close()

    asyncio.run(main())


def test_another_tasks_rollback_does_not_let_uncommitted_rows_into_the_instance_cache(url):
    async def main() -> None:
        db = await _open(url, model_cache=True)
        box = await Crate.create(name="box")
        assert (await Crate.find_by_id(box.id)).name == "box"  # now cached
        b_wrote = asyncio.Event()
        a_ended = asyncio.Event()

        async def rolls_back_early():
            try:
                async with db.transaction():
                    await Crate.create(name="other")
                    await b_wrote.wait()
                    raise Undo()
            finally:
                a_ended.set()

        async def reads_its_own_write_then_rolls_back():
            async with db.transaction():
                mine = await Crate.find_by_id(box.id)
                mine.name = "renamed"
                await mine.save()
                b_wrote.set()
                await a_ended.wait()
                # Inside its transaction the task sees its own uncommitted write.
                assert (await Crate.find_by_id(box.id)).name == "renamed"
                raise Undo()

        results = await asyncio.gather(rolls_back_early(), reads_its_own_write_then_rolls_back(),
                                       return_exceptions=True)
        assert all(isinstance(r, Undo) for r in results), results
        # Nothing was committed: every later read, cached or not, sees the committed name.
        assert (await Crate.find_by_id(box.id)).name == "box"
        assert (await Crate.find_by_id(box.id)).name == "box"
        assert await Crate.query().pluck("name") == ["box"]
        await db.close()

    asyncio.run(main())
