"""INSERT, UPDATE and DELETE as values: build them, render them, run them.

``insert(Model)``, ``update(Model)`` and ``delete(Model)`` start immutable statements; each
builder method returns a new statement. ``to_sql(dialect)`` renders one without running it,
``execute()`` runs it on the model's database: the affected row count, or with
``returning(...)`` the returned rows as ``Row``s. Like queries, statements are keyed by shape,
so a statement built again with other values is rendered from the compile cache.
"""

from __future__ import annotations

from typing import Any

import pydantic

from .ast import Alias, ColumnRef, Expr, Immutable, as_expr, require_condition
from .compiler import render_sql, to_sqlglot
from .errors import ArgumentTypeError, CompileError, ValidationError, unknown_fields_error
from .results import Row
from .values import nan_error

__all__ = ["DeleteStatement", "InsertStatement", "UpdateStatement", "delete", "insert", "update"]

_CONFLICT_ACTIONS = ("ignore", "update", "replace")


def _info(model: Any, what: str) -> Any:
    info = getattr(model, "__aq__", None)
    if info is None:
        raise CompileError(f"{what}() takes a model class, not {model!r}")
    return info


def _validated(model: Any, values: dict[str, Any], what: str) -> tuple[tuple[Any, Expr], ...]:
    """``(column, expression)`` pairs for ``values``: names checked, plain values validated."""
    info = model.__aq__
    unknown = [k for k in values if k not in info.by_name]
    if unknown:
        raise unknown_fields_error(model, unknown)
    pairs = []
    for name, value in values.items():
        if not isinstance(value, Expr):
            try:
                value = info.adapter(name).validate_python(value)
            except pydantic.ValidationError as e:
                raise ValidationError.from_pydantic(model.__name__, e, field=name) from e
            if isinstance(value, float) and value != value:
                raise nan_error(model, name)
        pairs.append((info.by_name[name], as_expr(value)))
    return tuple(pairs)


def returning_columns(model: Any, columns: tuple[Any, ...]) -> tuple[Expr, ...]:
    """RETURNING items: field names, columns of the model or expressions (``.as_()`` names)."""
    info = model.__aq__
    if not columns:
        return tuple(info.refs[n] for n in info.names)
    out = []
    for item in columns:
        if isinstance(item, str):
            ref = info.refs.get(item)
            if ref is None:
                raise unknown_fields_error(model, [item])
            out.append(ref)
        elif isinstance(item, Expr):
            out.append(item)
        else:
            raise CompileError(f"returning() takes field names or expressions, not {item!r}")
    return tuple(out)


def returning_names(items: tuple[Expr, ...]) -> tuple[str, ...]:
    names = []
    for i, item in enumerate(items):
        if isinstance(item, (ColumnRef, Alias)):
            names.append(item.name)
        else:
            names.append(f"col{i}")
    return tuple(names)


def rows_of(items: tuple[Expr, ...], rows: list[tuple[Any, ...]]) -> list[Row]:
    names = returning_names(items)
    return [Row(tuple(r), dict(zip(names, r))) for r in rows]


class _Writable(Immutable):
    """What every statement shares: rendering and running."""

    __slots__ = ()
    kind: str
    model: Any
    returns: tuple[Expr, ...]
    key: Any
    params: tuple[Any, ...]

    def to_sql(self, dialect: str = "sqlite", paramstyle: str | None = None,
               literal_binds: bool = False) -> tuple[str, Any]:
        """The SQL text and values for ``dialect``, as ``Query.to_sql`` gives them."""
        return render_sql(self, dialect, paramstyle, literal_binds)

    def to_sqlglot(self, dialect: str = "sqlite") -> Any:
        """The statement as a sqlglot expression (bound values are ``exp.Placeholder``)."""
        return to_sqlglot(self, dialect)

    def _run(self) -> Any:
        return self.model._run_write(self._run_here)

    def _run_here(self) -> Any:
        db = self.model.database()
        if self.returns:
            return rows_of(self.returns, db._write_rows(self))
        return db._write(self)

    def __repr__(self) -> str:
        try:
            return f"<{type(self).__name__} {self.to_sql()[0]}>"
        except Exception as e:  # a statement that cannot render yet (no values)
            return f"<{type(self).__name__} of {self.model.__name__} ({e})>"


def _new(cls: type, **fields: Any) -> Any:
    obj: Any = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, value)
    obj._seal()
    return obj


class _Frozen(_Writable):
    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable: builder methods return a new statement")

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}  # type: ignore[attr-defined]

    def _replace(self, **changes: Any) -> Any:
        return _new(type(self), **{**self._fields(), **changes})

    def _seal(self) -> None:
        raise NotImplementedError


# --- INSERT ------------------------------------------------------------------------------------


class InsertStatement(_Frozen):
    """``INSERT INTO table (...) VALUES (...)`` or ``INSERT ... SELECT``.

    >>> from activeq import ActiveRecord, Field, insert
    >>> class Tag(ActiveRecord):
    ...     __table_name__ = 'tags'
    ...     id: int = Field(primary_key=True)
    ...     label: str
    >>> insert(Tag).values(label='new').returning('id').to_sql('postgres')
    ('INSERT INTO "tags" ("label") VALUES (%s) RETURNING "tags"."id"', ['new'])
    """

    __slots__ = ("model", "names", "rows", "select", "conflict", "returns", "kind", "key",
                 "params")
    _FIELDS = ("model", "names", "rows", "select", "conflict", "returns")
    names: tuple[str, ...]
    rows: tuple[tuple[Expr, ...], ...]
    select: Any
    conflict: Any

    def _seal(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", "insert_rows")
        params: tuple[Any, ...] = ()
        for row in self.rows:
            for value in row:
                params += value.params
        if self.select is not None:
            params += self.select.params
        for item in self.returns:
            params += item.params
        set_(self, "params", params)
        set_(self, "key", (
            "insert_rows", self.model.__aq__.token, self.names,
            tuple(tuple(v.key for v in row) for row in self.rows),
            None if self.select is None else self.select.key,
            self.conflict, tuple(item.key for item in self.returns),
        ))

    def values(self, *rows: Any, **values: Any) -> InsertStatement:
        """The row to insert as keywords or a mapping, or several rows as mappings.

        Every row must name the same fields; values are validated like ``create()``'s and may
        be expressions (``func.current_timestamp()``). Replaces earlier values.
        """
        if values:
            if rows:
                raise CompileError("values() takes keywords or mappings, not both")
            rows = (values,)
        if len(rows) == 1 and isinstance(rows[0], (list, tuple)):
            rows = tuple(rows[0])
        if not rows:
            raise CompileError("values() needs at least one row")
        names: tuple[str, ...] | None = None
        built = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not row:
                raise CompileError(f"values() row {i} must be a non-empty mapping, not {row!r}")
            if names is None:
                names = tuple(row)
            elif set(row) != set(names):
                raise CompileError(
                    f"values() row {i} names {sorted(row)}, but row 0 names {sorted(names)}; "
                    "every row must set the same fields")
            pairs = dict((c.name, e) for c, e in _validated(self.model, row, "insert"))
            built.append(tuple(pairs[n] for n in names))
        assert names is not None
        return self._replace(names=names, rows=tuple(built), select=None)  # type: ignore[no-any-return]

    def from_select(self, names: Any, query: Any) -> InsertStatement:
        """``INSERT INTO table (names) SELECT ...``: the query selects one column per name."""
        info = self.model.__aq__
        if isinstance(names, str):
            names = (names,)
        elif not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            # Iterating a query here would run it.
            raise ArgumentTypeError(
                f"from_select(names, query) takes the column names first (a str, list or tuple "
                f"of str), not {type(names).__name__}")
        names = tuple(names)
        unknown = [n for n in names if n not in info.by_name]
        if unknown:
            raise unknown_fields_error(self.model, unknown)
        if getattr(query, "kind", None) != "select":
            raise CompileError(f"from_select() takes a query, not {query!r}")
        return self._replace(names=names, rows=(), select=query)  # type: ignore[no-any-return]

    def on_conflict(self, action: str = "ignore", conflict_columns: Any = None,
                    update_columns: Any = None) -> InsertStatement:
        """What a row that collides with an existing one does: ``'ignore'``, ``'update'`` (the
        ``update_columns``, or every inserted column but the conflict columns) or ``'replace'``
        (SQLite's INSERT OR REPLACE; elsewhere an update of every inserted column)."""
        if action not in _CONFLICT_ACTIONS:
            raise CompileError(
                f"on_conflict() takes one of {', '.join(_CONFLICT_ACTIONS)}, not {action!r}")
        info = self.model.__aq__
        targets = _names(info, self.model, conflict_columns, "conflict_columns")
        updates = _names(info, self.model, update_columns, "update_columns")
        if action == "update" and not targets:
            raise CompileError("on_conflict('update') needs conflict_columns: the unique columns "
                               "that collide")
        conflict = (action, targets, updates or None) if action == "update" else (action, targets)
        return self._replace(conflict=conflict)  # type: ignore[no-any-return]

    def returning(self, *columns: Any) -> InsertStatement:
        """Give back these columns (all fields without arguments) of each inserted row."""
        return self._replace(returns=returning_columns(self.model, columns))  # type: ignore[no-any-return]

    def execute(self) -> Any:
        """Run on the model's database: the inserted row count, or the returned ``Row``s
        (on an ``AsyncActiveRecord``, an awaitable of them, run on the writer)."""
        if not self.rows and self.select is None:
            raise CompileError(f"insert({self.model.__name__}) has no values() or from_select()")
        return self._run()


def _names(info: Any, model: Any, names: Any, what: str) -> tuple[str, ...]:
    if names is None:
        return ()
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in info.by_name]
    if unknown:
        raise unknown_fields_error(model, unknown)
    return names  # type: ignore[no-any-return]


# --- UPDATE and DELETE -------------------------------------------------------------------------


def _conditions(conditions: tuple[Any, ...], equals: dict[str, Any], model: Any) -> tuple[Expr, ...]:
    out = []
    for cond in conditions:
        out.append(require_condition(cond, "where()"))
    info = model.__aq__
    for name, value in equals.items():
        ref = info.refs.get(name)
        if ref is None:
            raise unknown_fields_error(model, [name])
        out.append(ref == value)
    return tuple(out)


class UpdateStatement(_Frozen):
    """``UPDATE table SET ... WHERE ...``.

    >>> from activeq import ActiveRecord, Field, update
    >>> class Lamp(ActiveRecord):
    ...     __table_name__ = 'lamps'
    ...     id: int = Field(primary_key=True)
    ...     watts: int
    >>> update(Lamp).where(Lamp.c.id == 3).values(watts=Lamp.c.watts + 5).to_sql()
    ('UPDATE "lamps" SET "watts" = "lamps"."watts" + ? WHERE "lamps"."id" = ?', [5, 3])
    """

    __slots__ = ("model", "assignments", "wheres", "returns", "kind", "key", "params")
    _FIELDS = ("model", "assignments", "wheres", "returns")
    assignments: tuple[tuple[Any, Expr], ...]
    wheres: tuple[Expr, ...]

    def _seal(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", "update")
        params: tuple[Any, ...] = ()
        for _, e in self.assignments:
            params += e.params
        for w in self.wheres:
            params += w.params
        for item in self.returns:
            params += item.params
        set_(self, "params", params)
        set_(self, "key", (
            "update", self.model.__aq__.token, tuple((c.name, e.key) for c, e in self.assignments),
            tuple(w.key for w in self.wheres), tuple(r.key for r in self.returns),
        ))

    def values(self, values: dict[str, Any] | None = None, /, **kw: Any) -> UpdateStatement:
        """The columns to set (merged with earlier ones); values may be expressions."""
        merged = {**{c.name: e for c, e in self.assignments}, **(values or {}), **kw}
        if not merged:
            raise CompileError("values() needs at least one column to set")
        return self._replace(assignments=_validated(self.model, merged, "update"))  # type: ignore[no-any-return]

    def where(self, *conditions: Any, **equals: Any) -> UpdateStatement:
        """Add conditions, ANDed with any already present; ``name=value`` means equality."""
        return self._replace(wheres=self.wheres + _conditions(conditions, equals, self.model))  # type: ignore[no-any-return]

    def returning(self, *columns: Any) -> UpdateStatement:
        """Give back these columns (all fields without arguments) of each updated row."""
        return self._replace(returns=returning_columns(self.model, columns))  # type: ignore[no-any-return]

    def execute(self, *, all_rows: bool = False) -> Any:
        """Run on the model's database: the changed row count, or the returned ``Row``s
        (on an ``AsyncActiveRecord``, an awaitable of them, run on the writer).

        Refused without a where clause unless ``all_rows=True``.
        """
        if not self.assignments:
            raise CompileError(f"update({self.model.__name__}) has no values() to set")
        if not self.wheres and not all_rows:
            raise CompileError(
                f"update({self.model.__name__}) without where() would change every row of "
                f"{self.model.__aq__.table}; pass all_rows=True to execute() to mean it")
        return self._run()


class DeleteStatement(_Frozen):
    """``DELETE FROM table WHERE ...``.

    >>> from activeq import ActiveRecord, Field, delete
    >>> class Note(ActiveRecord):
    ...     __table_name__ = 'notes'
    ...     id: int = Field(primary_key=True)
    ...     done: bool
    >>> delete(Note).where(done=True).returning('id').to_sql('duckdb')
    ('DELETE FROM "notes" WHERE "notes"."done" = ? RETURNING "notes"."id"', [True])
    """

    __slots__ = ("model", "wheres", "returns", "kind", "key", "params")
    _FIELDS = ("model", "wheres", "returns")
    wheres: tuple[Expr, ...]

    def _seal(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", "delete")
        params: tuple[Any, ...] = ()
        for w in self.wheres:
            params += w.params
        for item in self.returns:
            params += item.params
        set_(self, "params", params)
        set_(self, "key", ("delete", self.model.__aq__.token, tuple(w.key for w in self.wheres),
                           tuple(r.key for r in self.returns)))

    def where(self, *conditions: Any, **equals: Any) -> DeleteStatement:
        """Add conditions, ANDed with any already present; ``name=value`` means equality."""
        return self._replace(wheres=self.wheres + _conditions(conditions, equals, self.model))  # type: ignore[no-any-return]

    def returning(self, *columns: Any) -> DeleteStatement:
        """Give back these columns (all fields without arguments) of each deleted row."""
        return self._replace(returns=returning_columns(self.model, columns))  # type: ignore[no-any-return]

    def execute(self, *, all_rows: bool = False) -> Any:
        """Run on the model's database: the deleted row count, or the returned ``Row``s
        (on an ``AsyncActiveRecord``, an awaitable of them, run on the writer).

        Refused without a where clause unless ``all_rows=True``.
        """
        if not self.wheres and not all_rows:
            raise CompileError(
                f"delete({self.model.__name__}) without where() would remove every row of "
                f"{self.model.__aq__.table}; pass all_rows=True to execute() to mean it")
        return self._run()


def insert(model: Any) -> InsertStatement:
    """An INSERT into ``model``'s table; add ``values()`` or ``from_select()``.

    >>> from activeq import ActiveRecord, Field, insert
    >>> class Cat(ActiveRecord):
    ...     __table_name__ = 'cats'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    >>> insert(Cat).values(name='Tom').to_sql('postgres')
    ('INSERT INTO "cats" ("name") VALUES (%s)', ['Tom'])
    """
    _info(model, "insert")
    return _new(InsertStatement, model=model, names=(), rows=(), select=None, conflict=None,  # type: ignore[no-any-return]
                returns=())


def update(model: Any) -> UpdateStatement:
    """An UPDATE of ``model``'s table; add ``values()`` and ``where()``.

    >>> from activeq import ActiveRecord, Field, update
    >>> class Dog(ActiveRecord):
    ...     __table_name__ = 'dogs'
    ...     id: int = Field(primary_key=True)
    ...     age: int = 0
    >>> update(Dog).where(Dog.c.id == 1).values(age=Dog.c.age + 1).to_sql()
    ('UPDATE "dogs" SET "age" = "dogs"."age" + ? WHERE "dogs"."id" = ?', [1, 1])
    """
    _info(model, "update")
    return _new(UpdateStatement, model=model, assignments=(), wheres=(), returns=())  # type: ignore[no-any-return]


def delete(model: Any) -> DeleteStatement:
    """A DELETE from ``model``'s table; add ``where()``.

    >>> from activeq import ActiveRecord, Field, delete
    >>> class Ant(ActiveRecord):
    ...     __table_name__ = 'ants'
    ...     id: int = Field(primary_key=True)
    >>> delete(Ant).where(Ant.c.id > 10).to_sql()
    ('DELETE FROM "ants" WHERE "ants"."id" > ?', [10])
    """
    _info(model, "delete")
    return _new(DeleteStatement, model=model, wheres=(), returns=())  # type: ignore[no-any-return]
