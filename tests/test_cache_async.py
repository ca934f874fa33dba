"""The result cache under pooled async readers: concurrent cached reads and writes neither fail
nor leave a stale result behind."""

from __future__ import annotations

import asyncio
from typing import Any

from activeq import AsyncActiveRecord, AsyncDatabase, Field


class PooledItem(AsyncActiveRecord):
    __table_name__ = "pooled_items"
    id: int = Field(primary_key=True)
    n: int


def test_cached_reads_on_pooled_readers_while_writing(tmp_path: Any) -> None:
    async def main() -> tuple[list[BaseException], int, int]:
        db = AsyncDatabase(str(tmp_path / "pooled.db"), pool_size=4, query_cache=True)
        db.bind(PooledItem)
        await db.create_tables(PooledItem)
        await PooledItem.insert_many([{"n": i} for i in range(100)])
        errors: list[BaseException] = []

        async def reader() -> None:
            for _ in range(60):
                try:
                    rows = await PooledItem.query().where(PooledItem.c.n < 50).all()
                    assert len(rows) >= 50
                except BaseException as e:  # noqa: BLE001 - collected and asserted below
                    errors.append(e)

        async def writer() -> None:
            for i in range(40):
                try:
                    await PooledItem.create(n=1000 + i)
                    await PooledItem.query().where(PooledItem.c.n == 1000 + i).update({"n": 10})
                except BaseException as e:  # noqa: BLE001
                    errors.append(e)

        await asyncio.gather(*[reader() for _ in range(4)], writer())
        cached = len(await PooledItem.query().where(PooledItem.c.n < 50).all())
        counted = await PooledItem.query().where(PooledItem.c.n < 50).count()
        await db.close()
        return errors, cached, counted

    errors, cached, counted = asyncio.run(main())
    assert errors == []
    assert cached == counted == 90
