"""Models written and read on a DuckDB or PostgreSQL engine with activeq's own statements.

``Database`` runs on SQLite; for the other engines these tests take the steps its terminals
take: validate the values as the model does, compile the statement for the engine's dialect,
bind through ``Compiled.values`` (activeq's bind conversions) and build results with the
compiled row mapper and row converter (its result conversions), on a real engine connection.
"""

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

from activeq import Database, func
from activeq.batch import check_awareness, row_validator
from activeq.compiler import compiler
from activeq.ddl import create_table_statements
from activeq.engines import Connection, open_engine
from activeq.query import Insert, Update
from activeq.types import FloatType
from activeq.values import refuse_nan_in_rows


class EngineModels:
    """``create``, ``insert_many``, ``update`` and reads of models over one engine connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect

    def create_tables(self, *models: Any) -> None:
        for model in models:
            for sql in create_table_statements(model, self.dialect):
                self.conn.execute(sql)

    def _rows(self, model: Any, rows: list[dict[str, Any]]) -> tuple[tuple[str, ...], list[list[Any]]]:
        info = model.__aq__
        dicts = row_validator(model).validate(rows, 0)
        names = tuple(n for n in info.names if n != info.pk.name)
        check_awareness(model, names, dicts, 0, None)
        refuse_nan_in_rows(model, [n for n in names if isinstance(info.by_name[n].type, FloatType)],
                           dicts, 0)
        return names, [[d[n] for n in names] for d in dicts]

    def create(self, model: Any, **values: Any) -> Any:
        """Insert one validated row; its new primary key."""
        names, (row,) = self._rows(model, [values])
        entry, _ = compiler.compile(Insert(model, names, returning=True), self.dialect)
        return self.conn.execute(entry.sql, entry.values(row)).rows[0][0]

    def insert_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        """Validate every row first, then one ``executemany``, as ``Model.insert_many`` does."""
        names, values = self._rows(model, rows)
        entry, _ = compiler.compile(Insert(model, names), self.dialect)
        self.conn.begin()
        try:
            self.conn.executemany(entry.sql, [entry.values(v) for v in values])
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        return len(values)

    def update(self, query: Any, values: dict[str, Any]) -> int:
        stmt = Update.build(query, values, False)
        entry, _ = compiler.compile(stmt, self.dialect)
        return self.conn.execute(entry.sql, entry.values(stmt.params)).rowcount

    def all(self, query: Any) -> list[Any]:
        entry, _ = compiler.compile(query, self.dialect)
        return entry.mapper(self.conn.execute(entry.sql, entry.values(query.params)).rows, None)  # type: ignore[no-any-return]

    def tuples(self, query: Any) -> list[tuple[Any, ...]]:
        entry, _ = compiler.compile(query, self.dialect)
        rows = self.conn.execute(entry.sql, entry.values(query.params)).rows
        return [tuple(r) for r in entry.convert_rows(rows)]

    def count(self, query: Any) -> int:
        sql, params = query.select(func.count()).to_sql(self.dialect)
        return int(self.conn.execute(sql, params).rows[0][0])

    def raw(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(sql).rows]

    def run(self, sql: str) -> None:
        self.conn.execute(sql)


class DatabaseModels:
    """The same calls through ``Database`` and the model API (SQLite)."""

    dialect = "sqlite"

    def __init__(self, db: Any) -> None:
        self.db = db

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
def models_on(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``DatabaseModels`` on a SQLite file, or ``EngineModels`` on DuckDB or PostgreSQL."""
    if kind == "sqlite":
        db = Database(str(tmp_path / "models.db"))
        try:
            yield DatabaseModels(db)
        finally:
            db.close()
        return
    url = (f"duckdb:///{tmp_path / 'models.duckdb'}" if kind == "duckdb"
           else _pg_url(request.getfixturevalue("pg_conninfo")))
    engine = open_engine(url)
    conn = engine.connect()
    try:
        yield EngineModels(conn)
    finally:
        conn.close()
        engine.close()
