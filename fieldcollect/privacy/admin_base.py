"""Base classes of every Django admin page: read-only with personal data masked, or audited changes.

The admin is a back door around the services: anything it writes skips their rules and audit rows,
and anything it shows skips the masking. So:

* :class:`ReadOnlyAdmin` / :class:`ReadOnlyInline`: no add, change or delete; every encrypted column
  is shown masked (:func:`fieldcollect.privacy.masking.mask_stored`, never decrypted on the page),
  coordinates, link token hashes and document bodies are not shown at all. Clear values are read
  through the application's pages, which audit them as ``pii.unmask``.
* :class:`AuditedAdmin`: changes of the few settings the bank edits here (authority levels, approver
  grants, a collector's login) write an audit row with old and new values in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.privacy.fields import encrypted_fields
from fieldcollect.privacy.masking import mask_stored

# personal or secret without being encrypted: homes and positions, token hashes, signed documents
HIDDEN_FIELDS = frozenset({"lat", "lon", "base_lat", "base_lon", "geojson", "token_hash", "nonce", "link_nonce", "link_token_hash",
                           "digest", "pdf"})
MASKED_PREFIX = "masked_"


def _masked(field: models.Field[Any, Any]) -> Callable[[models.Model], str]:
    def show(obj: models.Model) -> str:
        return mask_stored(field.name, getattr(obj, field.attname) or "")

    show.short_description = format_lazy("{} ({})", field.verbose_name, gettext_lazy("masked"))  # type: ignore[attr-defined]
    return show


class _MaskedFields:
    """Encrypted columns replaced by their masked display; hidden columns left out."""

    model: type[models.Model]

    def _setup_masking(self) -> None:
        self._encrypted = [f.name for f in encrypted_fields(self.model)]
        self._hidden = [f.name for f in self.model._meta.concrete_fields if f.name in HIDDEN_FIELDS]
        clear = {*self._encrypted, *self._hidden}
        for name in [*getattr(self, "search_fields", ()), *getattr(self, "list_display", ())]:
            if isinstance(name, str) and name.split("__")[0] in clear:
                raise ImproperlyConfigured(f"{type(self).__name__}: {name} is personal data, not for the admin")
        for f in encrypted_fields(self.model):
            setattr(self, MASKED_PREFIX + f.name, _masked(f))

    def get_exclude(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        return [*(super().get_exclude(request, obj) or ()), *self._encrypted, *self._hidden]  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        declared = [n for n in super().get_readonly_fields(request, obj) if n not in self._hidden]  # type: ignore[misc]
        return [*declared, *(MASKED_PREFIX + n for n in self._encrypted)]


class ReadOnlyAdmin(_MaskedFields, admin.ModelAdmin):  # type: ignore[type-arg]
    """Records written by the audited services only: the admin shows them, masked."""

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self._setup_masking()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyInline(_MaskedFields, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0

    def __init__(self, parent_model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(parent_model, admin_site)
        self._setup_masking()

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class AuditedAdmin(ReadOnlyAdmin):
    """Only ``audit_fields`` are edited here; each change (and add or delete, where allowed) writes an
    audit row ``<app>.<model>.<change|add|delete>`` with old and new values in the same transaction."""

    audit_fields: Sequence[str] = ()
    allow_add = True
    allow_delete = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.allow_add and admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.allow_delete and admin.ModelAdmin.has_delete_permission(self, request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        editable = set(self.audit_fields)
        rest = [f.name for f in self.model._meta.concrete_fields
                if f.editable and not isinstance(f, models.AutoField) and f.name not in editable
                and f.name not in self._encrypted and f.name not in self._hidden]
        return [*super().get_readonly_fields(request, obj), *rest]

    def _action(self, obj: models.Model, verb: str) -> str:
        return f"{obj._meta.app_label}.{type(obj).__name__.lower()}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = list(self.audit_fields)
        old = snapshot(type(obj).objects.get(pk=obj.pk), fields) if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(actor=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                      action=self._action(obj, "change" if change else "add"),
                      object_type=type(obj).__name__.lower(), object_id=obj.pk, old=old,
                      new=snapshot(obj, fields))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            old = snapshot(obj, list(self.audit_fields))
            pk = obj.pk
            super().delete_model(request, obj)
            audit_log(actor=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                      action=self._action(obj, "delete"), object_type=type(obj).__name__.lower(), object_id=pk,
                      old=old)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:  # the "delete selected" action: one audited delete per row
            self.delete_model(request, obj)
