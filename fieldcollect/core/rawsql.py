"""Model instances from hand-written SQL, for the few hot paths where compiling an ORM query costs
more than running it (the API's token check, the contact's case lock, the compliance ledger).

The SQL names its columns from the models' metadata (:func:`select_list`), and rows become real
model instances through :meth:`Model.from_db` after each field's database converters (decryption
of encrypted fields, JSON), exactly as the ORM would build them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections, models

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
            convs = list(conn.ops.get_db_converters(col)) + list(f.get_db_converters(conn))
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
