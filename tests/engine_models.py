"""The same model calls on SQLite, DuckDB and PostgreSQL, through ``Database``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

try:
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # without psycopg the PostgreSQL runs skip (the pg_server fixture says so)
    conninfo_to_dict = None

from activeq import Database


class DatabaseModels:
    """``create``, ``insert_many``, ``update`` and reads through ``Database`` and the model API."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.dialect

    def create_tables(self, *models: Any) -> None:
        self.db.bind(*models)
        self.db.create_tables(*models)

    def create(self, model: Any, **values: Any) -> Any:
        return model.create(**values).id

    def insert_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        return model.insert_many(rows)  # type: ignore[no-any-return]

    def update(self, query: Any, values: dict[str, Any]) -> int:
        return query.update(values)  # type: ignore[no-any-return]

    def all(self, query: Any) -> list[Any]:
        return query.all()  # type: ignore[no-any-return]

    def tuples(self, query: Any) -> list[tuple[Any, ...]]:
        return query.tuples()  # type: ignore[no-any-return]

    def count(self, query: Any) -> int:
        return query.count()  # type: ignore[no-any-return]

    def raw(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.db.execute(sql).fetchall()]

    def run(self, sql: str) -> None:
        self.db.execute(sql)


ENGINES = ["sqlite", "duckdb", "postgres"]


def _pg_url(conninfo: str) -> str:
    p = conninfo_to_dict(conninfo)
    return f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


@contextmanager
def models_on(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseModels]:
    """A ``Database`` on a fresh SQLite file, DuckDB file or PostgreSQL database."""
    url = {"sqlite": str(tmp_path / "models.db"), "duckdb": f"duckdb:///{tmp_path / 'models.duckdb'}"}.get(kind)
    db = Database(url if url is not None else _pg_url(request.getfixturevalue("pg_conninfo")))
    try:
        yield DatabaseModels(db)
    finally:
        db.close()
