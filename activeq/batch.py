"""Inserts and updates of single records and of batches.

Batches are validated whole before anything is written, then written in one transaction with
one ``executemany`` per chunk. Validation goes through one pydantic-core call per chunk over a
typed-dict schema assembled from the model's own field schemas (same types, constraints and
field validators), which costs a fraction of building a model instance per row.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter, length_hint, ne
from time import perf_counter_ns
from typing import Any

import pydantic
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from .ast import Compare, Param
from .compiler import compiler
from .engines.base import quote_identifier
from .errors import CompileError, DatabaseError, ValidationError, unknown_fields_error
from .query import Insert, Update
from .types import FloatType
from .values import raise_unbindable, raise_unbindable_row, refuse_nan, refuse_nan_in_rows

__all__ = ["DEFAULT_CHUNK_SIZE", "RowValidator", "insert_many", "insert_one", "update_many"]

#: Rows per ``executemany`` (and per validation call). Each execution binds one row, so
#: SQLite's bound-variable limit (32766) holds at any width; the chunk size only bounds
#: memory and how often ``progress`` is called.
DEFAULT_CHUNK_SIZE = 10_000

Progress = Callable[[int, int], Any]


def insert_one(db: Any, record: Any) -> int:
    """INSERT a new record, set its primary key, mark it persisted; returns 1."""
    model = type(record)
    info = model.__aq__
    data = record.__dict__
    pk = info.pk
    names = tuple(n for n in info.names if n in data and not (pk is not None and n == pk.name and data[n] is None))
    try:
        # Assignments after construction are not validated by pydantic; check them now,
        # before anything is written.
        validated = model.model_validate({n: data[n] for n in names})
    except pydantic.ValidationError as e:
        raise ValidationError.from_pydantic(model.__name__, e) from e
    new_key = pk is not None and data.get(pk.name) is None
    # Without a last-insert id (PostgreSQL, DuckDB) the new key comes back through RETURNING.
    returning = new_key and not db.has_last_id
    stmt = Insert(model, names, None, returning)
    t0 = perf_counter_ns()
    entry, hit = compiler.compile(stmt, db.dialect)
    plain = [validated.__dict__[n] for n in names]
    if any(map(ne, plain, plain)):  # only NaN differs from itself: a C pass, no call, clears a row
        refuse_nan(model, names, plain)
    values = entry.values(plain)
    compile_ns = perf_counter_ns() - t0
    try:
        rows, rowid = db._exec_write(entry.sql, values, stmt.key, compile_ns, hit, entry.tables,
                                     new_key and not returning)
    except (OverflowError, UnicodeEncodeError) as e:
        raise_unbindable(e, values, names=names, where=f"invalid {model.__name__}: ")
    if new_key:
        data[pk.name] = rows[0][0] if returning else rowid
    record.__pydantic_fields_set__.clear()
    object.__setattr__(record, "_aq_ctx", db._default_ctx)
    return 1


# validation --------------------------------------------------------------------------------
def _model_fields_schema(model: Any) -> tuple[dict[str, Any], Any, Any] | None:
    """The model's per-field core schemas, its core config and shared definitions.

    None when the schema is not a plain model over model-fields (then rows are validated as
    whole model instances instead).
    """
    schema: Any = model.__pydantic_core_schema__
    definitions = None
    if schema.get("type") == "definitions":
        definitions = schema["definitions"]
        schema = schema["schema"]
        if schema.get("type") == "definition-ref":
            ref = schema["schema_ref"]
            schema = next((d for d in definitions if d.get("ref") == ref), {})
    if schema.get("type") != "model":
        return None
    inner = schema.get("schema", {})
    if inner.get("type") != "model-fields":
        return None
    return inner["fields"], schema.get("config"), definitions


def _has_model_validators(model: Any) -> bool:
    decorators = model.__pydantic_decorators__
    return bool(decorators.model_validators or decorators.root_validators)


class RowValidator:
    """Validates a list of row dicts against a model in one call, into plain dicts.

    Args:
        model: the model class.
        names: the fields rows carry (default: every field, with the model's defaults).
        required: whether every field in ``names`` must be present (partial updates).
    """

    __slots__ = ("model", "_validator", "_fallback")

    def __init__(self, model: Any, names: Sequence[str] | None = None, required: bool = False) -> None:
        self.model = model
        self._validator: SchemaValidator | None = None
        self._fallback = False
        found = _model_fields_schema(model)
        if found is None or (names is None and _has_model_validators(model)):
            # Model validators see the whole instance; only building the instance runs them.
            self._fallback = names is None
            if not self._fallback:
                raise CompileError(f"cannot validate partial rows of {model.__name__}")
            return
        fields, config, definitions = found
        chosen = {}
        for name in names if names is not None else fields:
            field = fields[name]
            inner = field["schema"]
            if required and inner.get("type") == "default":
                inner = inner["schema"]
            chosen[name] = cs.typed_dict_field(
                inner,
                required=required or inner.get("type") != "default",
                validation_alias=field.get("validation_alias"),
            )
        schema: Any = cs.list_schema(cs.typed_dict_schema(chosen, extra_behavior="forbid"))
        if definitions:
            schema = cs.definitions_schema(schema, definitions)
        self._validator = SchemaValidator(schema, config)

    def validate(self, rows: list[Any], base: int = 0, positions: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Validated copies of ``rows``; errors name the row as ``base + i`` or ``positions[i]``."""
        if self._validator is None:
            return self._validate_models(rows, base, positions)
        try:
            return self._validator.validate_python(rows)  # type: ignore[no-any-return]
        except pydantic.ValidationError as e:
            raise batch_error(self.model, e, base, positions) from e

    def _validate_models(self, rows: list[Any], base: int, positions: Sequence[int] | None) -> list[dict[str, Any]]:
        model = self.model
        validate = model.__pydantic_validator__.validate_python
        known = model.model_fields
        out = []
        for i, row in enumerate(rows):
            index = positions[i] if positions is not None else base + i
            if isinstance(row, dict):
                unknown = [k for k in row if k not in known]
                if unknown:
                    raise unknown_error(model, unknown, index)
            try:
                out.append(validate(row).__dict__)
            except pydantic.ValidationError as e:
                raise _row_error(model, e.errors(include_url=False), index, 0, e) from e
        return out


_VALIDATORS: weakref.WeakKeyDictionary[Any, dict[Any, RowValidator]] = weakref.WeakKeyDictionary()


def row_validator(model: Any, names: tuple[str, ...] | None = None) -> RowValidator:
    """The cached validator of a model's full rows (``names`` None) or of required ``names``."""
    per_model = _VALIDATORS.get(model)
    if per_model is None:
        per_model = _VALIDATORS[model] = {}
    validator = per_model.get(names)
    if validator is None:
        validator = per_model[names] = RowValidator(model, names, required=names is not None)
    return validator


def unknown_error(model: Any, unknown: list[str], index: int | None) -> ValidationError:
    """A ValidationError for unknown field names, with a suggestion for each."""
    error = unknown_fields_error(model, unknown)
    if index is None:
        return error
    return ValidationError(f"row {index}: {error}", index=index, field=unknown[0])


def batch_error(model: Any, error: pydantic.ValidationError, base: int = 0,
                positions: Sequence[int] | None = None) -> ValidationError:
    """Turn pydantic's error over a list of rows into one naming the first bad row and field."""
    errors = error.errors(include_url=False)
    first_loc = errors[0]["loc"]
    local = first_loc[0] if first_loc and isinstance(first_loc[0], int) else 0
    index = positions[local] if positions is not None else base + local
    mine = [e for e in errors if e["loc"][:1] == (local,)]
    others = len({e["loc"][0] for e in errors if e["loc"] and e["loc"][0] != local})
    unknown = [str(e["loc"][1]) for e in mine if e["type"] == "extra_forbidden" and len(e["loc"]) > 1]
    if unknown:
        return unknown_error(model, unknown, index)
    return _row_error(model, [{**e, "loc": e["loc"][1:]} for e in mine], index, others, error)


def _row_error(model: Any, errors: list[Any], index: int, others: int, cause: Any) -> ValidationError:
    loc = errors[0]["loc"] if errors else ()
    field = str(loc[0]) if loc else None
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg']}" for e in errors
    )
    more = f" (and {others} more invalid row{'s' if others != 1 else ''})" if others else ""
    kind = ValidationError.for_details(errors)
    return kind(f"row {index}: invalid {model.__name__}: {detail}{more}",
                index=index, field=field, pydantic_error=cause)


def check_awareness(model: Any, names: Sequence[str], dicts: list[dict[str, Any]], base: int,
                    positions: Sequence[int] | None) -> None:
    """Refuse a batch that mixes naive and aware datetimes in one column.

    Aware values are stored in UTC and naive ones as given: in one column together they
    would not compare or sort by instant.
    """
    info = model.__aq__
    for name in names:
        sqltype = info.by_name[name].type
        if sqltype.temporal != "datetime" or sqltype.aware is not None:
            continue
        first: bool | None = None
        for i, row in enumerate(dicts):
            value = row.get(name)
            if value is None:
                continue
            aware = value.tzinfo is not None and value.utcoffset() is not None
            if first is None:
                first = aware
            elif aware != first:
                index = positions[i] if positions is not None else base + i
                raise ValidationError(
                    f"row {index}: {model.__name__}.{name} mixes naive and aware datetimes in "
                    f"one batch ({value!r} is {'aware' if aware else 'naive'}, earlier rows are "
                    f"not); store aware values only (they are kept in UTC) or naive ones only",
                    index=index, field=name)


def _float_names(info: Any, names: Sequence[str]) -> list[str]:
    return [n for n in names if isinstance(info.by_name[n].type, FloatType)]


# insert_many -------------------------------------------------------------------------------
_CONFLICT_MODES = ("ignore", "replace", "update", "upsert")


def _check_names(model: Any, names: Iterable[str] | None, what: str) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    unknown = [n for n in names if n not in model.__aq__.by_name]
    if unknown:
        raise unknown_error(model, unknown, None)
    if not names:
        raise CompileError(f"{what} must name at least one column")
    return names


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if not names:
        # A row of defaults only: itemgetter() needs at least one name.
        return lambda d: ()
    if len(names) == 1:
        name = names[0]
        return lambda d: (d[name],)
    return itemgetter(*names)


def _as_list(rows: Iterable[Any]) -> list[Any]:
    return rows if isinstance(rows, list) else list(rows)


def _copies(db: Any, info: Any, on_conflict: str | None, want_ids: bool) -> bool:
    """Whether a batch goes in with COPY: PostgreSQL's bulk path, several times faster than
    executemany there. COPY returns no rows and takes no conflict clause, and a Database whose
    ``execute()`` is overridden sees every statement as SQL through it (activeq.routing)."""
    return (db.dialect == "postgres" and on_conflict is None and not want_ids
            and info.schema is None and "_run_many" not in vars(db))


def insert_many(
    model: Any,
    rows: Iterable[Any],
    *,
    on_conflict: str | None = None,
    conflict_columns: Iterable[str] | None = None,
    update_columns: Iterable[str] | None = None,
    returning: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> int | list[Any]:
    """Validate every row, then INSERT them all in one transaction (see ``Model.insert_many``)."""
    info = model.__aq__
    db = model.database()
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise CompileError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    targets = _check_names(model, conflict_columns, "conflict_columns")
    updates = _check_names(model, update_columns, "update_columns")
    if on_conflict is None and (targets or updates):
        on_conflict = "update"
    if on_conflict is not None and on_conflict not in _CONFLICT_MODES:
        raise CompileError(
            f"on_conflict must be one of 'ignore', 'replace' or 'update', not {on_conflict!r}")
    if on_conflict in ("update", "upsert") and not targets:
        raise CompileError("an upsert needs conflict_columns: the unique columns that collide")
    rows = _as_list(rows)
    total = len(rows)
    if total == 0:
        return [] if returning else 0
    pk = info.pk.name if info.pk is not None else None

    # Validate everything first: a bad row must stop the batch before a lock is even taken.
    validator = row_validator(model)
    batches: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    records: list[tuple[int, Any]] = []
    for start in range(0, total, chunk_size):
        part = rows[start:start + chunk_size]
        if set(map(type, part)) != {dict}:
            part = _unwrap_records(model, part, start, records)
        dicts = validator.validate(part, start)
        keyed = [d[pk] is not None for d in dicts] if pk is not None else []
        with_pk = pk is None or any(keyed)
        names = info.names if with_pk else tuple(n for n in info.names if n != pk)
        check_awareness(model, names, dicts, start, None)
        refuse_nan_in_rows(model, _float_names(info, names), dicts, start)
        if pk is None or not with_pk or all(keyed):
            batches.append((names, list(map(_getter(names), dicts))))
        else:
            batches.extend(_key_runs(info, pk, dicts, keyed))
        del dicts

    # Instances get their new keys back, which needs RETURNING when the database assigns them.
    want_ids = returning or (
        pk is not None and on_conflict != "ignore"
        and any(r.__dict__.get(pk) is None for _, r in records)
    )
    ids: list[Any] | None = [] if want_ids else None
    copies = _copies(db, info, on_conflict, want_ids)
    conn = db._thread().conn
    done = 0
    changed = 0
    tables: frozenset[str] = frozenset()
    with db.transaction():
        for names, values in batches:
            stmt = Insert(model, names, _conflict(on_conflict, targets, updates, names, pk),
                          want_ids)
            t0 = perf_counter_ns()
            entry, hit = compiler.compile(stmt, db.dialect)
            if entry.converters:
                # Columns stored in another form (scaled decimals, ISO text, JSON, ...).
                values = [entry.values(row) for row in values]
            compile_ns = perf_counter_ns() - t0
            before = conn.total_changes()
            sql = entry.sql
            t0 = perf_counter_ns()
            try:
                if copies and names:
                    columns = [info.by_name[n].column for n in names]
                    sql = _copy_sql(info.table, columns)
                    conn.copy(info.table, columns, values)
                    count = conn.changes()
                else:
                    returned, count = db._run_many(sql, values, ids is not None)
                    if ids is not None:
                        ids.extend([r[0] for r in returned or ()])
            except DatabaseError as e:
                after = conn.total_changes()
                index = None
                if on_conflict is None and before is not None and after is not None:
                    index = done + after - before
                raise _row_db_error(e, index) from e.__cause__
            except (OverflowError, UnicodeEncodeError) as e:
                # The transaction rolls back: no row of the batch stays written.
                raise_unbindable_row(e, values, names, where=f"invalid {model.__name__}: ",
                                     positions=range(done, done + len(values)))
            # The log keeps one sample row: holding every chunk's values would pin them.
            db.log.record(sql, stmt.key, values[:1], compile_ns, perf_counter_ns() - t0,
                          count, hit)
            changed += count
            done += len(values)
            tables = entry.tables
            if progress is not None:
                progress(done, total)
        db._after_write(tables)
    if records:
        _mark_inserted(db, records, ids, pk, total)
    if returning:
        return ids  # type: ignore[return-value]
    return changed


def _key_runs(info: Any, pk: str, dicts: list[dict[str, Any]],
              keyed: list[bool]) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Split rows that give their primary key from rows that leave it to the database.

    A row without a key must not send NULL for it: only SQLite turns that into a new key,
    PostgreSQL and DuckDB refuse it. Runs of neighbouring rows keep the batch's order, so
    returned keys and the row index in an error still match the caller's rows.
    """
    without = tuple(n for n in info.names if n != pk)
    runs = []
    start = 0
    for index in range(1, len(dicts) + 1):
        if index == len(dicts) or keyed[index] != keyed[start]:
            names = info.names if keyed[start] else without
            runs.append((names, list(map(_getter(names), dicts[start:index]))))
            start = index
    return runs


def _copy_sql(table: str, columns: list[str]) -> str:
    """The statement a COPY batch runs, as the query log shows it."""
    return (f"COPY {quote_identifier(table)} ({', '.join(map(quote_identifier, columns))}) "
            "FROM STDIN")


def _unwrap_records(model: Any, part: list[Any], start: int, records: list[tuple[int, Any]]) -> list[Any]:
    """Model instances in a batch become their field dicts; the instances are remembered."""
    out = []
    for i, row in enumerate(part):
        if isinstance(row, model):
            records.append((start + i, row))
            row = row.__dict__
        out.append(row)
    return out


def _conflict(mode: str | None, targets: tuple[str, ...], updates: tuple[str, ...],
              names: tuple[str, ...], pk: str | None) -> Any:
    if mode is None:
        return None
    if mode in ("ignore", "replace"):
        return (mode,)
    chosen = updates or tuple(n for n in names if n not in targets and n != pk)
    return ("update", targets, chosen)


def _row_db_error(err: DatabaseError, index: int | None) -> Exception:
    if index is None:
        return err
    named = type(err)(f"row {index}: {err}", result_code=err.result_code,
                      extended_code=err.extended_code, sqlstate=err.sqlstate)
    named.index = index  # type: ignore[attr-defined]
    return named


def _mark_inserted(db: Any, records: list[tuple[int, Any]], ids: list[Any] | None,
                   pk: str | None, total: int) -> None:
    """Give inserted instances their primary keys and mark them persisted.

    Keys map to rows one to one only when every row produced one (not with 'ignore').
    """
    if ids is not None and len(ids) != total:
        return
    ctx = db._default_ctx
    for index, record in records:
        db._remember(record)
        data = record.__dict__
        if pk is not None and ids is not None and data.get(pk) is None:
            data[pk] = ids[index]
        record.__pydantic_fields_set__.clear()
        object.__setattr__(record, "_aq_ctx", ctx)


# update_many -------------------------------------------------------------------------------
def update_many(
    model: Any,
    rows: Iterable[Any],
    *,
    fields: Iterable[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> int:
    """UPDATE rows by primary key, each with its own values (see ``Model.update_many``)."""
    info = model.__aq__
    db = model.database()
    if info.pk is None:
        raise CompileError(f"{model.__name__} has no primary key: update_many() finds rows by it")
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise CompileError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    pk = info.pk.name
    chosen = _check_names(model, fields, "fields")
    if pk in chosen:
        raise CompileError(f"update_many() finds rows by {pk!r}; it cannot also set it")
    rows = _as_list(rows)
    total = len(rows)

    # Group rows by the columns they set; the usual batch has one group and one statement.
    groups: dict[tuple[str, ...], list[int]] = {}
    payloads: list[Any] = [None] * total
    records: list[Any] = []
    for i, row in enumerate(rows):
        if isinstance(row, model):
            data = row.__dict__
            names = chosen or tuple(n for n in info.names if n in row.__pydantic_fields_set__
                                    and n != pk and n in data)
            payload = {n: data[n] for n in names if n in data}
            payload[pk] = data.get(pk)
            records.append(row)
        elif isinstance(row, dict):
            payload = row
            names = chosen or tuple(k for k in row if k != pk)
        else:
            raise ValidationError(
                f"row {i}: update_many() takes dicts or {model.__name__} instances, not "
                f"{type(row).__name__}", index=i)
        if payload.get(pk) is None:
            raise ValidationError(f"row {i}: the primary key {pk!r} is required to update a row",
                                  index=i, field=pk)
        if not names:
            continue
        payloads[i] = payload
        groups.setdefault(names, []).append(i)

    batches = []
    for names, positions in groups.items():
        unknown = [n for n in names if n not in info.by_name]
        if unknown:
            raise unknown_error(model, unknown, positions[0])
        keyed = (*names, pk)
        validator = row_validator(model, keyed)
        part = [payloads[i] for i in positions]
        if chosen:
            part = [{n: p[n] for n in keyed if n in p} for p in part]
        dicts = validator.validate(part, positions=positions)
        check_awareness(model, names, dicts, 0, positions)
        refuse_nan_in_rows(model, _float_names(info, names), dicts, positions=positions)
        stmt = Update(model, tuple((info.by_name[n], Param(None)) for n in names),
                      (Compare("=", info.refs[pk], Param(None)),))
        batches.append((stmt, keyed, positions, list(map(_getter(keyed), dicts))))

    changed = 0
    done = 0
    with db.transaction():
        for stmt, keyed, positions, values in batches:
            entry, hit = compiler.compile(stmt, db.dialect)
            if entry.converters:
                values = [entry.values(row) for row in values]
            for start in range(0, len(values), chunk_size):
                part = values[start:start + chunk_size]
                t0 = perf_counter_ns()
                # The driver takes rows from this iterator one at a time, each just before
                # running it: what is left after a failure tells which row failed.
                rows = iter(part)
                try:
                    count = db._run_many(entry.sql, rows, False)[1]
                except DatabaseError as e:
                    failed = start + len(part) - length_hint(rows) - 1
                    raise _row_db_error(e, positions[failed]) from e.__cause__
                except (OverflowError, UnicodeEncodeError) as e:
                    raise_unbindable_row(e, part, keyed, where=f"invalid {model.__name__}: ",
                                         positions=positions[start:start + len(part)])
                db.log.record(entry.sql, stmt.key, part[:1], 0, perf_counter_ns() - t0, count, hit)
                changed += count
                done += len(part)
                if progress is not None:
                    progress(done, total)
            db._after_write(entry.tables)
    for record in records:
        db._remember(record)
        record.__pydantic_fields_set__.clear()
    return changed
