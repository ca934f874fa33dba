"""Schema drift: ``db.check_schema``, ``SchemaError`` at bind, and ``create_tables`` on tables
whose shape differs from their models. Real SQLite files; the tables are made by hand the way
an older version of a model (or another program) would have left them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from activeq import (
    ActiveqError,
    ActiveRecord,
    Database,
    Field,
    RelationError,
    SchemaError,
    UnsupportedError,
    belongs_to,
)
from activeq.schema import (
    ExtraColumn,
    MissingColumn,
    MissingForeignKey,
    MissingIndex,
    MissingTable,
    NullabilityMismatch,
    SchemaDifference,
    TypeMismatch,
)


class Client(ActiveRecord):
    __table_name__ = "clients"
    __indexes__ = (("status", "joined"),)
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=100, unique=True)
    status: str = Field(default="new", index=True)
    joined: str = ""
    age: int | None = None


class Visit(ActiveRecord):
    __table_name__ = "visits"
    __unique__ = (("client_id", "day"),)
    id: int = Field(primary_key=True)
    client_id: int
    day: str
    client = belongs_to(Client, foreign_key="client_id", on_delete="cascade")


@pytest.fixture
def db(tmp_path):
    database = Database(str(tmp_path / "drift.db"))
    yield database
    database.close()


def test_tables_made_by_create_tables_have_no_differences(db):
    db.bind(Client, Visit)
    db.create_tables(Client, Visit)
    assert db.check_schema(Client, Visit) == []
    assert db.check_schema() == []  # every model bound to db
    db.create_tables(Client, Visit)  # a second run finds the same shape and passes


def test_check_schema_reads_the_catalog_in_a_few_queries(db):
    db.create_tables(Client)
    with db.track_queries() as t:
        db.check_schema(Client)
    assert len(t) == 3
    assert all("pragma_" in q.sql and q.params == ("clients", None) for q in t.queries)


def test_missing_table(db):
    (difference,) = db.check_schema(Client)
    assert isinstance(difference, MissingTable)
    assert difference.table == "clients" and difference.model == "Client"
    assert difference.ddl.startswith('CREATE TABLE "clients" ("id" INTEGER PRIMARY KEY')
    assert str(difference).startswith(
        'clients: the table of Client does not exist; create it with: CREATE TABLE "clients"')
    for sql in difference.ddl.split(";\n"):
        db.execute(sql)
    assert db.check_schema(Client) == []


OLD_CLIENTS = (
    'CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT NOT NULL, '
    'email VARCHAR(100) NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT \'new\', '
    "joined TEXT NOT NULL DEFAULT '')"
)


def test_missing_column_is_named_with_the_ddl_that_adds_it(db):
    db.execute(OLD_CLIENTS)
    db.execute("CREATE INDEX i1 ON clients (status)")
    db.execute("CREATE INDEX i2 ON clients (status, joined)")
    (difference,) = db.check_schema(Client)
    assert difference == MissingColumn(
        "clients", "Client", "age", "age", 'ALTER TABLE "clients" ADD COLUMN "age" INTEGER')
    assert str(difference) == (
        'clients: column "age" (Client.age) is missing; add it with: '
        'ALTER TABLE "clients" ADD COLUMN "age" INTEGER'
    )
    db.execute(difference.ddl)
    assert db.check_schema(Client) == []


def test_missing_required_column_says_sqlite_needs_a_default(db):
    db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL "
               "REFERENCES clients (id) ON DELETE CASCADE, UNIQUE (client_id))")
    differences = db.check_schema(Visit)
    assert [type(d) for d in differences] == [MissingColumn, MissingIndex]
    assert str(differences[0]) == (
        'visits: column "day" (Visit.day) is missing; add it with: '
        'ALTER TABLE "visits" ADD COLUMN "day" TEXT NOT NULL (SQLite adds a NOT NULL column only '
        "with a DEFAULT: give the field a default, or make it optional)"
    )


def test_bind_raises_schema_error_naming_the_column_and_binds_nothing(db):
    db.execute(OLD_CLIENTS)
    with pytest.raises(SchemaError) as err:
        db.bind(Visit, Client)
    assert str(err.value) == (
        "the database's tables lack columns the models map:\n"
        '  - clients: column "age" (Client.age) is missing; add it with: '
        'ALTER TABLE "clients" ADD COLUMN "age" INTEGER'
    )
    assert isinstance(err.value, ActiveqError)
    assert [type(d) for d in err.value.differences] == [MissingColumn]
    assert Client.__database__ is not db and Visit.__database__ is not db


def test_bind_before_the_table_exists_and_on_a_matching_table(db):
    db.bind(Client)  # no table yet: create_tables will make it
    db.create_tables(Client)
    other = Database(db.path)
    other.bind(Client)
    assert Client.__database__ is other
    other.close()
    db.bind(Client)


def test_bind_through_a_base_class_does_not_check_every_model(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY)")

    class Base(ActiveRecord):
        __aq_abstract__ = True

    class Wide(Base):
        __table_name__ = "clients"
        id: int = Field(primary_key=True)
        extra: str

    db.bind(Base)
    assert Wide.__database__ is db
    assert [d.model for d in db.check_schema()] == ["Wide"]  # what is bound to db, via Base
    assert [str(d) for d in db.check_schema(Wide)] == [
        'clients: column "extra" (Wide.extra) is missing; add it with: '
        'ALTER TABLE "clients" ADD COLUMN "extra" TEXT NOT NULL (SQLite adds a NOT NULL column '
        "only with a DEFAULT: give the field a default, or make it optional)"
    ]


def test_extra_required_column_without_default_is_reported(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "email VARCHAR(100) NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'new', "
               "joined TEXT NOT NULL DEFAULT '', age INTEGER, legacy TEXT NOT NULL, "
               "kept TEXT NOT NULL DEFAULT 'x', loose TEXT)")
    db.execute("CREATE INDEX i1 ON clients (status, joined)")
    db.execute("CREATE INDEX i2 ON clients (status)")
    differences = db.check_schema(Client)
    assert differences == [ExtraColumn("clients", "Client", "legacy", "TEXT")]
    assert str(differences[0]) == (
        'clients: column "legacy" is NOT NULL without a default and Client has no field for it, '
        "so inserting a Client fails"
    )


def test_type_mismatch_compares_by_what_sqlite_stores(db):
    # VARCHAR(100) and TEXT(100), INT and INTEGER store alike in SQLite: not differences.
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, name BLOB NOT NULL, "
               "email VARCHAR(100) NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'new', "
               "joined TEXT NOT NULL DEFAULT '', age REAL)")
    db.execute("CREATE INDEX i1 ON clients (status, joined)")
    db.execute("CREATE INDEX i2 ON clients (status)")
    differences = db.check_schema(Client)
    assert differences == [
        TypeMismatch("clients", "Client", "name", "name", "TEXT", "BLOB"),
        TypeMismatch("clients", "Client", "age", "age", "INTEGER", "REAL"),
    ]
    assert str(differences[1]) == (
        'clients: column "age" is declared REAL, but Client.age is stored as INTEGER')


def test_a_decimal_column_of_another_representation_is_a_type_mismatch(db):
    class Price(ActiveRecord):
        __table_name__ = "prices"
        id: int = Field(primary_key=True)
        amount: Decimal = Field(max_digits=12, decimal_places=2)
        flag: bool = False

    # A table from before decimals were scaled integers: its values are REALs.
    db.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, amount DECIMAL(12, 2) NOT NULL, "
               "flag BOOLEAN NOT NULL DEFAULT 0)")
    assert [str(d) for d in db.check_schema(Price)] == [
        'prices: column "amount" is declared DECIMAL(12, 2), but Price.amount is stored as INTEGER'
    ]
    with pytest.raises(SchemaError, match='column "amount" is declared DECIMAL'):
        db.create_tables(Price)


def test_untyped_column_is_a_type_mismatch(db):
    db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, client_id NOT NULL "
               "REFERENCES clients ON DELETE CASCADE, day TEXT NOT NULL, UNIQUE (day, client_id))")
    assert [str(d) for d in db.check_schema(Visit)] == [
        'visits: column "client_id" is declared no type, but Visit.client_id is stored as INTEGER'
    ]


def test_nullability_mismatch_both_ways(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT, "
               "email VARCHAR(100) NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'new', "
               "joined TEXT NOT NULL DEFAULT '', age INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE INDEX i1 ON clients (status, joined)")
    db.execute("CREATE INDEX i2 ON clients (status)")
    differences = db.check_schema(Client)
    assert differences == [
        NullabilityMismatch("clients", "Client", "name", "name", False),
        NullabilityMismatch("clients", "Client", "age", "age", True),
    ]
    assert [str(d) for d in differences] == [
        'clients: column "name" allows NULL, but Client.name is required: NULLs in the table '
        "read back as None",
        'clients: column "age" is NOT NULL, but Client.age is optional: saving None fails',
    ]


def test_missing_indexes_and_uniques_with_the_ddl_that_adds_them(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "email VARCHAR(100) NOT NULL, status TEXT NOT NULL DEFAULT 'new', "
               "joined TEXT NOT NULL DEFAULT '', age INTEGER)")
    # An index on other columns, or the right ones in another order, or a partial one,
    # does not count.
    db.execute("CREATE INDEX other ON clients (joined, status)")
    db.execute("CREATE UNIQUE INDEX part ON clients (email) WHERE email <> ''")
    differences = db.check_schema(Client)
    assert differences == [
        MissingIndex("clients", "Client", ("email",), True,
                     'CREATE UNIQUE INDEX "uq_clients_email" ON "clients"("email")'),
        MissingIndex("clients", "Client", ("status",), False,
                     'CREATE INDEX "idx_clients_status" ON "clients"("status")'),
        MissingIndex("clients", "Client", ("status", "joined"), False,
                     'CREATE INDEX "idx_clients_status_joined" ON "clients"("status", "joined")'),
    ]
    assert str(differences[0]) == (
        'clients: no unique index on ("email"); add it with: '
        'CREATE UNIQUE INDEX "uq_clients_email" ON "clients"("email")'
    )
    for difference in differences:
        db.execute(difference.ddl)
    assert db.check_schema(Client) == []


def test_composite_unique_matches_in_any_column_order(db):
    db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL "
               "REFERENCES clients (id) ON DELETE CASCADE, day TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX u ON visits (day, client_id)")
    assert db.check_schema(Visit) == []


def test_missing_or_different_foreign_key(db):
    db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, "
               "day TEXT NOT NULL, UNIQUE (client_id, day))")
    (difference,) = db.check_schema(Visit)
    assert difference == MissingForeignKey(
        "visits", "Visit", "client_id", "clients.id", "cascade", None,
        'FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE CASCADE',
        "SQLite changes foreign keys only by rebuilding the table")
    assert str(difference) == (
        'visits: Visit declares FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE '
        "CASCADE, but the table has no such foreign key (SQLite changes foreign keys only by "
        "rebuilding the table)"
    )
    db.execute("DROP TABLE visits")
    db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL "
               "REFERENCES clients (id), day TEXT NOT NULL, UNIQUE (client_id, day))")
    (difference,) = db.check_schema(Visit)
    assert difference.actual_on_delete == "no action"
    assert "the table's foreign key has ON DELETE NO ACTION" in str(difference)


def test_create_tables_on_a_table_of_another_shape_says_so_and_runs_nothing(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age TEXT)")
    with db.track_queries() as t, pytest.raises(SchemaError) as err:
        db.create_tables(Visit, Client)
    assert str(err.value) == (
        "create_tables found existing tables whose shape differs from their models:\n"
        '  - clients: column "email" (Client.email) is missing; add it with: ALTER TABLE "clients" '
        'ADD COLUMN "email" VARCHAR(100) NOT NULL UNIQUE (SQLite cannot add a UNIQUE column: add it '
        "without UNIQUE, then create a unique index on it)\n"
        '  - clients: column "status" (Client.status) is missing; add it with: ALTER TABLE '
        '"clients" ADD COLUMN "status" TEXT NOT NULL DEFAULT \'new\'\n'
        '  - clients: column "joined" (Client.joined) is missing; add it with: ALTER TABLE '
        '"clients" ADD COLUMN "joined" TEXT NOT NULL DEFAULT \'\'\n'
        '  - clients: column "age" is declared TEXT, but Client.age is stored as INTEGER\n'
        '  - clients: no unique index on ("email"); add it with: '
        'CREATE UNIQUE INDEX "uq_clients_email" ON "clients"("email")'
    )
    assert {type(d) for d in err.value.differences} == {MissingColumn, TypeMismatch, MissingIndex}
    assert not [q for q in t.queries if "CREATE" in q.sql or "BEGIN" in q.sql]
    assert db.execute("SELECT name FROM sqlite_schema WHERE name = 'visits'").fetchall() == []


def test_create_tables_still_adds_missing_plain_indexes(db):
    db.execute(OLD_CLIENTS.replace("joined TEXT NOT NULL DEFAULT '')", "joined TEXT NOT NULL "
                                   "DEFAULT '', age INTEGER)"))
    db.create_tables(Client)
    assert db.check_schema(Client) == []


def test_create_tables_without_if_not_exists_keeps_the_database_error(db):
    db.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY)")
    with pytest.raises(ActiveqError, match="already exists"):
        db.create_tables(Client, if_not_exists=False)


def test_odd_table_names_are_bound_never_spliced(db):
    class Odd(ActiveRecord):
        __table_name__ = 'we"ird\'; DROP TABLE x; --'
        id: int = Field(primary_key=True)
        name: str

    db.execute("CREATE TABLE x (y)")
    assert [type(d) for d in db.check_schema(Odd)] == [MissingTable]
    db.bind(Odd)
    db.create_tables(Odd)
    assert db.check_schema(Odd) == []
    db.execute('ALTER TABLE "we""ird\'; DROP TABLE x; --" RENAME COLUMN name TO other')
    (difference, extra) = db.check_schema(Odd)
    assert difference.ddl == (
        'ALTER TABLE "we""ird\'; DROP TABLE x; --" ADD COLUMN "name" TEXT NOT NULL')
    assert extra == ExtraColumn(Odd.__aq__.table, "Odd", "other", "TEXT")
    assert db.execute("SELECT count(*) FROM x").fetchall() == [(0,)]


def test_mapping_overrides_are_expected_as_written(db):
    class Mapped(ActiveRecord):
        __table_name__ = "mapped"
        id: int = Field(primary_key=True)
        email: str = Field(max_length=255)
        status: str = Field(default="active")
        __mapping__ = {
            "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
            "email": "VARCHAR(255) NOT NULL UNIQUE",
            "status": 'VARCHAR(20) DEFAULT "active"',
        }

    db.create_tables(Mapped)
    assert db.check_schema(Mapped) == []
    db.execute("DROP TABLE mapped")
    db.execute("CREATE TABLE mapped (id INTEGER PRIMARY KEY, email BLOB NOT NULL UNIQUE, "
               "status TEXT NOT NULL)")
    assert [str(d) for d in db.check_schema(Mapped)] == [
        'mapped: column "email" is declared BLOB, but Mapped.email is stored as TEXT(255)',
        'mapped: column "status" is NOT NULL, but Mapped.status is optional: saving None fails',
    ]


def test_differences_are_typed_and_exported():
    assert issubclass(SchemaError, ActiveqError)
    for kind in (MissingTable, MissingColumn, ExtraColumn, TypeMismatch, NullabilityMismatch,
                 MissingIndex, MissingForeignKey):
        assert issubclass(kind, SchemaDifference)


def test_check_schema_refuses_what_is_not_a_model(db):
    with pytest.raises(SchemaError, match="check_schema takes model classes and Tables mapped to tables, not 'users'"):
        db.check_schema("users")


def test_check_schema_resolves_relations_and_reports_bad_ones(db):
    class Dangling(ActiveRecord):
        __table_name__ = "dangling"
        id: int = Field(primary_key=True)
        ghost_id: int
        ghost = belongs_to("NoSuchGhost", foreign_key="ghost_id", on_delete="cascade")

    with pytest.raises(RelationError, match="no model named 'NoSuchGhost'"):
        db.check_schema(Dangling)
    Dangling.__aq__.relations.clear()


def test_mysql_has_no_catalog_reader(db, monkeypatch):
    monkeypatch.setattr(db, "dialect", "mysql")
    with pytest.raises(UnsupportedError) as err:
        db.check_schema(Client)
    assert str(err.value) == ("check_schema is not supported by the mysql dialect: the live "
                              "schema is read on sqlite, postgres and duckdb")
