"""The one home of hand-written SQL: the few queries on the hot path of every API request
where building the SQL through the ORM costs several times more than running it, and the
COPY insert of many rows.

One style: table and column names come from the models' own metadata; values read back pass
through the converters the ORM applies (dates, booleans and JSON on SQLite, JSON on
PostgreSQL), so an instance made here is the same as one the ORM would load; every function
returns model instances or a small dataclass, never extra attributes on an instance. Work
that depends only on the model and the database backend (SQL text, converters) is worked out
once per model and backend vendor."""

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Model

M = TypeVar("M", bound=Model)


def _connection(alias: str = DEFAULT_DB_ALIAS):
    return connections[alias]  # this thread's connection, not the proxy


def _quote(name: str, alias: str = DEFAULT_DB_ALIAS) -> str:
    return _connection(alias).ops.quote_name(name)


def table(model: type[Model]) -> str:
    return _quote(model._meta.db_table)


def column(alias: str, model: type[Model], name: str) -> str:
    """`alias.column` of the field `name` (a foreign key's name gives its id column)."""
    return f"{alias}.{_quote(model._meta.get_field(name).column)}"


def columns(alias: str, model: type[Model]) -> str:
    """Every concrete field's column, in the order from_row reads them."""
    return ", ".join(f"{alias}.{_quote(field.column)}" for field in model._meta.concrete_fields)


@functools.lru_cache(maxsize=64)
def _readers(model: type[Model], vendor: str) -> tuple[list[str], list[tuple]]:
    """Per model and backend: the attribute names, and for each column its expression and
    converters (the converters are the backend's, the same for each of its connections)."""
    db = _connection()
    assert db.vendor == vendor
    fields = model._meta.concrete_fields
    readers = []
    for field in fields:
        col = field.get_col(model._meta.db_table)
        readers.append((col, db.ops.get_db_converters(col) + field.get_db_converters(db)))
    return [field.attname for field in fields], readers


def from_row(model: type[M], values: Sequence) -> M:
    """An instance of `model` from the values of columns(..., model), in that order."""
    db = _connection()
    names, readers = _readers(model, db.vendor)
    converted = []
    for (col, converters), value in zip(readers, values, strict=True):
        for converter in converters:
            value = converter(value, col, db)
        converted.append(value)
    return model.from_db(db.alias, names, converted)


def _lock_clause(lock: str) -> str:
    if not lock or not _connection().features.has_select_for_update:
        return ""
    if lock == "share":
        # SQLite has no row locks; PostgreSQL takes a shared row lock.
        return " FOR SHARE"
    return " FOR UPDATE"


@functools.lru_cache(maxsize=128)
def _fetch_sql(model: type[Model], names: tuple[str, ...], lock: str, vendor: str) -> str:
    where = " AND ".join(f"{column('t', model, name)} = %s" for name in names)
    return f"SELECT {columns('t', model)} FROM {table(model)} t WHERE {where}{_lock_clause(lock)}"


def fetch_one(model: type[M], *, for_update: bool = False, **equal) -> M | None:
    """The row of `model` whose fields equal `equal` (a unique key), or None; with
    `for_update`, locked until the transaction ends, as select_for_update() would.
    The hot path's `Model.objects.filter(**equal).first()`, at a fraction of the CPU."""
    names = tuple(equal)
    sql = _fetch_sql(model, names, "update" if for_update else "", _connection().vendor)
    with _connection().cursor() as cursor:
        cursor.execute(sql, [equal[name] for name in names])
        row = cursor.fetchone()
    return None if row is None else from_row(model, row)


@functools.lru_cache(maxsize=32)
def _fetch_related_sql(model: type[Model], related: str, names: tuple[str, ...], lock: str,
                       vendor: str) -> str:
    parent = model._meta.get_field(related).related_model
    where = " AND ".join(f"{column('t', model, name)} = %s" for name in names)
    # Only the row of `model` is locked (PostgreSQL: FOR UPDATE OF t), never its parent.
    lock_clause = f"{_lock_clause(lock)} OF t" if _lock_clause(lock) else ""
    return (f"SELECT {columns('t', model)}, {columns('r', parent)} FROM {table(model)} t "
            f"JOIN {table(parent)} r ON {column('r', parent, parent._meta.pk.name)} = "
            f"{column('t', model, related)} WHERE {where}{lock_clause}")


def fetch_one_related(model: type[M], related: str, *, for_update: bool = False, **equal
                      ) -> M | None:
    """fetch_one with the row that the (non-null) foreign key `related` points to, loaded in
    the same query and cached on the instance as select_related(related) would; with
    `for_update` only the row of `model` is locked."""
    names = tuple(equal)
    sql = _fetch_related_sql(model, related, names, "update" if for_update else "",
                             _connection().vendor)
    with _connection().cursor() as cursor:
        cursor.execute(sql, [equal[name] for name in names])
        row = cursor.fetchone()
    if row is None:
        return None
    field = model._meta.get_field(related)
    width = len(model._meta.concrete_fields)
    instance = from_row(model, row[:width])
    field.set_cached_value(instance, from_row(field.related_model, row[width:]))
    return instance


@functools.lru_cache(maxsize=128)
def _locked_sql(model: type[Model], count: int, lock: str, vendor: str) -> str:
    pk = _quote(model._meta.pk.column)
    placeholders = ", ".join(["%s"] * count)
    return (f"SELECT {columns('t', model)} FROM {table(model)} t "
            f"WHERE t.{pk} IN ({placeholders}) ORDER BY t.{pk}{_lock_clause(lock)}")


def fetch_locked(model: type[M], ids: Iterable[int], *, shared: bool) -> list[M]:
    """The rows of `model` with these ids, in id order, locked until the transaction ends:
    `shared` takes a shared row lock (FOR SHARE) on PostgreSQL, otherwise FOR UPDATE."""
    ids = sorted(set(ids))
    if not ids:
        return []
    sql = _locked_sql(model, len(ids), "share" if shared else "update", _connection().vendor)
    with _connection().cursor() as cursor:
        cursor.execute(sql, ids)
        return [from_row(model, row) for row in cursor.fetchall()]


# --------------------------------------------------------------------------- plans


@contextmanager
def planned_for_values(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Plan every statement run in the block for its own parameter values.

    PostgreSQL plans a prepared statement (psycopg prepares from a statement's fifth run) for
    its values the first five times, then tries a generic plan. For the lists that find a few
    batches by status among years of them that plan is wrong: it guesses that any status holds
    a seventh of the batches and walks all of them by EOS (bench-scale, 150 000 batches: the
    dashboard's batches in work 0.3 -> 115 ms, its conditionally released 0.2 -> 185 ms).
    The block runs in a transaction with plan_cache_mode=force_custom_plan set for that
    transaction only, so the write path keeps its generic plans (planned once per
    connection); inside a caller's transaction the setting lasts until that one ends.
    Elsewhere (SQLite) the block runs as it is, outside any transaction.
    Usable as a decorator: @planned_for_values()."""
    if connections[alias].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


# --------------------------------------------------------------------------- API keys


@dataclass(frozen=True)
class KeyRow:
    """An API key, its instrument, and the id of the system account the instrument acts as
    (None when the account does not exist yet)."""

    key: Model
    instrument: Model
    account_id: int | None


@functools.lru_cache(maxsize=8)
def _key_sql(key_model: type[Model], instrument_model: type[Model], user_model: type[Model],
             vendor: str) -> str:
    # `||` concatenates on both supported databases (PostgreSQL, SQLite).
    return (f"SELECT {columns('k', key_model)}, {columns('i', instrument_model)}, "
            f"{column('u', user_model, 'id')} "
            f"FROM {table(key_model)} k "
            f"JOIN {table(instrument_model)} i "
            f"ON {column('i', instrument_model, 'id')} = {column('k', key_model, 'instrument')} "
            f"LEFT JOIN {table(user_model)} u "
            f"ON {column('u', user_model, 'username')} = "
            f"%s || {column('i', instrument_model, 'serial')} "
            f"WHERE {column('k', key_model, 'key_hash')} = %s "
            f"AND {column('k', key_model, 'revoked_at')} IS NULL")


def fetch_active_key(*, key_model: type[Model], instrument_model: type[Model],
                     user_model: type[Model], key_hash: str, account_prefix: str
                     ) -> KeyRow | None:
    """The unrevoked key with this hash, with its instrument and the id of the user named
    `account_prefix` + the instrument's serial: one query instead of three."""
    sql = _key_sql(key_model, instrument_model, user_model, _connection().vendor)
    with _connection().cursor() as cursor:
        cursor.execute(sql, [account_prefix, key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(key_model._meta.concrete_fields)
    key = from_row(key_model, row[:width])
    instrument = from_row(instrument_model, row[width:-1])
    return KeyRow(key=key, instrument=instrument, account_id=row[-1])


# --------------------------------------------------------------------------- hash chain


@dataclass(frozen=True)
class ChainLink:
    """Where insert_chained put an event: its id and the two hashes that link it."""

    id: int
    prev_hash: str
    hash: str


def _param_type(field, connection) -> str:
    # Text goes in as text, so an over-long value is refused by the column's varchar(n)
    # (a cast to varchar(n) would cut it silently); the rest as the column's own type.
    if field.get_internal_type() in ("CharField", "TextField"):
        return "text"
    return field.db_type(connection)


@functools.lru_cache(maxsize=8)
def _chain_sql(event_model: type[Model], head_model: type[Model], vendor: str
               ) -> tuple[str, tuple[str, ...]]:
    db = _connection()
    fields = [f for f in event_model._meta.concrete_fields
              if not f.primary_key and f.name not in ("prev_hash", "hash")]
    values = ", ".join(f"%s::{_param_type(f, db)}" for f in fields)
    names = ", ".join(_quote(f.column) for f in fields)
    head, pk = table(head_model), _quote(head_model._meta.pk.column)
    last, count = _quote("last_hash"), _quote("count")
    event_pk = _quote(event_model._meta.pk.column)
    prev_col, hash_col = _quote("prev_hash"), _quote("hash")
    sql = (f"WITH moved AS (UPDATE {head} h SET {last} = encode(sha256(convert_to("
           f"old.{last} || %s, 'UTF8')), 'hex'), {count} = h.{count} + 1 "
           f"FROM (SELECT {pk}, {last} FROM {head} WHERE {pk} = %s FOR UPDATE) old "
           f"WHERE h.{pk} = old.{pk} RETURNING old.{last} AS prev, h.{last} AS hash) "
           f"INSERT INTO {table(event_model)} ({names}, {prev_col}, {hash_col}) "
           f"SELECT {values}, moved.prev, moved.hash FROM moved "
           f"RETURNING {event_pk}, {prev_col}, {hash_col}")
    return sql, tuple(f.name for f in fields)


def insert_chained(event: Model, content: str, *, head_model: type[Model], head_id: int
                   ) -> ChainLink | None:
    """Append the new row `event` to a hash chain in one statement: lock the chain's head (row
    `head_id` of `head_model`, with last_hash and count), hash the head's last_hash followed
    by `content` (SHA-256 of the UTF-8 text, as hex: qc.canonical.sha256_hex, computed by
    PostgreSQL), move the head on and insert `event` with prev_hash and hash. The head stays
    locked until the transaction ends. None, with nothing written, when the database is not
    PostgreSQL or the head row does not exist: the caller chains the event itself."""
    db = _connection()
    if db.vendor != "postgresql":
        return None
    model = type(event)
    sql, names = _chain_sql(model, head_model, db.vendor)
    params: list = [content, head_id]
    for name in names:
        field = model._meta.get_field(name)
        params.append(field.get_db_prep_save(field.pre_save(event, True), db))
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    event.pk, event.prev_hash, event.hash = row
    event._state.adding = False
    event._state.db = db.alias
    return ChainLink(id=row[0], prev_hash=row[1], hash=row[2])


# --------------------------------------------------------------------------- COPY


# Types whose attribute value psycopg writes as it is (COPY sends text, which PostgreSQL parses
# by the column's type); the others (JSON, times set on save, ...) go through the field.
PLAIN_TYPES = {"AutoField", "BigAutoField", "CharField", "TextField", "FloatField",
               "IntegerField", "BigIntegerField", "PositiveIntegerField",
               "PositiveBigIntegerField", "BooleanField", "ForeignKey", "OneToOneField"}


def _is_plain(field) -> bool:
    if field.get_internal_type() == "DateTimeField":
        return not (field.auto_now or field.auto_now_add)
    return field.get_internal_type() in PLAIN_TYPES


def bulk_insert(model: type[M], objs: Sequence[M]) -> Sequence[M]:
    """Insert many new rows of one model at once, setting their ids in list order.

    On PostgreSQL through COPY, with ids drawn from the table's sequence first: an order of
    magnitude less work per row than an INSERT of many rows, where psycopg quotes every value
    (every JSON document) in Python. Elsewhere through bulk_create. Like bulk_create it sends
    no signals and calls no save(); unlike it, the ids always come back, in the order of
    `objs`."""
    if not objs:
        return objs
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql" or len(objs) == 1:
        model._base_manager.using(using).bulk_create(objs)
        return objs
    meta = model._meta
    pk = meta.pk
    fields = list(meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)", [meta.db_table, pk.column, len(objs)])
        # Ascending, so that the order by id is the order of `objs`.
        ids = sorted(row[0] for row in cursor.fetchall())
        for obj, pk_value in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, pk_value)
        names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        target = connection.ops.quote_name(meta.db_table)
        plain = [_is_plain(field) for field in fields]
        with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([
                    getattr(obj, field.attname) if is_plain
                    else field.get_db_prep_save(field.pre_save(obj, True), connection)
                    for field, is_plain in zip(fields, plain, strict=True)])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs
