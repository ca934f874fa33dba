"""Relation declarations: ``has_many``, ``belongs_to``, ``has_one``, ``many_to_many``.

A declaration is a plain class attribute of a model. The model metaclass calls
``attach(model, name)`` when the class is created; ``Database.bind`` calls ``check()``, which
resolves the target model (class-name strings are forward references) and verifies every
column the declaration names. On an instance the attribute reads the loaded value, loading it
on first access according to the fetch mode (see ``activeq.loading``).

Every kind reduces to the same loading recipe: collect one key from each parent
(``parent_attr``), select target rows whose ``child_ref`` column is in those keys, and hand
each parent the rows carrying its key.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic_core import PydanticUndefined

from .ast import ColumnRef, Expr, Ordering
from .constraints import ForeignKey, on_delete_action
from .errors import CompileError, RelationError
from .loading import load_on_access
from .model import ActiveRecord
from .registry import MODELS

__all__ = ["BelongsTo", "HasMany", "HasOne", "ManyToMany", "Relation", "belongs_to", "has_many",
           "has_one", "many_to_many"]

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _field_name(model: Any, name: str, what: str, where: str) -> str:
    """The attribute name of ``name`` on ``model`` (attribute or column name), or a clear error."""
    info = model.__aq__
    if name in info.by_name:
        return name
    col = info.by_column.get(name)
    if col is not None:
        return col.name  # type: ignore[no-any-return]
    close = difflib.get_close_matches(name, list(info.by_name), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise RelationError(f"{where}: {what} {name!r} is not a column of {model.__name__}{hint}")


def _resolve(spec: Any, owner: Any, where: str) -> Any:
    """The model a target spec names: a model class, or a class name (module-qualified or not)."""
    if isinstance(spec, type):
        if not hasattr(spec, "__aq__"):
            raise RelationError(f"{where}: {spec.__name__} is not an ActiveRecord model")
        return spec
    # A name declared in the owner's own module wins over a same-named model elsewhere.
    for key in (f"{owner.__module__}.{spec}", spec):
        found = MODELS.get(key)
        if found is not None:
            return found
    close = difflib.get_close_matches(spec, [k for k in MODELS if "." not in k], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise RelationError(f"{where}: no model named {spec!r} has been declared{hint}")


class Relation:
    """Base of relation declarations; a non-data descriptor on the owning model.

    Reading the attribute on a class returns the declaration; on an instance it returns the
    loaded value (a list for ``many`` relations, an instance or None otherwise).
    """

    is_relation = True
    many = True
    """Whether the relation holds a list (True) or one instance or None (False)."""
    kind = "relation"

    def __init__(self, target: Any, *, foreign_key: str | None = None,
                 order_by: Any = None) -> None:
        if isinstance(target, str):
            if not target.strip():
                raise RelationError(f"{self.kind}() needs a target model or model name, got ''")
        elif not isinstance(target, type):
            raise RelationError(
                f"{self.kind}() takes a model class or a model class name, not {target!r}")
        if foreign_key is not None and (not isinstance(foreign_key, str) or not foreign_key):
            raise RelationError(f"{self.kind}(): foreign_key must be a column name, not {foreign_key!r}")
        self.target = target
        self.foreign_key = foreign_key
        self.order_by = tuple(order_by) if isinstance(order_by, (tuple, list)) else (
            () if order_by is None else (order_by,))
        _check_ordering(self.order_by)
        self.owner: Any = None
        self.name: str | None = None
        self._target: Any = None
        self._checked = False

    # declaration ---------------------------------------------------------------------------
    def attach(self, model: Any, name: str) -> None:
        """Register this declaration as ``model.<name>`` (called when the class is created)."""
        if self.owner is not None and self.owner is not model:
            raise RelationError(
                f"this {self.kind}() is already declared as {self.owner.__name__}.{self.name}; "
                "declare a new one for each model")
        if name in model.__aq__.by_name:
            raise RelationError(f"{model.__name__}.{name} is both a field and a relation")
        self.owner = model
        self.name = name
        model.__aq__.relations[name] = self

    @property
    def label(self) -> str:
        """``Owner.name``, for messages."""
        owner = self.owner.__name__ if self.owner is not None else "?"
        return f"{owner}.{self.name}"

    def target_model(self) -> Any:
        """The target model class (resolving a class-name string on first use)."""
        target = self._target
        if target is None:
            if self.owner is None:
                raise RelationError(f"this {self.kind}() is not declared on a model")
            target = self._target = _resolve(self.target, self.owner, self.label)
        return target

    def check(self) -> None:
        """Resolve the target and verify every named column; raises RelationError."""
        if not self._checked:
            self._resolve_columns()
            self._checked = True

    def _resolve_columns(self) -> None:
        raise NotImplementedError

    def _ready(self) -> None:
        if not self._checked:
            self.check()

    def constraint(self) -> ForeignKey | None:
        """The FOREIGN KEY this declaration puts on the owner's table, if any."""
        return None

    # loading recipe ------------------------------------------------------------------------
    @property
    def parent_attr(self) -> str:
        """The owner field whose value keys the load."""
        raise NotImplementedError

    def child_ref(self) -> ColumnRef:
        """The column of the loaded rows that carries the parent key."""
        raise NotImplementedError

    def base_query(self) -> Any:
        """The query of target rows before the parent-key condition is added."""
        self._ready()
        query = self.target_model().query()
        if self.order_by:
            query = query.order_by(*self.order_by)
        return query

    def join_condition(self) -> Expr:
        """The ON condition joining the owner's table to the target's."""
        raise NotImplementedError

    # access --------------------------------------------------------------------------------
    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        try:
            return instance._aq_rel[self.name]
        except (AttributeError, KeyError):
            return load_on_access(self, instance)

    def __repr__(self) -> str:
        target = self.target if isinstance(self.target, str) else self.target.__name__
        return f"<{self.kind} {self.label} -> {target}>"


class HasMany(Relation):
    """The target's ``foreign_key`` column refers to the owner's ``owner_key``."""

    kind = "has_many"

    def __init__(self, target: Any, *, foreign_key: str | None = None,
                 owner_key: str | None = None, order_by: Any = None) -> None:
        super().__init__(target, foreign_key=foreign_key, order_by=order_by)
        self.owner_key = owner_key

    def _resolve_columns(self) -> None:
        owner, target = self.owner, self.target_model()
        if self.owner_key is None:
            if owner.__aq__.pk is None:
                raise RelationError(f"{self.label}: {owner.__name__} has no primary key; pass owner_key=")
            self._owner_key = owner.__aq__.pk.name
        else:
            self._owner_key = _field_name(owner, self.owner_key, "owner_key", self.label)
        fk = self.foreign_key or f"{_snake(owner.__name__)}_id"
        self._fk = _field_name(target, fk, "foreign_key", self.label)

    @property
    def parent_attr(self) -> str:
        self._ready()
        return self._owner_key

    def child_ref(self) -> ColumnRef:
        self._ready()
        return self.target_model().__aq__.refs[self._fk]  # type: ignore[no-any-return]

    def join_condition(self) -> Expr:
        self._ready()
        return self.owner.__aq__.refs[self._owner_key] == self.child_ref()  # type: ignore[no-any-return]


class HasOne(HasMany):
    """Like ``has_many``, holding the first matching row or None."""

    kind = "has_one"
    many = False


class BelongsTo(Relation):
    """The owner's ``foreign_key`` column refers to the target's ``target_key``."""

    kind = "belongs_to"
    many = False

    def __init__(self, target: Any, *, foreign_key: str | None = None,
                 target_key: str | None = None, on_delete: str | None = None) -> None:
        super().__init__(target, foreign_key=foreign_key)
        self.target_key = target_key
        self.on_delete = on_delete_action(on_delete, f"{self.kind}({target!r})")

    def _resolve_columns(self) -> None:
        owner, target = self.owner, self.target_model()
        fk = self.foreign_key or f"{_snake(target.__name__)}_id"
        self._fk = _field_name(owner, fk, "foreign_key", self.label)
        if self.target_key is None:
            if target.__aq__.pk is None:
                raise RelationError(f"{self.label}: {target.__name__} has no primary key; pass target_key=")
            self._target_key = target.__aq__.pk.name
        else:
            self._target_key = _field_name(target, self.target_key, "target_key", self.label)
        if self.on_delete is not None:
            self._check_constraint()

    def _check_constraint(self) -> None:
        """Refuse a FOREIGN KEY the database would reject, or whose action could never work."""
        owner, target = self.owner, self.target_model()
        column = owner.__aq__.by_name[self._fk]
        key = target.__aq__.by_name[self._target_key]
        single_uniques = {i.columns for i in target.__aq__.indexes if i.unique}
        if not (key.primary_key or key.unique or (key.column,) in single_uniques):
            raise RelationError(
                f"{self.label}: a FOREIGN KEY must refer to a primary key or unique column, and "
                f"{target.__name__}.{key.name} is neither (declare it Field(unique=True))")
        if self.on_delete == "set null" and not column.nullable:
            raise RelationError(
                f"{self.label}: on_delete='set null' needs a nullable {owner.__name__}.{column.name}"
                f" (annotate it '{_type_name(column.python_type)} | None')")
        if self.on_delete == "set default" and not column.nullable and column.default in (
                PydanticUndefined, None):
            raise RelationError(
                f"{self.label}: on_delete='set default' needs a default on "
                f"{owner.__name__}.{column.name}")

    def constraint(self) -> ForeignKey | None:
        if self.on_delete is None:
            return None
        self._ready()
        target = self.target_model().__aq__
        return ForeignKey(self.owner.__aq__.by_name[self._fk].column, target.table,
                          target.by_name[self._target_key].column, self.on_delete, target.schema)

    @property
    def parent_attr(self) -> str:
        self._ready()
        return self._fk

    def child_ref(self) -> ColumnRef:
        self._ready()
        return self.target_model().__aq__.refs[self._target_key]  # type: ignore[no-any-return]

    def join_condition(self) -> Expr:
        self._ready()
        return self.owner.__aq__.refs[self._fk] == self.child_ref()  # type: ignore[no-any-return]


class ManyToMany(Relation):
    """Owner and target linked by rows of a join table (``through``).

    ``foreign_key`` is the join-table column referring to the owner's ``owner_key``;
    ``other_key`` the one referring to the target's ``target_key``.
    """

    kind = "many_to_many"

    def __init__(self, target: Any, *, through: Any = None, foreign_key: str | None = None,
                 other_key: str | None = None, owner_key: str | None = None,
                 target_key: str | None = None, order_by: Any = None) -> None:
        super().__init__(target, foreign_key=foreign_key, order_by=order_by)
        if through is not None and not (isinstance(through, type) or
                                        (isinstance(through, str) and through.strip())):
            raise RelationError(
                f"many_to_many(): through must be a join table name or a model, not {through!r}")
        self.through = through
        self.other_key = other_key
        self.owner_key = owner_key
        self.target_key = target_key

    def _resolve_columns(self) -> None:
        owner, target = self.owner, self.target_model()
        label = self.label
        self._owner_key = _key_or_pk(owner, self.owner_key, "owner_key", label)
        self._target_key = _key_or_pk(target, self.target_key, "target_key", label)
        fk = self.foreign_key or f"{_snake(owner.__name__)}_id"
        other = self.other_key or f"{_snake(target.__name__)}_id"
        through: Any = self.through
        if through is None:
            # The usual convention: both table names, sorted, joined by an underscore.
            through = "_".join(sorted((owner.__aq__.table, target.__aq__.table)))
        model = through if isinstance(through, type) else _model_for_table(through, owner)
        if model is None:
            for name in (fk, other):
                if not name.isidentifier() or name.startswith("_") or name.startswith("model_"):
                    raise RelationError(f"{label}: join-table column {name!r} is not a plain identifier")
            if fk == other:
                raise RelationError(f"{label}: foreign_key and other_key are both {fk!r}")
            model = _join_table_model(through, (fk, _key_type(owner, self._owner_key)),
                                      (other, _key_type(target, self._target_key)))
        elif not hasattr(model, "__aq__"):
            raise RelationError(f"{label}: through={model.__name__} is not an ActiveRecord model")
        self._through: Any = model
        self._fk = _field_name(model, fk, "foreign_key", label)
        self._other = _field_name(model, other, "other_key", label)

    def through_model(self) -> Any:
        """The model of the join table (generated when the table was given by name)."""
        self._ready()
        return self._through

    @property
    def parent_attr(self) -> str:
        self._ready()
        return self._owner_key

    def child_ref(self) -> ColumnRef:
        self._ready()
        return self._through.__aq__.refs[self._fk]  # type: ignore[no-any-return]

    def base_query(self) -> Any:
        query = super().base_query()
        refs = self._through.__aq__.refs
        return query.join(self._through, refs[self._other] == self.target_model().__aq__.refs[
            self._target_key])

    def join_condition(self) -> Expr:
        self._ready()
        raise CompileError(
            f"{self.label} is a many_to_many through {self._through.__aq__.table}: join that "
            "table first, with explicit conditions")


def _key_or_pk(model: Any, name: str | None, what: str, label: str) -> str:
    if name is not None:
        return _field_name(model, name, what, label)
    if model.__aq__.pk is None:
        raise RelationError(f"{label}: {model.__name__} has no primary key; pass {what}=")
    return model.__aq__.pk.name  # type: ignore[no-any-return]


def _model_for_table(name: str, owner: Any) -> Any:
    """A declared model whose class name is ``name``, else None (``name`` is a table)."""
    for key in (f"{owner.__module__}.{name}", name):
        if key in MODELS:
            return MODELS[key]
    return None


_JOIN_MODELS: dict[tuple[str, tuple[str, Any], tuple[str, Any]], Any] = {}


def _key_type(model: Any, name: str) -> Any:
    """The Python type of ``model``'s key column ``name``, for a join-table column holding it."""
    return model.__aq__.by_name[name].python_type


def _join_table_model(table: str, fk: tuple[str, Any], other: tuple[str, Any]) -> Any:
    """A minimal model for a join table named only by its table name (shared per layout).

    Each column has the type of the key it refers to, so keys are bound as the keys are.
    """
    key = (table, fk, other)
    model = _JOIN_MODELS.get(key)
    if model is None:
        namespace = {
            "__module__": __name__,
            "__qualname__": f"_JoinTable_{table}",
            "__table_name__": table,
            "__annotations__": dict((fk, other)),
        }
        meta: Any = type(ActiveRecord)
        model = _JOIN_MODELS[key] = meta(f"_JoinTable_{table}", (ActiveRecord,), namespace)
    return model


def has_many(target: Any, foreign_key: str | None = None, *, owner_key: str | None = None,
             order_by: Any = None) -> Any:
    """Declare a one-to-many relation: ``user.orders`` is a list of ``Order``.

    Annotate the attribute to type it for mypy and pyright:
    ``orders: list["Order"] = has_many("Order", foreign_key="user_id")``. The annotation is
    not a column; the declaration works the same without it. (The declaration is typed
    ``Any`` so that the annotation is the attribute's type; the same holds for ``has_one``,
    ``belongs_to`` and ``many_to_many``.)

    Args:
        target: the target model, or its class name (a forward reference).
        foreign_key: the target's column referring to the owner (default ``<owner>_id``,
            e.g. ``user_id`` for ``User``).
        owner_key: the owner's column it refers to (default the owner's primary key).
        order_by: default ordering of the loaded list (names or column expressions).

    >>> from activeq import ActiveRecord, Field, Database, has_many
    >>> class Author(ActiveRecord):
    ...     __table_name__ = 'authors'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    ...     books: list['Book'] = has_many('Book', foreign_key='author_id')
    >>> class Book(ActiveRecord):
    ...     __table_name__ = 'books'
    ...     id: int = Field(primary_key=True)
    ...     author_id: int
    ...     title: str
    >>> db = Database(':memory:'); db.bind(Author, Book); db.create_tables(Author, Book)
    >>> ada = Author.create(name='Ada'); _ = Book.create(author_id=ada.id, title='Notes')
    >>> [b.title for b in Author.query().includes('books').first().books]
    ['Notes']
    """
    return HasMany(target, foreign_key=foreign_key, owner_key=owner_key, order_by=order_by)


def has_one(target: Any, foreign_key: str | None = None, *, owner_key: str | None = None,
            order_by: Any = None) -> Any:
    """Declare a one-to-one relation held by the target: ``user.profile`` is one or None.

    Args:
        target: the target model, or its class name.
        foreign_key: the target's column referring to the owner (default ``<owner>_id``).
        owner_key: the owner's column it refers to (default the owner's primary key).
        order_by: which row wins when several match (the first in this order).

    >>> from activeq import ActiveRecord, Database, Field, has_one
    >>> class Person(ActiveRecord):
    ...     __table_name__ = 'persons'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    ...     passport: 'Passport | None' = has_one('Passport', foreign_key='person_id')
    >>> class Passport(ActiveRecord):
    ...     __table_name__ = 'passports'
    ...     id: int = Field(primary_key=True)
    ...     person_id: int
    ...     number: str
    >>> db = Database(':memory:'); db.bind(Person, Passport); db.create_tables(Person, Passport)
    >>> ann = Person.create(name='Ann'); _ = Passport.create(person_id=ann.id, number='X1')
    >>> Person.query().includes('passport').first().passport.number
    'X1'
    """
    return HasOne(target, foreign_key=foreign_key, owner_key=owner_key, order_by=order_by)


def belongs_to(target: Any, foreign_key: str | None = None, *,
               target_key: str | None = None, on_delete: str | None = None) -> Any:
    """Declare the owning side of a foreign key: ``order.user`` is a ``User`` or None.

    Typed with an annotation that is not a column:
    ``user: "User | None" = belongs_to("User", foreign_key="user_id")``.

    Args:
        target: the target model, or its class name.
        foreign_key: the owner's column holding the reference (default ``<target>_id``).
        target_key: the target's column it refers to (default the target's primary key).
        on_delete: emit a FOREIGN KEY constraint in the owner's CREATE TABLE, with what
            happens to the owner's rows when the target row is deleted: 'cascade' (deleted
            too), 'set null', 'set default', 'restrict' or 'no action' (the delete fails
            while rows refer to it). Without it no constraint is emitted.

    A NULL foreign key reads as None without a query.

    >>> from activeq import ActiveRecord, Database, Field, belongs_to
    >>> class Shelf(ActiveRecord):
    ...     __table_name__ = 'shelves'
    ...     id: int = Field(primary_key=True)
    ...     label: str
    >>> class Jar(ActiveRecord):
    ...     __table_name__ = 'jars'
    ...     id: int = Field(primary_key=True)
    ...     shelf_id: int
    ...     shelf: 'Shelf | None' = belongs_to('Shelf', foreign_key='shelf_id', on_delete='cascade')
    >>> db = Database(':memory:'); db.bind(Shelf, Jar); db.create_tables(Shelf, Jar)
    >>> shelf = Shelf.create(label='top'); _ = Jar.create(shelf_id=shelf.id)
    >>> shelf.delete(), Jar.query().count()
    (1, 0)
    """
    return BelongsTo(target, foreign_key=foreign_key, target_key=target_key, on_delete=on_delete)


def many_to_many(target: Any, through: Any = None, foreign_key: str | None = None,
                 other_key: str | None = None, *, owner_key: str | None = None,
                 target_key: str | None = None, order_by: Any = None) -> Any:
    """Declare a many-to-many relation through a join table: ``book.categories``.

    Args:
        target: the target model, or its class name.
        through: the join table's name, or a model mapped to it (default: both table names
            sorted and joined by ``_``, e.g. ``books_categories``).
        foreign_key: the join-table column referring to the owner (default ``<owner>_id``).
        other_key: the join-table column referring to the target (default ``<target>_id``).
        owner_key: the owner's column ``foreign_key`` refers to (default its primary key).
        target_key: the target's column ``other_key`` refers to (default its primary key).
        order_by: default ordering of the loaded list.

    >>> from activeq import ActiveRecord, Database, Field, many_to_many
    >>> class Post(ActiveRecord):
    ...     __table_name__ = 'posts'
    ...     id: int = Field(primary_key=True)
    ...     title: str
    ...     tags: list['Tag'] = many_to_many('Tag', through='post_tags', foreign_key='post_id', other_key='tag_id')
    >>> class Tag(ActiveRecord):
    ...     __table_name__ = 'tags'
    ...     id: int = Field(primary_key=True)
    ...     label: str
    >>> db = Database(':memory:'); db.bind(Post, Tag); db.create_tables(Post, Tag)
    >>> _ = db.execute('CREATE TABLE post_tags (post_id INTEGER, tag_id INTEGER)')
    >>> post = Post.create(title='Hi'); tag = Tag.create(label='sql')
    >>> _ = db.execute('INSERT INTO post_tags VALUES (?, ?)', (post.id, tag.id))
    >>> [t.label for t in Post.query().includes('tags').first().tags]
    ['sql']
    """
    return ManyToMany(target, through=through, foreign_key=foreign_key, other_key=other_key,
                      owner_key=owner_key, target_key=target_key, order_by=order_by)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def _check_ordering(items: tuple[Any, ...]) -> None:
    for item in items:
        if not isinstance(item, (str, Expr, Ordering)):
            raise RelationError(f"order_by takes column names or expressions, not {item!r}")
