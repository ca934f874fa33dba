"""activeq: compose SQL with typed models; compiled once per query shape, run on APSW.

>>> from activeq import ActiveRecord, Field, Database
>>> class City(ActiveRecord):
...     __table_name__ = 'cities'
...     id: int = Field(primary_key=True)
...     name: str
>>> db = Database(':memory:'); db.bind(City); db.create_tables(City)
>>> _ = City.create(name='Oslo')
>>> City.query().where(City.c.name == 'Oslo').first().name
'Oslo'
"""

# Imported for what it lends the session: db.reflect() and db.reflect_models() run it.
from . import reflection as reflection
from .aio import AsyncActiveRecord, AsyncDatabase
from .ast import BindParam, extract
from .cache import CacheStats, MemoryCache
from .cache_redis import RedisCache
from .columns import exists, func
from .database import Database
from .errors import (
    ActiveqError,
    ArgumentTypeError,
    BusyError,
    ColumnTypeError,
    CompileError,
    ConfigurationError,
    DatabaseError,
    IntegrityError,
    InvalidNameError,
    LockedError,
    MissingParameterError,
    MultipleResultsError,
    MultipleStatementsError,
    NotFoundError,
    OperationalError,
    RelationError,
    RelationNotLoadedError,
    RowKeyError,
    SchemaError,
    SerializationError,
    UnknownColumnError,
    UnknownDialectError,
    UnsupportedError,
    ValidationError,
    ValueOutOfRangeError,
)
from .expressions import case, cast, text
from .model import ActiveRecord, Field
from .monitor import Plan, Timing
from .paging import CursorPage, Page
from .pool import PoolStats, PoolTimeoutError
from .query import CompiledQuery, Query
from .relations import belongs_to, has_many, has_one, many_to_many
from .results import Row
from .retry import RetryPolicy
from .statements import DeleteStatement, InsertStatement, UpdateStatement, delete, insert, update
from .table import Column, Table

ActiveQuery = Query
"""The query class, under the name the ActiveRecord guides use in type hints."""

__version__ = "0.1.0"

__all__ = [
    "ActiveQuery",
    "ActiveRecord",
    "ActiveqError",
    "ArgumentTypeError",
    "AsyncActiveRecord",
    "AsyncDatabase",
    "BindParam",
    "BusyError",
    "CacheStats",
    "Column",
    "ColumnTypeError",
    "CompileError",
    "CompiledQuery",
    "ConfigurationError",
    "CursorPage",
    "Database",
    "DatabaseError",
    "DeleteStatement",
    "Field",
    "InsertStatement",
    "IntegrityError",
    "InvalidNameError",
    "LockedError",
    "MemoryCache",
    "MissingParameterError",
    "MultipleResultsError",
    "MultipleStatementsError",
    "NotFoundError",
    "OperationalError",
    "Page",
    "Plan",
    "PoolStats",
    "PoolTimeoutError",
    "Query",
    "RedisCache",
    "RelationError",
    "RelationNotLoadedError",
    "RetryPolicy",
    "Row",
    "RowKeyError",
    "SchemaError",
    "SerializationError",
    "Table",
    "Timing",
    "UnknownColumnError",
    "UnknownDialectError",
    "UnsupportedError",
    "UpdateStatement",
    "ValidationError",
    "ValueOutOfRangeError",
    "belongs_to",
    "case",
    "cast",
    "delete",
    "exists",
    "extract",
    "func",
    "has_many",
    "has_one",
    "insert",
    "many_to_many",
    "text",
    "update",
]
