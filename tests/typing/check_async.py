"""Async terminals are awaitable and typed like their synchronous forms."""

from __future__ import annotations

import asyncio
from typing import assert_type

from models import Reader

from activeq import AsyncDatabase, Row, func
from activeq.aio import AsyncQuery


async def main() -> None:
    db = AsyncDatabase(":memory:")
    db.bind(Reader)
    await db.create_tables(Reader)
    ada = await Reader.create(name="Ada")
    assert_type(ada, Reader)
    query = Reader.query().where(Reader.c.name == "Ada").order_by(Reader.c.id).limit(5)
    assert_type(query, AsyncQuery[Reader])
    everyone = await query.all()
    assert_type(everyone, list[Reader])
    assert [r.name for r in everyone] == ["Ada"]
    first = await Reader.query().first()
    assert_type(first, Reader | None)
    found = await Reader.find_by_id(ada.id)
    assert_type(found, Reader | None)
    assert found is not None and found.name == "Ada"
    assert_type(await Reader.query().count(), int)
    rows = await Reader.query().select(Reader.c.name, func.count().as_("n")).group_by(Reader.c.name).all()
    assert_type(rows, list[Row])
    assert isinstance(rows[0], Row) and rows[0].n == 1
    async for reader in Reader.query():
        assert_type(reader, Reader)
    renamed = await Reader.query().where(Reader.c.id == ada.id).returning("name").update({"name": "Ida"})
    assert_type(renamed, list[Row])
    assert [r.name for r in renamed] == ["Ida"]
    assert_type(await Reader.query().where(Reader.c.id == -1).delete(), int)
    await db.close()


if __name__ == "__main__":
    asyncio.run(main())
    print("ok")
