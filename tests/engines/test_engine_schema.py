"""The schema check reads the live catalog of SQLite, DuckDB and a real PostgreSQL server.

Tables made from the models' own DDL show no difference on any engine; tables an older model
(or another program) left behind show the same differences everywhere, each engine reporting
its types in its own words.
"""

from __future__ import annotations

from activeq import ActiveRecord, Field, belongs_to
from activeq.constraints import creation_order
from activeq.ddl import column_definition, create_table_statements
from activeq.engines import Connection
from activeq.schema import (
    ExtraColumn,
    MissingColumn,
    MissingForeignKey,
    MissingIndex,
    MissingTable,
    NullabilityMismatch,
    TypeMismatch,
    differences,
)


class Patron(ActiveRecord):
    __table_name__ = "patrons"
    __indexes__ = (("status", "joined"),)
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=100, unique=True)
    code: int = Field(unique=True)
    status: str = Field(default="new", index=True)
    joined: str = ""
    age: int | None = None


class Loan(ActiveRecord):
    __table_name__ = "loans"
    __unique__ = (("patron_code", "title"),)
    id: int = Field(primary_key=True)
    patron_code: int
    title: str = Field(max_length=50)
    patron = belongs_to(Patron, foreign_key="patron_code", target_key="code", on_delete="restrict")


class Quoted(ActiveRecord):
    __table_name__ = 'Odd "Name"'
    id: int = Field(primary_key=True)
    Label: str = Field(max_length=10, index=True)


def _dialect(conn: Connection) -> str:
    return conn.dialect


def _create(conn: Connection, *models) -> None:
    for model in models:
        for sql in create_table_statements(model, _dialect(conn)):
            conn.execute(sql)


def _id_type(conn: Connection) -> str:
    """The primary key's type as activeq declares it on this engine."""
    return column_definition(Patron.__aq__.by_name["id"], _dialect(conn)).args["kind"].sql(
        _dialect(conn))


def test_tables_made_from_the_models_have_no_differences(conn):
    _create(conn, Patron, Loan, Quoted)
    assert differences(conn.fetch, _dialect(conn), [Patron, Loan, Quoted]) == []


def test_tables_are_created_after_the_tables_their_foreign_keys_refer_to(conn):
    # PostgreSQL and DuckDB refuse a FOREIGN KEY to a table that does not exist yet.
    ordered = creation_order([Loan, Quoted, Patron])
    assert ordered == [Quoted, Patron, Loan]
    _create(conn, *ordered)
    assert differences(conn.fetch, _dialect(conn), ordered) == []


def test_a_missing_table_is_named(conn):
    _create(conn, Patron)
    (found,) = differences(conn.fetch, _dialect(conn), [Loan])
    assert isinstance(found, MissingTable) and found.table == "loans"
    for sql in found.statements:
        conn.execute(sql)
    assert differences(conn.fetch, _dialect(conn), [Patron, Loan]) == []


def test_the_same_drift_is_found_on_every_engine(conn):
    dialect = _dialect(conn)
    conn.execute(
        f"CREATE TABLE patrons (id {_id_type(conn)} PRIMARY KEY, name TEXT, "
        "email VARCHAR(100) NOT NULL, code BIGINT NOT NULL UNIQUE, "
        "status TEXT NOT NULL DEFAULT 'new', joined TEXT NOT NULL DEFAULT '', "
        "legacy TEXT NOT NULL)")
    conn.execute("CREATE INDEX patrons_by_joined ON patrons (joined, status)")
    found = differences(conn.fetch, dialect, [Patron])
    assert [type(d) for d in found] == [MissingColumn, NullabilityMismatch, ExtraColumn,
                                        MissingIndex, MissingIndex, MissingIndex]
    missing, nullable, extra, *indexes = found
    age_type = "INTEGER" if dialect == "sqlite" else "BIGINT"
    assert (missing.column, missing.ddl) == (
        "age", f'ALTER TABLE "patrons" ADD COLUMN "age" {age_type}')
    assert (nullable.column, nullable.model_nullable) == ("name", False)
    assert extra.column == "legacy"
    assert [(i.columns, i.unique) for i in indexes] == [
        (("email",), True), (("status",), False), (("status", "joined"), False)]
    for difference in (missing, *indexes):
        conn.execute(difference.ddl)
    assert [type(d) for d in differences(conn.fetch, dialect, [Patron])] == [
        NullabilityMismatch, ExtraColumn]


def test_a_type_mismatch_is_found_in_each_engines_words(conn):
    dialect = _dialect(conn)
    _create(conn, Patron)
    conn.execute(
        f"CREATE TABLE loans (id {_id_type(conn)} PRIMARY KEY, patron_code BIGINT NOT NULL "
        "REFERENCES patrons (code) ON DELETE RESTRICT, title DOUBLE PRECISION NOT NULL, UNIQUE (patron_code, title))")
    (found,) = differences(conn.fetch, dialect, [Loan])
    assert isinstance(found, TypeMismatch) and found.column == "title"
    assert found.expected == "VARCHAR(50)"  # the field's column type, named alike everywhere
    assert found.actual == {"sqlite": "DOUBLE PRECISION", "postgres": "double precision",
                            "duckdb": "DOUBLE"}[dialect]


def test_a_missing_foreign_key_is_found(conn):
    dialect = _dialect(conn)
    _create(conn, Patron)
    conn.execute(
        f"CREATE TABLE loans (id {_id_type(conn)} PRIMARY KEY, patron_code BIGINT NOT NULL, "
        "title VARCHAR(50) NOT NULL, UNIQUE (title, patron_code))")
    (found,) = differences(conn.fetch, dialect, [Loan])
    assert isinstance(found, MissingForeignKey)
    assert (found.column, found.references, found.on_delete, found.actual_on_delete) == (
        "patron_code", "patrons.code", "restrict", None)


def test_a_foreign_key_with_another_action_is_found(pg_engine, sqlite_engine):
    # DuckDB's foreign keys have no action to differ in: only SQLite and PostgreSQL here.
    for engine in (sqlite_engine, pg_engine):
        conn = engine.connect()
        _create(conn, Patron)
        conn.execute(
            f"CREATE TABLE loans (id {_id_type(conn)} PRIMARY KEY, patron_code BIGINT NOT NULL "
            "REFERENCES patrons (code) ON DELETE CASCADE, title VARCHAR(50) NOT NULL, "
            "UNIQUE (title, patron_code))")
        (found,) = differences(conn.fetch, conn.dialect, [Loan])
        assert found.actual_on_delete == "cascade"
        assert "the table's foreign key has ON DELETE CASCADE" in str(found)
        conn.close()


def test_postgres_names_are_exact_and_quoted(pg_engine):
    conn = pg_engine.connect()
    # Another table that differs only in letter case is not ours.
    conn.execute('CREATE TABLE "odd ""name""" (id INT PRIMARY KEY)')
    assert [type(d) for d in differences(conn.fetch, "postgres", [Quoted])] == [MissingTable]
    _create(conn, Quoted)
    assert differences(conn.fetch, "postgres", [Quoted]) == []
    conn.execute('ALTER TABLE "Odd ""Name""" RENAME COLUMN "Label" TO label')
    found = differences(conn.fetch, "postgres", [Quoted])
    # The index on "Label" now covers label: it is not the declared one.
    assert [type(d) for d in found] == [MissingColumn, ExtraColumn, MissingIndex]
    assert found[0].ddl == 'ALTER TABLE "Odd ""Name""" ADD COLUMN "Label" VARCHAR(10) NOT NULL'
    conn.close()


class StockItem(ActiveRecord):
    __table_name__ = "stock_items"
    __schema__ = "stock"
    id: int = Field(primary_key=True)
    code: int = Field(unique=True)
    title: str = Field(max_length=20, index=True)


class StockMove(ActiveRecord):
    __table_name__ = "stock_moves"
    __schema__ = "stock"
    id: int = Field(primary_key=True)
    item_code: int
    item = belongs_to(StockItem, foreign_key="item_code", target_key="code", on_delete="restrict")


def test_schema_qualified_tables_are_read_in_their_schema(conn, tmp_path):
    dialect = _dialect(conn)
    if dialect == "sqlite":
        conn.execute("ATTACH DATABASE ? AS stock", (str(tmp_path / "stock.db"),))
    else:
        conn.execute("CREATE SCHEMA stock")
    # A same-named table outside the schema, of another shape, is not the model's table.
    conn.execute("CREATE TABLE stock_items (other TEXT NOT NULL)")
    assert [type(d) for d in differences(conn.fetch, dialect, [StockItem])] == [MissingTable]
    _create(conn, *creation_order([StockMove, StockItem]))
    assert differences(conn.fetch, dialect, [StockItem, StockMove]) == []
    conn.execute('DROP INDEX stock."idx_stock_items_title"')
    (found,) = differences(conn.fetch, dialect, [StockItem])
    assert found.table == "stock.stock_items"
    conn.execute(found.ddl)
    assert differences(conn.fetch, dialect, [StockItem]) == []


def test_foreign_keys_name_the_referenced_schema_except_on_sqlite():
    clause = 'FOREIGN KEY ("item_code") REFERENCES {} ("code") ON DELETE RESTRICT)'
    assert create_table_statements(StockMove, "postgres")[0].endswith(
        clause.format('"stock"."stock_items"'))
    assert create_table_statements(StockMove, "duckdb")[1].endswith(
        clause.format('"stock"."stock_items"'))
    # SQLite keeps a foreign key inside one (attached) database and names the table alone.
    assert create_table_statements(StockMove, "sqlite")[0].endswith(
        clause.format('"stock_items"'))
