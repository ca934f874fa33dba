"""The exception hierarchy: one root, typed leaves; each engine maps its driver's errors onto
them (see ``translate`` in each module of :mod:`activeq.engines`)."""

from __future__ import annotations

import difflib
from typing import Any

__all__ = [
    "ActiveqError",
    "ArgumentTypeError",
    "BusyError",
    "ColumnTypeError",
    "CompileError",
    "ConfigurationError",
    "DatabaseError",
    "IntegrityError",
    "InvalidNameError",
    "LockedError",
    "MissingParameterError",
    "MultipleResultsError",
    "MultipleStatementsError",
    "NotFoundError",
    "OperationalError",
    "RelationError",
    "RelationNotLoadedError",
    "RowKeyError",
    "SchemaError",
    "SerializationError",
    "UnknownColumnError",
    "UnknownDialectError",
    "UnsupportedError",
    "ValidationError",
    "ValueOutOfRangeError",
]


class ActiveqError(Exception):
    """Root of every error activeq raises.

    >>> from activeq import ActiveqError, IntegrityError, NotFoundError, UnknownColumnError
    >>> all(issubclass(e, ActiveqError) for e in (IntegrityError, NotFoundError, UnknownColumnError))
    True
    """


class CompileError(ActiveqError):
    """A query tree cannot be turned into SQL (bad column, bad argument, missing parameter).

    >>> from activeq import ActiveRecord, CompileError, Field
    >>> class Lamp(ActiveRecord):
    ...     __table_name__ = 'lamps'
    ...     id: int = Field(primary_key=True)
    >>> try:
    ...     Lamp.query().limit(-1)
    ... except CompileError as e:
    ...     print(e)
    limit() takes a non-negative integer, not -1
    """


class UnsupportedError(CompileError):
    """A construct has no rendering in the requested dialect.

    >>> from activeq import ActiveRecord, Field, UnsupportedError
    >>> class Bulb(ActiveRecord):
    ...     __table_name__ = 'bulbs'
    ...     id: int = Field(primary_key=True)
    ...     kind: str
    >>> q = Bulb.query().distinct_on(Bulb.c.kind).order_by(Bulb.c.kind)
    >>> q.to_sql('postgres')[0].startswith('SELECT DISTINCT ON')
    True
    >>> try:
    ...     q.to_sql('sqlite')
    ... except UnsupportedError:
    ...     print('not on SQLite')
    not on SQLite
    """

    def __init__(self, node: str, dialect: str, detail: str = "") -> None:
        self.node = node
        self.dialect = dialect
        message = f"{node} is not supported by the {dialect} dialect"
        super().__init__(f"{message}: {detail}" if detail else message)


class UnknownDialectError(UnsupportedError, ValueError):
    """A dialect name activeq does not know (names are case-insensitive).

    >>> from activeq import ActiveRecord, Field, UnknownDialectError
    >>> class Dial(ActiveRecord):
    ...     __table_name__ = 'dials'
    ...     id: int = Field(primary_key=True)
    >>> try:
    ...     Dial.query().to_sql('oracle')
    ... except UnknownDialectError:
    ...     print('unknown dialect')
    unknown dialect
    """

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.node = "dialect"
        self.dialect = name
        CompileError.__init__(
            self, f"unknown dialect {name!r}: activeq renders {', '.join(known)}")


class UnknownColumnError(CompileError, AttributeError):
    """A column name that the model (or the joined models) does not have.

    An ``AttributeError`` too, so ``getattr(Model.c, name, default)`` and ``hasattr`` keep
    working; the message suggests the closest names.

    >>> from activeq import ActiveRecord, Field, UnknownColumnError
    >>> class Kite(ActiveRecord):
    ...     __table_name__ = 'kites'
    ...     id: int = Field(primary_key=True)
    ...     colour: str
    >>> try:
    ...     Kite.c.color
    ... except UnknownColumnError as e:
    ...     print(e)
    Kite has no column 'color'; did you mean 'colour'?
    """


class InvalidNameError(CompileError, ValueError):
    """A name that is written into SQL text (a function, a bound parameter, an alias) is not
    the kind of name SQL accepts there.

    >>> from activeq import InvalidNameError, func
    >>> try:
    ...     getattr(func, 'lower(x); --')
    ... except InvalidNameError:
    ...     print('refused')
    refused
    """


class ArgumentTypeError(CompileError, TypeError):
    """An argument has a type the operation cannot use: ``is_in('abc')``, a value with no
    stored form, an expression used as a Python bool.

    >>> from activeq import ActiveRecord, ArgumentTypeError, Field
    >>> class Pot(ActiveRecord):
    ...     __table_name__ = 'pots'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    >>> try:
    ...     Pot.c.name.is_in('abc')
    ... except ArgumentTypeError:
    ...     print('a list, please')
    a list, please
    """


class MissingParameterError(CompileError, KeyError):
    """A named placeholder in the SQL got no value.

    >>> from activeq import Database, MissingParameterError
    >>> db = Database(':memory:')
    >>> try:
    ...     db.execute('SELECT :n', {'m': 1})
    ... except MissingParameterError:
    ...     print('n is missing')
    n is missing
    """

    def __str__(self) -> str:
        # KeyError shows its argument with repr(); this is a sentence.
        return str(self.args[0]) if self.args else ""


class RowKeyError(ActiveqError, KeyError):
    """``row["name"]`` for a name the result row does not have; the message lists the names
    it has. A ``KeyError`` too, so code catching a mapping's missing key keeps working.

    >>> from activeq import RowKeyError
    >>> from activeq.results import Row
    >>> row = Row((1, 2), {'total': 1, 'n': 2})
    >>> try:
    ...     row['totl']
    ... except RowKeyError as e:
    ...     print(e)
    this row has no column 'totl'; it has total, n
    """

    def __init__(self, key: str, names: Any) -> None:
        self.key = key
        self.names = tuple(names)
        KeyError.__init__(self, f"this row has no column {key!r}; it has {', '.join(self.names)}")

    def __str__(self) -> str:
        # KeyError shows its argument with repr(); this is a sentence.
        return str(self.args[0])


class MultipleStatementsError(ActiveqError, ValueError):
    """``db.execute`` was given more than one statement (``db.executescript`` runs scripts).

    >>> from activeq import Database, MultipleStatementsError
    >>> db = Database(':memory:')
    >>> try:
    ...     db.execute('SELECT 1; SELECT 2')
    ... except MultipleStatementsError:
    ...     print('one statement at a time')
    one statement at a time
    """


class ConfigurationError(ActiveqError, ValueError):
    """An option of ``Database`` (a pragma name or value, a mode) is invalid.

    >>> from activeq import ConfigurationError, Database
    >>> try:
    ...     Database(':memory:', pragmas={'journal_mode': 'sideways'})
    ... except ConfigurationError:
    ...     print('invalid pragma')
    invalid pragma
    """


class ColumnTypeError(ActiveqError, TypeError):
    """A field's annotation or options have no exact SQL column type (say which options do).

    >>> from decimal import Decimal
    >>> from activeq import ColumnTypeError
    >>> from activeq.types import column_type
    >>> try:
    ...     column_type(Decimal, [], 'Wave.amount')  # what a field 'amount: Decimal' asks for
    ... except ColumnTypeError as e:
    ...     print(str(e).split(':')[1].strip())
    a Decimal field needs its precision to be stored exactly
    """


class RelationError(ActiveqError):
    """A relation declaration is invalid: unknown target model or a column that does not exist.

    >>> from activeq import ActiveRecord, Database, Field, RelationError
    >>> from activeq import has_many
    >>> class Nest(ActiveRecord):
    ...     __table_name__ = 'nests'
    ...     id: int = Field(primary_key=True)
    ...     eggs = has_many('Egg')
    >>> try:
    ...     Database(':memory:').bind(Nest)
    ... except RelationError:
    ...     print('no model named Egg')
    no model named Egg
    """


class SchemaError(ActiveqError):
    """A model's declared table shape is invalid, or its table in the database differs from it.

    Attributes:
        differences: the ``activeq.schema`` difference records behind the error (empty when
            the declaration itself is at fault).

    >>> from activeq import ActiveRecord, Database, Field, SchemaError
    >>> class Crate(ActiveRecord):
    ...     __table_name__ = 'crates'
    ...     id: int = Field(primary_key=True)
    ...     label: str
    >>> db = Database(':memory:')
    >>> _ = db.execute('CREATE TABLE crates (id INTEGER PRIMARY KEY)')
    >>> try:
    ...     db.bind(Crate)
    ... except SchemaError as e:
    ...     print(len(e.differences))
    1
    """

    def __init__(self, message: str, differences: Any = ()) -> None:
        super().__init__(message)
        self.differences = list(differences)


class RelationNotLoadedError(ActiveqError):
    """An unloaded relation was read while the fetch mode is 'raise'.

    >>> from activeq import ActiveRecord, Database, Field, RelationNotLoadedError, has_many
    >>> class Hive(ActiveRecord):
    ...     __table_name__ = 'hives'
    ...     id: int = Field(primary_key=True)
    ...     name: str = 'hive'
    ...     bees: list['Bee'] = has_many('Bee', foreign_key='hive_id')
    >>> class Bee(ActiveRecord):
    ...     __table_name__ = 'bees'
    ...     id: int = Field(primary_key=True)
    ...     hive_id: int
    >>> db = Database(':memory:'); db.bind(Hive, Bee); db.create_tables(Hive, Bee)
    >>> _ = Hive.create()
    >>> hive = Hive.query().fetch_mode('raise').first()
    >>> try:
    ...     hive.bees
    ... except RelationNotLoadedError:
    ...     print('use includes("bees")')
    use includes("bees")
    """


class NotFoundError(ActiveqError, LookupError):
    """A query that must return a row returned none.

    >>> from activeq import ActiveRecord, Database, Field, NotFoundError
    >>> class Key(ActiveRecord):
    ...     __table_name__ = 'keys'
    ...     id: int = Field(primary_key=True)
    >>> db = Database(':memory:'); db.bind(Key); db.create_tables(Key)
    >>> Key.find_by_id(1) is None
    True
    >>> try:
    ...     Key.query().where(Key.c.id == 1).one()
    ... except NotFoundError:
    ...     print('no such key')
    no such key
    """


class MultipleResultsError(ActiveqError, LookupError):
    """A query that must return exactly one row returned more.

    >>> from activeq import ActiveRecord, Database, Field, MultipleResultsError
    >>> class Coin(ActiveRecord):
    ...     __table_name__ = 'coins'
    ...     id: int = Field(primary_key=True)
    ...     face: str
    >>> db = Database(':memory:'); db.bind(Coin); db.create_tables(Coin)
    >>> Coin.insert_many([{'face': 'heads'}, {'face': 'tails'}])
    2
    >>> try:
    ...     Coin.query().one()
    ... except MultipleResultsError:
    ...     print('more than one')
    more than one
    """


class ValidationError(ActiveqError, ValueError):
    """Input failed validation; wraps pydantic's error and, in batches, names the row index.

    Attributes:
        index: position of the offending row in a batch, or None.
        field: the first offending field name, or None.
        pydantic_error: the underlying ``pydantic.ValidationError``, or None.

    >>> from activeq import ActiveRecord, Field, ValidationError
    >>> class Mug(ActiveRecord):
    ...     __table_name__ = 'mugs'
    ...     id: int = Field(primary_key=True)
    ...     size: int
    >>> try:
    ...     Mug(size='large')
    ... except ValidationError as e:
    ...     print(e.field)
    size
    """

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        field: str | None = None,
        pydantic_error: Any = None,
    ) -> None:
        super().__init__(message)
        self.index = index
        self.field = field
        self.pydantic_error = pydantic_error

    @classmethod
    def from_pydantic(cls, model_name: str, error: Any, *, field: str | None = None,
                      index: int | None = None) -> ValidationError:
        """One message for a pydantic error on a model, a field (``field``) or a batch row.

        Formatted ``[row N: ]invalid Model: field: message; ...`` without pydantic's
        documentation links.
        """
        details = error.errors(include_url=False)
        parts = []
        for detail in details:
            loc = tuple(detail.get("loc", ()))
            if field is not None:
                loc = (field, *loc)
            parts.append(f"{'.'.join(str(p) for p in loc) or '(row)'}: {detail.get('msg')}")
        first = field
        if first is None and details and details[0].get("loc"):
            first = str(details[0]["loc"][0])
        row = f"row {index}: " if index is not None else ""
        kind = cls.for_details(details) if cls is ValidationError else cls
        return kind(f"{row}invalid {model_name}: {'; '.join(parts)}", index=index, field=first,
                    pydantic_error=error)

    @staticmethod
    def for_details(details: list[Any]) -> type[ValidationError]:
        """``ValueOutOfRangeError`` when pydantic refused an integer beyond 64 bits (the
        bound every integer field carries), else ``ValidationError``."""
        for detail in details:
            value = detail.get("input")
            if (type(value) is int and detail.get("type") in _BOUND_ERRORS
                    and not _INT64_MIN <= value <= _INT64_MAX):
                return ValueOutOfRangeError
        return ValidationError

    def errors(self) -> list[Any]:
        """The pydantic error list, or an empty list when the error did not come from pydantic."""
        return list(self.pydantic_error.errors()) if self.pydantic_error is not None else []


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_BOUND_ERRORS = frozenset(("less_than_equal", "greater_than_equal", "less_than", "greater_than"))


class ValueOutOfRangeError(ValidationError, OverflowError):
    """An integer outside SQLite's signed 64-bit range; nothing was written.

    >>> from activeq import ActiveRecord, Database, Field, ValueOutOfRangeError
    >>> class Tally(ActiveRecord):
    ...     __table_name__ = 'tallies'
    ...     id: int = Field(primary_key=True)
    ...     n: int = 0
    >>> db = Database(':memory:'); db.bind(Tally); db.create_tables(Tally)
    >>> try:
    ...     db.execute('INSERT INTO tallies (n) VALUES (?)', (2 ** 63,))
    ... except ValueOutOfRangeError:
    ...     print('beyond 64 bits')
    beyond 64 bits
    """


class DatabaseError(ActiveqError):
    """An error reported by the database driver; ``__cause__`` holds the driver's exception.

    Attributes:
        result_code: SQLite's primary result code, when known.
        extended_code: SQLite's extended result code, when known.
        sqlstate: PostgreSQL's five-character SQLSTATE, when known.

    >>> from activeq import Database, DatabaseError
    >>> db = Database(':memory:')
    >>> try:
    ...     db.execute('SELECT * FROM nowhere')
    ... except DatabaseError as e:
    ...     print(type(e).__name__, type(e.__cause__).__module__)
    OperationalError apsw
    """

    def __init__(self, message: str, *, result_code: int | None = None,
                 extended_code: int | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.result_code = result_code
        self.extended_code = extended_code
        self.sqlstate = sqlstate


class IntegrityError(DatabaseError):
    """A constraint failed: unique, primary key, foreign key, not null or check.

    >>> from activeq import ActiveRecord, Database, Field, IntegrityError
    >>> class Badge(ActiveRecord):
    ...     __table_name__ = 'badges'
    ...     id: int = Field(primary_key=True)
    ...     code: str = Field(unique=True)
    >>> db = Database(':memory:'); db.bind(Badge); db.create_tables(Badge)
    >>> _ = Badge.create(code='A')
    >>> try:
    ...     Badge.create(code='A')
    ... except IntegrityError:
    ...     print('code taken')
    code taken
    """


class OperationalError(DatabaseError):
    """The database could not run the statement (missing table, syntax, I/O, ...).

    >>> from activeq import Database, OperationalError
    >>> try:
    ...     Database(':memory:').execute('SELEC 1')
    ... except OperationalError:
    ...     print('syntax error')
    syntax error
    """


class BusyError(OperationalError):
    """The database stayed busy (locked by another connection) past the retry budget.

    Attributes:
        attempts: how many times the statement or transaction was tried.

    >>> from activeq import BusyError, LockedError, OperationalError
    >>> issubclass(BusyError, OperationalError) and issubclass(LockedError, BusyError)
    True
    """

    attempts: int = 1


class LockedError(BusyError):
    """A table in the same shared cache is locked (SQLITE_LOCKED).

    >>> from activeq import BusyError, LockedError
    >>> issubclass(LockedError, BusyError)
    True
    """


class SerializationError(OperationalError):
    """A transaction lost to a concurrent one and was rolled back: PostgreSQL's serialization
    failure (SQLSTATE 40001) or deadlock (40P01), DuckDB's write-write conflict. Running the
    whole transaction again may succeed.

    Attributes:
        attempts: how many times the transaction was tried.

    >>> from activeq import OperationalError, SerializationError
    >>> issubclass(SerializationError, OperationalError)
    True
    """

    attempts: int = 1


def unknown_fields_error(model: Any, unknown: list[str]) -> ValidationError:
    """The error for field names ``model`` lacks, each with the closest name it has, if any.

    >>> class Meta: names = ("email", "name")
    >>> class User: __aq__ = Meta
    >>> str(unknown_fields_error(User, ["emial"]))
    "User has no field 'emial' (did you mean 'email'?)"
    """
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, list(model.__aq__.names), n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ValidationError(f"{model.__name__} has no field {', '.join(parts)}", field=unknown[0])
