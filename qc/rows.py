"""Hand-written queries that load model instances.

For the few queries on the hot path of every API request, where building the SQL through the
ORM costs several times more than running it. Names come from the models' own metadata, and
the values pass through the converters the ORM applies (dates, booleans and JSON on SQLite,
JSON on PostgreSQL), so an instance made here is the same as one the ORM would load."""

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(alias: str, model: type[Model], name: str) -> str:
    """`alias.column` of the field `name` (a foreign key's name gives its id column)."""
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


def columns(alias: str, model: type[Model]) -> str:
    """Every concrete field's column, in the order from_row reads them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.lru_cache(maxsize=64)
def _readers(model: type[Model], db) -> tuple[list[str], list[tuple]]:
    """Per model and connection (the converters are the backend's): the attribute names, and
    for each column its expression and converters, worked out once instead of per row."""
    fields = model._meta.concrete_fields
    readers = []
    for field in fields:
        col = field.get_col(model._meta.db_table)
        readers.append((col, db.ops.get_db_converters(col) + field.get_db_converters(db)))
    return [field.attname for field in fields], readers


def from_row(model: type[Model], values) -> Model:
    """An instance of `model` from the values of columns(..., model), in that order."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
    names, readers = _readers(model, db)
    converted = []
    for (col, converters), value in zip(readers, values, strict=True):
        for converter in converters:
            value = converter(value, col, db)
        converted.append(value)
    return model.from_db(db.alias, names, converted)


@functools.cache
def _fetch_sql(model: type[Model], names: tuple[str, ...], for_update: bool) -> str:
    where = " AND ".join(f"{column('t', model, name)} = %s" for name in names)
    lock = " FOR UPDATE" if for_update and connection.features.has_select_for_update else ""
    return f"SELECT {columns('t', model)} FROM {table(model)} t WHERE {where}{lock}"


def fetch_one(model: type[Model], *, for_update: bool = False, **equal) -> Model | None:
    """The row of `model` whose fields equal `equal` (a unique key), or None; with
    `for_update`, locked until the transaction ends, as select_for_update() would.
    The hot path's `Model.objects.filter(**equal).first()`, at a fraction of the CPU."""
    names = tuple(equal)
    with connection.cursor() as cursor:
        cursor.execute(_fetch_sql(model, names, for_update), [equal[name] for name in names])
        row = cursor.fetchone()
    return None if row is None else from_row(model, row)
