"""Model fields that store personal data encrypted and return plaintext in Python.

``EncryptedCharField`` / ``EncryptedTextField`` encrypt in ``get_prep_value`` and decrypt in
``from_db_value`` (see :mod:`fieldcollect.privacy.crypto`), so ``customer.mobile`` is the number in
Python and ``fc1$<key id>$...`` in the database. The column is ``text`` whatever ``max_length`` says
(``max_length`` still bounds the plaintext in forms). Encrypted values cannot be compared in SQL: only
``isnull`` look-ups are allowed; exact look-ups go through a :class:`BlindIndexField`.

:func:`reencrypt_rows` walks a model's rows in batches and brings every encrypted column under the
primary key (plaintext rows are encrypted, the blind indexes filled): the data migrations and
``fieldcollect keys rotate`` use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.db import connection as default_connection
from django.db import models, transaction

from fieldcollect.privacy.crypto import MASTER_ENV, KeyRing, is_encrypted, key_id_of, keyring_for

_ALLOWED_LOOKUPS = frozenset({"isnull"})
_cache: dict[tuple[str, str], KeyRing] = {}


def current_keyring() -> KeyRing:
    """The key ring of the current data home (``$FIELDCOLLECT_HOME/keys``)."""
    cache_key = (os.environ.get("FIELDCOLLECT_HOME", ""), os.environ.get(MASTER_ENV, ""))
    ring = _cache.get(cache_key)
    if ring is None:
        from fieldcollect.home import keys_dir

        ring = _cache[cache_key] = keyring_for(keys_dir())
    return ring


class EncryptedMixin:
    """Encrypt on the way into the database, decrypt on the way out."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)  # type: ignore[misc]
        if value is None or value == "":
            return value
        return current_keyring().encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "" or not is_encrypted(value):
            return value  # empty, or a row written before encryption (the data migration encrypts it)
        return current_keyring().decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None  # Django raises FieldError: encrypted values cannot be compared in SQL
        return super().get_lookup(lookup_name)  # type: ignore[misc]


class EncryptedCharField(EncryptedMixin, models.CharField):  # type: ignore[misc]
    pass


class EncryptedTextField(EncryptedMixin, models.TextField):  # type: ignore[misc]
    pass


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """HMAC of another field's normalised plaintext, computed on save, for exact look-up."""

    def __init__(self, *args: Any, source: str = "", kind: str = "exact", **kwargs: Any) -> None:
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for k in ("max_length", "db_index", "editable", "blank", "default"):
            kwargs.pop(k, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = blind_index(getattr(model_instance, self.source) or "", self.kind)
        setattr(model_instance, self.attname, value)
        return value


def blind_index(value: str, kind: str = "exact") -> str:
    return current_keyring().blind_index(value, kind)


def encrypted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]


def index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def _column(model: type[models.Model], name: str) -> str:
    f = model._meta.get_field(name)
    assert isinstance(f, models.Field)
    return str(f.column)


def reencrypt_rows(model: type[models.Model], *, batch_size: int = 2_000, with_index: bool = True,
                   ring: KeyRing | None = None, on_batch: Callable[[int, int], None] | None = None,
                   using: Any = None) -> int:
    """Bring every encrypted column of ``model`` under the primary key; return the rows changed.

    Rows are read and written in pk order, one short transaction per batch, so the application keeps
    serving. Each update only applies if the row still holds what was read (compare and set): a value
    the application wrote meanwhile is already under the primary key and is left alone.
    ``on_batch(rows_seen, rows_changed)`` reports progress.
    """
    conn = using or default_connection
    ring = ring or current_keyring()
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    pk_col = qn(pk.column)
    enc = [str(f.column) for f in encrypted_fields(model)]
    idx = [(f.column, _column(model, f.source), f.kind) for f in index_fields(model)] if with_index else []
    if not enc:
        return 0
    select_cols = ", ".join(qn(c) for c in enc)
    last: Any = None
    changed = 0
    seen = 0
    while True:
        where = f"WHERE {pk_col} > %s " if last is not None else ""
        params: list[Any] = [last] if last is not None else []
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT {pk_col}, {select_cols} FROM {table} {where}ORDER BY {pk_col} LIMIT %s",
                           [*params, batch_size])
            rows = cursor.fetchall()
        if not rows:
            break
        primary = ring.primary_id
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for row in rows:
                key, old = row[0], list(row[1:])
                new = list(old)
                for i, v in enumerate(old):
                    if v and key_id_of(v) != primary:
                        new[i] = ring.reencrypt(v)
                plain_by_col: dict[str, str] = {}
                if idx:
                    for i, col in enumerate(enc):
                        v = old[i]
                        plain_by_col[col] = ring.decrypt(v) if v and is_encrypted(v) else (v or "")
                if new == old and not idx:
                    continue
                sets = [f"{qn(c)} = %s" for c in enc]
                values: list[Any] = list(new)
                for icol, scol, kind in idx:
                    sets.append(f"{qn(icol)} = %s")
                    values.append(ring.blind_index(plain_by_col.get(scol, ""), kind))
                conds = [f"{pk_col} = %s"]
                values.append(key)
                for c, v in zip(enc, old, strict=True):
                    if v is None:
                        conds.append(f"{qn(c)} IS NULL")
                    else:
                        conds.append(f"{qn(c)} = %s")
                        values.append(v)
                cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conds)}", values)
                if new != old:
                    changed += cursor.rowcount
        seen += len(rows)
        last = rows[-1][0]
        if on_batch is not None:
            on_batch(seen, changed)
    return changed


def count_by_key(model: type[models.Model], *, using: Any = None) -> dict[str, int]:
    """How many values of ``model`` each key id encrypts (``plain`` for values not yet encrypted)."""
    conn = using or default_connection
    qn = conn.ops.quote_name
    out: dict[str, int] = {}
    for col in [f.column for f in encrypted_fields(model)]:
        with conn.cursor() as cursor:
            cursor.execute(
                f"SELECT SUBSTR({qn(col)}, 1, 12), COUNT(*) FROM {qn(model._meta.db_table)} "
                f"WHERE {qn(col)} IS NOT NULL AND {qn(col)} <> '' GROUP BY SUBSTR({qn(col)}, 1, 12)"
            )
            for head, n in cursor.fetchall():
                kid = head[4:12] if head.startswith("fc1$") else "plain"
                out[kid] = out.get(kid, 0) + n
    return out


def decrypt_rows(model: type[models.Model], *, batch_size: int = 2_000, using: Any = None) -> int:
    """Write every encrypted column of ``model`` back as plaintext (reversing the data migration)."""
    conn = using or default_connection
    ring = current_keyring()
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    pk_col = qn(pk.column)
    enc = [f.column for f in encrypted_fields(model)]
    if not enc:
        return 0
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT {pk_col}, {', '.join(qn(c) for c in enc)} FROM {table} ORDER BY {pk_col}")
        rows = cursor.fetchall()
    done = 0
    for start in range(0, len(rows), batch_size):
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for row in rows[start:start + batch_size]:
                plain = [ring.decrypt(v) if v and is_encrypted(v) else v for v in row[1:]]
                cursor.execute(f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in enc)} WHERE {pk_col} = %s",
                               [*plain, row[0]])
                done += 1
    return done


def encrypt_rows_operation(app_label: str, *model_names: str) -> Any:
    """The data step of a migration that turns columns into encrypted ones: encrypt the rows already
    stored in ``model_names`` (historical models of ``app_label``), and decrypt them when migrating
    back."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            reencrypt_rows(apps.get_model(app_label, name), using=schema_editor.connection)

    def backward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            decrypt_rows(apps.get_model(app_label, name), using=schema_editor.connection)

    return migrations.RunPython(forward, backward)
