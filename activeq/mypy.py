"""A mypy plugin that types ``Model.c`` per model: enable it with ``plugins = activeq.mypy``.

``User.c.age`` is then ``ColumnRef[int, User]`` (the field's annotation), so comparing it with
a value of another type (``User.c.age > "x"``) is an error, and a name that is no column of
the model (``User.c.emial``) is reported as ``"User" has no column "emial"``. A column is an
annotated field of the model or of a model it inherits from; relations (``orders:
list["Order"] = has_many(...)``) and un-annotated class attributes are not columns, as at run
time. JSON fields (``dict``, ``list``, pydantic models) are ``JsonColumn``s, so a path
(``Doc.c.meta["a"]``) type-checks.

Without the plugin ``User.c.age`` is ``ColumnRef[Any, User]``: every name is accepted and
checked when the query is built. pyright has no plugins; there, check names by running the
code (an unknown column raises ``UnknownColumnError`` with a suggestion when the query is
built), or use mypy with this plugin for the column checks.

The plugin works beside ``pydantic.mypy``; list both: ``plugins = pydantic.mypy, activeq.mypy``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from mypy.errorcodes import ATTR_DEFINED
from mypy.nodes import AssignmentStmt, CallExpr, MemberExpr, NameExpr, TypeInfo, Var
from mypy.plugin import AttributeContext, ClassDefContext, Plugin
from mypy.types import AnyType, Instance, Type, TypeOfAny, get_proper_type

__all__ = ["ActiveqPlugin", "plugin"]

_COLUMN_SET = "activeq.columns.ColumnSet."
_ACTIVE_RECORD = "activeq.model.ActiveRecord"
_RELATIONS = frozenset(("has_many", "has_one", "belongs_to", "many_to_many"))
_JSON_TYPES = frozenset(("builtins.dict", "builtins.list"))
_BASE_MODEL = "pydantic.main.BaseModel"
_KEY = "activeq"


class ActiveqPlugin(Plugin):
    """Per-model column types for ``Model.c`` and a report of names that are no column."""

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None]:
        return _record_relations

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        if fullname.startswith(_COLUMN_SET):
            name = fullname[len(_COLUMN_SET):]
            if not name.startswith("_"):
                return partial(_column_type, name)
        return None


def _record_relations(ctx: ClassDefContext) -> None:
    # Runs before the class body is analysed, so relation calls are known by name only; kept in
    # the class's metadata, which mypy's cache keeps too.
    names = []
    for stmt in ctx.cls.defs.body:
        if isinstance(stmt, AssignmentStmt) and isinstance(stmt.rvalue, CallExpr):
            callee = stmt.rvalue.callee
            if isinstance(callee, (NameExpr, MemberExpr)) and callee.name in _RELATIONS:
                names += [lv.name for lv in stmt.lvalues if isinstance(lv, NameExpr)]
    if names:
        ctx.cls.info.metadata[_KEY] = {"relations": names}


def _column_type(name: str, ctx: AttributeContext) -> Type:
    columns = get_proper_type(ctx.type)
    if not isinstance(columns, Instance) or not columns.args:
        return ctx.default_attr_type
    owner = get_proper_type(columns.args[0])
    if not isinstance(owner, Instance) or not _is_model(owner.type):
        return ctx.default_attr_type
    field = _field_type(owner.type, name)
    if field is None:
        ctx.api.fail(f'"{owner.type.name}" has no column "{name}"', ctx.context, code=ATTR_DEFINED)
        return AnyType(TypeOfAny.from_error)
    # ``ColumnSet.__getattr__`` gives ColumnRef[Any, Owner]: the same class, typed per field.
    default = get_proper_type(ctx.default_attr_type)
    if not isinstance(default, Instance):
        return ctx.default_attr_type
    info = default.type
    if _is_json(field):
        module = getattr(ctx.api, "modules", {}).get(info.module_name)
        symbol = module.names.get("JsonColumn") if module is not None else None
        if symbol is not None and isinstance(symbol.node, TypeInfo):
            info = symbol.node
    return Instance(info, [field, owner])


def _is_model(info: TypeInfo) -> bool:
    return any(base.fullname == _ACTIVE_RECORD for base in info.mro)


def _field_type(info: TypeInfo, name: str) -> Type | None:
    for base in info.mro:
        if base.fullname == _ACTIVE_RECORD:
            return None
        symbol = base.names.get(name)
        if symbol is None:
            continue
        node = symbol.node
        relations = base.metadata.get(_KEY, {}).get("relations", ())
        if (not isinstance(node, Var) or node.is_classvar or node.is_inferred
                or node.type is None or name in relations):
            return None
        return node.type
    return None


def _is_json(field: Type) -> bool:
    proper = get_proper_type(field)
    if not isinstance(proper, Instance):
        return False
    info = proper.type
    if info.fullname in _JSON_TYPES:
        return True
    mro = {base.fullname for base in info.mro}
    return _BASE_MODEL in mro and _ACTIVE_RECORD not in mro


def plugin(version: str) -> type[ActiveqPlugin]:
    """mypy's entry point: the plugin class."""
    return ActiveqPlugin
