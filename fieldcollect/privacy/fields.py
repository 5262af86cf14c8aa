"""Model fields that store personal data encrypted and return plaintext in Python.

``EncryptedCharField`` / ``EncryptedTextField`` encrypt when a row is saved and decrypt when it is
loaded (see :mod:`fieldcollect.privacy.crypto`), so ``customer.mobile`` is the number in Python and
``fc2$<key id>$...`` in the database. The column is ``text`` whatever ``max_length`` says
(``max_length`` still bounds the plaintext in forms). Encrypted values cannot be compared in SQL: only
``isnull`` look-ups are allowed; exact look-ups go through a :class:`BlindIndexField`.

Row binding
    Every value is bound (AES-GCM associated data) to its table, column and row, so a ciphertext copied
    into another row, column or table does not decrypt (:class:`~fieldcollect.privacy.crypto.Binding`).
    The row is named by ``row_binding``, a random 128-bit id set when the row is created and never
    changed: a model with encrypted fields derives from :class:`EncryptedModel`, which adds that column
    and decrypts the loaded values in ``from_db`` (where the whole row is known; a field's
    ``from_db_value`` only sees its own column and hands over a :class:`Sealed` value). Values are
    encrypted in the field's ``pre_save``, which sees the instance, so ``save()``, ``create()`` and
    ``bulk_create()`` bind them; ``QuerySet.update()`` and ``bulk_update()`` cannot and are refused for
    encrypted fields (save the instance instead). ``.values()``/``.values_list()`` of an encrypted column
    give :class:`Sealed` values: open them with :func:`open_values` (the row binding selected beside).
    Values in the earlier unbound ``fc1`` format still decrypt; the data migrations rewrite them bound.

:func:`reencrypt_rows` walks a model's rows in batches and brings every encrypted column under the
primary key, bound to its row (plaintext rows are encrypted, unbound values rewritten, missing row
bindings assigned, the blind indexes filled): the data migrations and ``fieldcollect keys rotate`` use
it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import connection as default_connection
from django.db import models, transaction
from django.db.models.signals import pre_save

from fieldcollect.home import keys_dir
from fieldcollect.privacy.crypto import (
    MASTER_ENV,
    Binding,
    CryptoError,
    KeyRing,
    is_bound,
    is_encrypted,
    keyring_for,
)

ROW_BINDING = "row_binding"
_ALLOWED_LOOKUPS = frozenset({"isnull"})
_cache: dict[tuple[str, str], KeyRing] = {}


def current_keyring() -> KeyRing:
    """The key ring of the current data home (``$FIELDCOLLECT_HOME/keys``)."""
    cache_key = (os.environ.get("FIELDCOLLECT_HOME", ""), os.environ.get(MASTER_ENV, ""))
    ring = _cache.get(cache_key)
    if ring is None:
        ring = _cache[cache_key] = keyring_for(keys_dir())
    return ring


def new_row_binding() -> str:
    """A fresh row binding: 128 random bits, hex."""
    return secrets.token_hex(16)


class Sealed:
    """A bound ciphertext as loaded from one column, before its row's binding opened it. It is not a
    string on purpose: a value nobody opened fails loudly instead of showing ``fc2$...``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<Sealed>"

    def __str__(self) -> str:
        raise CryptoError("an encrypted value was read without its row binding "
                          "(load the model instance, or open .values() rows with open_values)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


class Ciphertext(str):
    """A value ``pre_save`` already encrypted and bound: ``get_prep_value`` passes it through."""

    __slots__ = ()


def binding_for(instance: models.Model, field: models.Field[Any, Any]) -> Binding | None:
    """The binding of ``field`` in ``instance``'s row; ``None`` when the model has no row binding (a
    historical model in a data migration before the column existed)."""
    if not hasattr(type(instance), ROW_BINDING):
        return None
    row = instance.__dict__.get(ROW_BINDING)
    if row is None:  # deferred: read it (one query; select it beside the encrypted fields instead)
        row = getattr(instance, ROW_BINDING)
    if not row:
        raise CryptoError(f"{type(instance).__name__} {instance.pk}: the row has no binding id")
    return Binding(type(instance)._meta.db_table, str(field.column), str(row))


class EncryptedMixin:
    """Encrypt (bound to the row) on the way into the database, decrypt on the way out."""

    def get_internal_type(self) -> str:
        return "TextField"

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)  # type: ignore[misc]
        if value is None or value == "":
            return value
        return Ciphertext(current_keyring().encrypt(str(value), binding_for(model_instance, self)))  # type: ignore[arg-type]

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)  # type: ignore[misc]
        if value is None or value == "" or isinstance(value, Ciphertext):
            return value
        if is_encrypted(value):
            return value  # stored as it was read (loaddata of a dump, whose rows keep their binding)
        raise CryptoError(
            f"{self}: an encrypted value is bound to its row and can only be written by saving the instance "  # type: ignore[attr-defined]
            "(save(), create(), bulk_create()), not by QuerySet.update() or bulk_update()")

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "" or not is_encrypted(value):
            return value  # empty, or a row written before encryption (the data migration encrypts it)
        if is_bound(value):
            return Sealed(value)  # the model's from_db opens it with the row binding
        return current_keyring().decrypt(value)  # unbound (fc1): written before the row binding

    def value_to_string(self, obj: models.Model) -> str:
        """Serialised (``dumpdata``) as ciphertext bound to the row, never in clear; ``loaddata`` writes
        it back as it is, beside the row's binding."""
        value = self.value_from_object(obj)  # type: ignore[attr-defined]
        if value is None or value == "":
            return value  # type: ignore[no-any-return]
        return current_keyring().encrypt(str(value), binding_for(obj, self))  # type: ignore[arg-type]

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None  # Django raises FieldError: encrypted values cannot be compared in SQL
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = list(super().check(**kwargs))  # type: ignore[misc]
        model = getattr(self, "model", None)
        if model is not None and not model._meta.abstract and not issubclass(model, EncryptedModel):
            errors.append(checks.Error(f"{model.__name__} has an encrypted field but does not derive from "
                                       "EncryptedModel (no row binding)", obj=self, id="privacy.E001"))
        return errors


class RowBindingField(models.CharField):  # type: ignore[type-arg]
    """The row's binding id for its encrypted values: random, set on creation, never changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", new_row_binding)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        kwargs.pop("editable", None)
        if kwargs.get("default") is new_row_binding:
            kwargs.pop("default")
        return name, path, args, kwargs


def _sealed_plan(model: type[models.Model]) -> list[tuple[str, str]]:
    plan = model.__dict__.get("_fc_sealed_plan")
    if plan is None:
        plan = [(f.attname, str(f.column)) for f in encrypted_fields(model)]
        model._fc_sealed_plan = plan  # type: ignore[attr-defined]
    return plan  # type: ignore[no-any-return]


def open_sealed(instance: models.Model) -> None:
    """Decrypt the :class:`Sealed` values loaded into ``instance`` with its row binding."""
    values = instance.__dict__
    model = type(instance)
    sealed = [(attname, column) for attname, column in _sealed_plan(model)
              if isinstance(values.get(attname), Sealed)]
    if not sealed:
        return
    row = values.get(ROW_BINDING)
    if row is None:  # not selected (only(), refresh_from_db(fields=...)): one query for it
        row = values[ROW_BINDING] = (model._base_manager.db_manager(instance._state.db)
                                     .filter(pk=instance.pk).values_list(ROW_BINDING, flat=True).get())
    ring = current_keyring()
    table = model._meta.db_table
    for attname, column in sealed:
        try:
            values[attname] = ring.decrypt(values[attname].value, Binding(table, column, str(row)))
        except CryptoError as exc:
            raise CryptoError(f"{model.__name__} {instance.pk}, {table}.{column}: {exc}") from exc


class EncryptedModel(models.Model):
    """Base of every model with encrypted fields: the row binding, and decryption when a row loads."""

    row_binding = RowBindingField()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        open_sealed(instance)
        return instance


def open_value(model: type[models.Model], name: str, value: Any, row_binding: str) -> Any:
    """``value`` of the encrypted field ``name`` of ``model`` as read by ``.values()``/``.values_list()``
    (a :class:`Sealed` value), decrypted with its row's binding (select ``row_binding``, or
    ``<relation>__row_binding`` for a related model's field, beside it). Other values pass unchanged."""
    if not isinstance(value, Sealed):
        return value
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return current_keyring().decrypt(value.value, Binding(model._meta.db_table, str(field.column), str(row_binding)))


def open_values(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``.values()`` rows of ``model`` with its encrypted fields decrypted; each row must carry
    ``row_binding`` (select it beside the encrypted fields)."""
    return [{key: open_value(model, key, value, row[ROW_BINDING]) if isinstance(value, Sealed) else value
             for key, value in row.items()} for row in rows]


def _seal_raw_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    """A raw save (``loaddata``) skips the fields' ``pre_save``: a dump written before values were
    serialised as ciphertext carries them in clear (and no row binding: the row gets a new one), so
    encrypt them bound here. Values already encrypted are stored as they are."""
    if not raw or not isinstance(instance, EncryptedModel):
        return
    ring = current_keyring()
    for field in encrypted_fields(type(instance)):
        value = instance.__dict__.get(field.attname)
        if value and not is_encrypted(value):
            instance.__dict__[field.attname] = Ciphertext(ring.encrypt(str(value), binding_for(instance, field)))


pre_save.connect(_seal_raw_save, dispatch_uid="fieldcollect.privacy.seal_raw_save")


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


def _binding_column(model: type[models.Model]) -> str | None:
    try:
        f = model._meta.get_field(ROW_BINDING)
    except FieldDoesNotExist:  # a historical model, before the column was added
        return None
    return str(f.column)  # type: ignore[union-attr]


def _encrypted_table(
        model: type[models.Model], conn: Any) -> tuple[Callable[[str], str], str, str, str, list[str], str | None, list[str]]:
    """How the bulk rewrites name ``model``'s table on ``conn`` (names from ``_meta``): the quoting function,
    the table's name and quoted name, the quoted primary key column, the encrypted columns, the row binding
    column (None without one) and the columns a row is read with (the binding first)."""
    qn = conn.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    enc = [str(f.column) for f in encrypted_fields(model)]
    bcol = _binding_column(model)
    return qn, model._meta.db_table, qn(model._meta.db_table), qn(pk.column), enc, bcol, ([bcol] if bcol else []) + enc


def reencrypt_rows(model: type[models.Model], *, batch_size: int = 2_000, with_index: bool = True,
                   ring: KeyRing | None = None, on_batch: Callable[[int, int], None] | None = None,
                   using: Any = None, bind: bool = True) -> int:
    """Bring every encrypted column of ``model`` under the primary key, bound to its row; return the
    rows changed.

    Rows without a row binding get a fresh one. ``bind=False`` writes the unbound ``fc1`` format (the
    reverse of the data migration that added the binding); so does a historical model that has no
    binding column yet. Rows are read and written in pk order, one short transaction per batch, so the
    application keeps serving. Each update only applies if the row still holds what was read (compare
    and set): a value the application wrote meanwhile is already current and is left alone.
    ``on_batch(rows_seen, rows_changed)`` reports progress.
    """
    conn = using or default_connection
    ring = ring or current_keyring()
    qn, table_name, table, pk_col, enc, bcol, read_cols = _encrypted_table(model, conn)
    idx = [(f.column, _column(model, f.source), f.kind) for f in index_fields(model)] if with_index else []
    if not enc:
        return 0
    select_cols = ", ".join(qn(c) for c in read_cols)
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
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for row in rows:
                key = row[0]
                old_row = row[1] if bcol else None
                old = list(row[2:] if bcol else row[1:])
                row_id = old_row or (new_row_binding() if bcol else None)
                read_as = [Binding(table_name, c, str(old_row)) if old_row else None for c in enc]
                write_as = [Binding(table_name, c, str(row_id)) if bind and row_id else None for c in enc]
                new = list(old)
                for i, v in enumerate(old):
                    if not v:
                        continue
                    if not is_encrypted(v):
                        new[i] = ring.encrypt(v, write_as[i])
                    elif not (read_as[i] == write_as[i] and ring.is_current(v, write_as[i])):
                        new[i] = ring.encrypt(ring.decrypt(v, read_as[i]), write_as[i])
                plain_by_col: dict[str, str] = {}
                if idx:
                    for i, col in enumerate(enc):
                        v = old[i]
                        plain_by_col[col] = ring.decrypt(v, read_as[i]) if v and is_encrypted(v) else (v or "")
                new_binding = bcol is not None and row_id != old_row
                if new == old and not idx and not new_binding:
                    continue
                sets = [f"{qn(c)} = %s" for c in enc]
                values: list[Any] = list(new)
                if new_binding:
                    sets.append(f"{qn(bcol)} = %s")  # type: ignore[arg-type]
                    values.append(row_id)
                for icol, scol, kind in idx:
                    sets.append(f"{qn(icol)} = %s")
                    values.append(ring.blind_index(plain_by_col.get(scol, ""), kind))
                conds = [f"{pk_col} = %s"]
                values.append(key)
                for c, v in zip(read_cols, [old_row, *old] if bcol else old, strict=True):
                    if v is None:
                        conds.append(f"{qn(c)} IS NULL")
                    else:
                        conds.append(f"{qn(c)} = %s")
                        values.append(v)
                cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conds)}", values)
                if new != old or new_binding:
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
                kid = head[4:12] if head[:4] in ("fc1$", "fc2$") else "plain"
                out[kid] = out.get(kid, 0) + n
    return out


def count_unbound(model: type[models.Model], *, using: Any = None) -> int:
    """How many values of ``model`` are still in the unbound ``fc1`` format or in clear."""
    conn = using or default_connection
    qn = conn.ops.quote_name
    n = 0
    for col in [f.column for f in encrypted_fields(model)]:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {qn(model._meta.db_table)} WHERE {qn(col)} IS NOT NULL "
                           f"AND {qn(col)} <> '' AND SUBSTR({qn(col)}, 1, 4) <> 'fc2$'")
            n += cursor.fetchone()[0]
    return n


def decrypt_rows(model: type[models.Model], *, batch_size: int = 2_000, using: Any = None) -> int:
    """Write every encrypted column of ``model`` back as plaintext (reversing the data migration)."""
    conn = using or default_connection
    ring = current_keyring()
    qn, table_name, table, pk_col, enc, bcol, read_cols = _encrypted_table(model, conn)
    if not enc:
        return 0
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT {pk_col}, {', '.join(qn(c) for c in read_cols)} FROM {table} ORDER BY {pk_col}")
        rows = cursor.fetchall()
    done = 0
    for start in range(0, len(rows), batch_size):
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for row in rows[start:start + batch_size]:
                row_id = row[1] if bcol else None
                old = row[2:] if bcol else row[1:]
                plain = [ring.decrypt(v, Binding(table_name, c, str(row_id)) if row_id else None)
                         if v and is_encrypted(v) else v for c, v in zip(enc, old, strict=True)]
                cursor.execute(f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in enc)} WHERE {pk_col} = %s",
                               [*plain, row[0]])
                done += 1
    return done


def encrypt_rows_operation(app_label: str, *model_names: str, bind: bool = False) -> Any:
    """The data step of a migration that turns columns into encrypted ones: encrypt the rows already
    stored in ``model_names`` (historical models of ``app_label``), and decrypt them when migrating
    back. ``bind=True``: the step of the migration that added the row binding, which binds every
    value to its row (and assigns the bindings); migrating back rewrites them unbound (``fc1``)."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            reencrypt_rows(apps.get_model(app_label, name), using=schema_editor.connection)

    def backward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            if bind:
                reencrypt_rows(apps.get_model(app_label, name), using=schema_editor.connection, bind=False)
            else:
                decrypt_rows(apps.get_model(app_label, name), using=schema_editor.connection)

    return migrations.RunPython(forward, backward)


def bind_rows_operations(app_label: str, *model_names: str) -> list[Any]:
    """The operations of a migration that binds every encrypted value of ``model_names`` to its table,
    column and row (issue 17): a ``row_binding`` column per model (a random id per row, assigned here to
    the existing rows), then every value rewritten in the bound ``fc2`` format under the primary key
    (``reencrypt_rows``). Migrating back rewrites the values unbound (``fc1``) before the columns are
    dropped."""
    from django.db import migrations

    add_columns = [
        migrations.AddField(
            model_name=name.lower(), name="row_binding", field=RowBindingField(default=""), preserve_default=False
        )
        for name in model_names
    ]
    return [*add_columns, encrypt_rows_operation(app_label, *model_names, bind=True)]
