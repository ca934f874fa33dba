"""The exception hierarchy: one root, typed leaves; each engine maps its driver's errors onto
them (see ``translate`` in each module of :mod:`activeq.engines`)."""

from __future__ import annotations

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
    "SchemaError",
    "SerializationError",
    "UnknownColumnError",
    "UnknownDialectError",
    "UnsupportedError",
    "ValidationError",
    "ValueOutOfRangeError",
]


class ActiveqError(Exception):
    """Root of every error activeq raises."""


class CompileError(ActiveqError):
    """A query tree cannot be turned into SQL (bad column, bad argument, missing parameter)."""


class UnsupportedError(CompileError):
    """A construct has no rendering in the requested dialect."""

    def __init__(self, node: str, dialect: str, detail: str = "") -> None:
        self.node = node
        self.dialect = dialect
        message = f"{node} is not supported by the {dialect} dialect"
        super().__init__(f"{message}: {detail}" if detail else message)


class UnknownDialectError(UnsupportedError, ValueError):
    """A dialect name activeq does not know (names are case-insensitive)."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.node = "dialect"
        self.dialect = name
        CompileError.__init__(
            self, f"unknown dialect {name!r}: activeq renders {', '.join(known)}")


class UnknownColumnError(CompileError, AttributeError):
    """A column name that the model (or the joined models) does not have.

    An ``AttributeError`` too, so ``getattr(Model.c, name, default)`` and ``hasattr`` keep
    working; the message suggests the closest names.
    """


class InvalidNameError(CompileError, ValueError):
    """A name that is written into SQL text (a function, a bound parameter, an alias) is not
    the kind of name SQL accepts there."""


class ArgumentTypeError(CompileError, TypeError):
    """An argument has a type the operation cannot use: ``is_in('abc')``, a value with no
    stored form, an expression used as a Python bool."""


class MissingParameterError(CompileError, KeyError):
    """A named placeholder in the SQL got no value."""

    def __str__(self) -> str:
        # KeyError shows its argument with repr(); this is a sentence.
        return str(self.args[0]) if self.args else ""


class MultipleStatementsError(ActiveqError, ValueError):
    """``db.execute`` was given more than one statement (``db.executescript`` runs scripts)."""


class ConfigurationError(ActiveqError, ValueError):
    """An option of ``Database`` (a pragma name or value, a mode) is invalid."""


class ColumnTypeError(ActiveqError, TypeError):
    """A field's annotation or options have no exact SQL column type (say which options do)."""


class RelationError(ActiveqError):
    """A relation declaration is invalid: unknown target model or a column that does not exist."""


class SchemaError(ActiveqError):
    """A model's declared table shape is invalid, or its table in the database differs from it.

    Attributes:
        differences: the ``activeq.schema`` difference records behind the error (empty when
            the declaration itself is at fault).
    """

    def __init__(self, message: str, differences: Any = ()) -> None:
        super().__init__(message)
        self.differences = list(differences)


class RelationNotLoadedError(ActiveqError):
    """An unloaded relation was read while the fetch mode is 'raise'."""


class NotFoundError(ActiveqError, LookupError):
    """A query that must return a row returned none."""


class MultipleResultsError(ActiveqError, LookupError):
    """A query that must return exactly one row returned more."""


class ValidationError(ActiveqError, ValueError):
    """Input failed validation; wraps pydantic's error and, in batches, names the row index.

    Attributes:
        index: position of the offending row in a batch, or None.
        field: the first offending field name, or None.
        pydantic_error: the underlying ``pydantic.ValidationError``, or None.
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
    """An integer outside SQLite's signed 64-bit range; nothing was written."""


class DatabaseError(ActiveqError):
    """An error reported by the database driver; ``__cause__`` holds the driver's exception.

    Attributes:
        result_code: SQLite's primary result code, when known.
        extended_code: SQLite's extended result code, when known.
        sqlstate: PostgreSQL's five-character SQLSTATE, when known.
    """

    def __init__(self, message: str, *, result_code: int | None = None,
                 extended_code: int | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.result_code = result_code
        self.extended_code = extended_code
        self.sqlstate = sqlstate


class IntegrityError(DatabaseError):
    """A constraint failed: unique, primary key, foreign key, not null or check."""


class OperationalError(DatabaseError):
    """The database could not run the statement (missing table, syntax, I/O, ...)."""


class BusyError(OperationalError):
    """The database stayed busy (locked by another connection) past the retry budget.

    Attributes:
        attempts: how many times the statement or transaction was tried.
    """

    attempts: int = 1


class LockedError(BusyError):
    """A table in the same shared cache is locked (SQLITE_LOCKED)."""


class SerializationError(OperationalError):
    """A transaction lost to a concurrent one and was rolled back: PostgreSQL's serialization
    failure (SQLSTATE 40001) or deadlock (40P01), DuckDB's write-write conflict. Running the
    whole transaction again may succeed.

    Attributes:
        attempts: how many times the transaction was tried.
    """

    attempts: int = 1
