"""Model instances from hand-written SQL, for the few hot paths where compiling an ORM query costs
more than running it (the API's token check, the contact's case lock, the compliance ledger).

The SQL names its columns from the models' metadata (:func:`select_list`), and rows become real
model instances through :meth:`Model.from_db` after each field's database converters (decryption
of encrypted fields, JSON), exactly as the ORM would build them; :func:`insert` and :func:`update` write rows from statements built once
per model.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import DatabaseError, connections, models

M = TypeVar("M", bound=models.Model)


def fields_of(model: type[models.Model], names: Sequence[str] | None = None) -> list[models.Field]:
    """The concrete fields ``names`` (attribute or field names) of ``model``, all when ``None``, in the
    model's order (the order :meth:`Model.from_db` expects)."""
    concrete = list(model._meta.concrete_fields)
    if names is None:
        return concrete
    wanted = set(names)
    found = [f for f in concrete if f.name in wanted or f.attname in wanted]
    if len(found) != len(wanted):
        raise ValueError(f"{model.__name__} has no concrete field(s) among {sorted(wanted)}")
    return found


def select_list(fields: Sequence[models.Field], alias: str) -> str:
    """``alias."col1", alias."col2", ...`` for a SELECT."""
    return ", ".join(f'{alias}."{f.column}"' for f in fields)


def field(model: type[models.Model], name: str) -> models.Field:
    """The concrete field ``name`` (attribute or field name; ``"pk"`` for the primary key) of ``model``."""
    meta = model._meta
    if name == "pk":
        return meta.pk  # type: ignore[return-value]
    for f in meta.concrete_fields:
        if name in (f.name, f.attname):
            return f
    raise ValueError(f"{model.__name__} has no concrete field {name!r}")


def column(model: type[models.Model], name: str, alias: str | None = None) -> str:
    """The column of :func:`field` ``name`` of ``model``, quoted, as ``alias."col"`` (or ``"col"``
    without ``alias``): WHERE clauses, joins and SET lists name their columns from the model's
    metadata, as :func:`select_list` does."""
    quoted = f'"{field(model, name).column}"'
    return f"{alias}.{quoted}" if alias else quoted


def adapt(params: Sequence[Any], *, using: str = "default") -> list[Any]:
    """``params`` as the ORM would send them: datetimes and dates through the backend's adapters (on
    SQLite an aware datetime in another zone than UTC would otherwise be compared as text with its
    offset, and miss rows the ORM finds)."""
    ops = connections[using].ops
    out: list[Any] = []
    for value in params:
        if isinstance(value, datetime.datetime):
            value = ops.adapt_datetimefield_value(value)
        elif isinstance(value, datetime.date):
            value = ops.adapt_datefield_value(value)
        out.append(value)
    return out


def table(model: type[models.Model]) -> str:
    """The quoted table name of ``model``."""
    return f'"{model._meta.db_table}"'


class RowBuilder:
    """Turns a slice of a result row into an instance of ``model`` with ``fields`` loaded (the others
    deferred, as with ``.only()``)."""

    def __init__(self, model: type[M], fields: Sequence[models.Field], using: str = "default") -> None:
        self.model = model
        self.using = using
        self.attnames = [f.attname for f in fields]
        self.width = len(fields)
        conn = connections[using]
        self.converters: list[tuple[int, list[Callable[..., Any]], Any]] = []
        for i, f in enumerate(fields):
            col = f.get_col(f.model._meta.db_table)
            convs = list(conn.ops.get_db_converters(col)) + list(f.get_db_converters(conn))  # type: ignore[attr-defined]
            if convs:
                self.converters.append((i, convs, col))

    def build(self, row: Sequence[Any], start: int = 0) -> Any:
        values = list(row[start:start + self.width])
        if self.converters:
            conn = connections[self.using]
            for i, convs, col in self.converters:
                for conv in convs:
                    values[i] = conv(values[i], col, conn)
        return self.model.from_db(self.using, self.attnames, values)


class Statement(NamedTuple):
    """One SQL statement and its parameters; ``what`` names the row it changes, for errors."""

    sql: str
    params: list[Any]
    what: str


def _one_row(statement: Statement, changed: int) -> None:
    if changed != 1:
        raise DatabaseError(f"{statement.what}: the update changed {changed} rows, not 1")


@functools.cache
def _insert_plan(model: type[models.Model], using: str) -> tuple[str, list[models.Field], models.Field | None, bool]:
    meta = model._meta
    conn = connections[using]
    pk = meta.pk
    auto_pk = pk if isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField) else None
    fields = [f for f in meta.concrete_fields if f is not auto_pk]
    sql = (f'INSERT INTO "{meta.db_table}" ({", ".join(conn.ops.quote_name(f.column) for f in fields)}) '
           f'VALUES ({", ".join(["%s"] * len(fields))})')
    returning = auto_pk is not None and conn.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {conn.ops.quote_name(auto_pk.column)}"  # type: ignore[union-attr]
    return sql, fields, auto_pk, returning


def insert(obj: models.Model, *, using: str = "default", along: Sequence[Statement] = ()) -> None:
    """Insert a new ``obj`` as ``obj.save(force_insert=True)`` would (each field's ``pre_save`` and
    ``get_db_prep_save``: defaults, ``auto_now_add``, encryption), from an INSERT built once per
    model. No model signals are sent: use it only for models nothing listens to.

    ``along``: UPDATE statements (from :func:`update_statement`, or written out) that must each change
    exactly one row, run first. On PostgreSQL they travel in the same statement as the INSERT
    (data-modifying ``WITH``), which saves a round trip per statement on hot paths; elsewhere they
    run one after the other."""
    sql, fields, auto_pk, returning = _insert_plan(type(obj), using)
    conn = connections[using]
    values = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    together = bool(along) and returning and conn.vendor == "postgresql"
    with conn.cursor() as cursor:
        if together:
            ctes = ", ".join(f"_along{i} AS ({st.sql} RETURNING 1)" for i, st in enumerate(along))
            counts = ", ".join(f"(SELECT count(*) FROM _along{i})" for i in range(len(along)))
            cursor.execute(f"WITH {ctes} {sql}, {counts}", [p for st in along for p in st.params] + values)
            row = cursor.fetchone()
            for st, changed in zip(along, row[1:], strict=True):
                _one_row(st, changed)
            setattr(obj, auto_pk.attname, row[0])  # type: ignore[union-attr]
        else:
            for st in along:
                cursor.execute(st.sql, st.params)
                _one_row(st, cursor.rowcount)
            cursor.execute(sql, values)
            if auto_pk is not None:
                new_pk = (cursor.fetchone()[0] if returning
                          else conn.ops.last_insert_id(cursor, type(obj)._meta.db_table, auto_pk.column))
                setattr(obj, auto_pk.attname, new_pk)
    obj._state.adding = False
    obj._state.db = using


@functools.cache
def _update_plan(model: type[models.Model], names: tuple[str, ...], using: str) -> tuple[str, list[models.Field]]:
    conn = connections[using]
    fields = fields_of(model, names)
    sets = ", ".join(f"{conn.ops.quote_name(f.column)} = %s" for f in fields)
    return (f'UPDATE "{model._meta.db_table}" SET {sets} WHERE {conn.ops.quote_name(model._meta.pk.column)} = %s',
            fields)


def update_statement(obj: models.Model, fields: Sequence[str], *, using: str = "default") -> Statement:
    """The UPDATE that writes ``fields`` of a stored ``obj`` as ``obj.save(update_fields=fields)`` would
    (``auto_now`` included), from a statement built once per model and field list."""
    sql, plan = _update_plan(type(obj), tuple(fields), using)
    conn = connections[using]
    values = [f.get_db_prep_save(f.pre_save(obj, False), conn) for f in plan]
    return Statement(sql, [*values, obj.pk], f"{type(obj).__name__} {obj.pk}")


def update(obj: models.Model, fields: Sequence[str], *, using: str = "default") -> None:
    """Run :func:`update_statement` (no signals, see :func:`insert`); it must change one row."""
    statement = update_statement(obj, fields, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        _one_row(statement, cursor.rowcount)


def copy_rows(table_sql: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, using: str = "default",
              chunk: int = 5_000) -> int:
    """Append ``rows`` (values in the order of ``columns``, already as stored: ciphertexts, fen) to the
    table ``table_sql`` (quoted, e.g. :func:`table`, or a temporary table's name); returns how many.

    On PostgreSQL one ``COPY ... FROM STDIN`` (a bulk path: one round trip and no per-row statement,
    tens of times faster than one INSERT per row for the nightly cycle's tens of thousands of rows);
    elsewhere ``INSERT`` through ``executemany`` in slices of ``chunk``. The rows land the same either
    way (``core/tests/test_rawsql.py``). Triggers and constraints apply as for an INSERT."""
    conn = connections[using]
    cols = ", ".join(conn.ops.quote_name(c) for c in columns)
    n = 0
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.copy(f"COPY {table_sql} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        sql = f"INSERT INTO {table_sql} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(adapt(row, using=using))
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n
