from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from fieldcollect.accounts.models import ApiToken
from fieldcollect.audit.services import audit_log
from fieldcollect.core.models import User
from fieldcollect.privacy.admin_base import ReadOnlyAdmin

TRACKED = ("role", "agency_id", "is_active", "is_staff", "is_superuser")


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin has no login of its own: it goes through the app's login (throttling, second factor)."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next", "/admin/"), settings.LOGIN_URL)


admin.site.login = _admin_login  # type: ignore[method-assign]


@admin.register(User)
class FieldcollectUserAdmin(UserAdmin):
    list_display = ("username", "role", "agency", "is_active")
    list_filter = ("role", "agency")
    fieldsets = (*UserAdmin.fieldsets, ("Fieldcollect", {"fields": ("role", "agency")}))  # type: ignore[misc]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """Role and permission changes made here are audited like those made by the services."""
        before = User.objects.filter(pk=obj.pk).values(*TRACKED).first() if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = {k: getattr(obj, k) for k in TRACKED}
            if before is None:
                audit_log(actor=request.user, action="user.create", object_type="user", object_id=obj.pk,
                          new={"username": obj.username, **after, "via": "admin"})
            elif before != after:
                audit_log(actor=request.user, action="user.permissions_change", object_type="user",
                          object_id=obj.pk, old={k: before[k] for k in TRACKED if before[k] != after[k]},
                          new={**{k: after[k] for k in TRACKED if before[k] != after[k]}, "via": "admin"})

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        obj = form.instance
        groups0 = sorted(obj.groups.values_list("name", flat=True)) if change else []
        perms0 = sorted(obj.user_permissions.values_list("codename", flat=True)) if change else []
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            groups1 = sorted(obj.groups.values_list("name", flat=True))
            perms1 = sorted(obj.user_permissions.values_list("codename", flat=True))
            if (groups0, perms0) != (groups1, perms1):
                audit_log(actor=request.user, action="user.permissions_change", object_type="user",
                          object_id=obj.pk, old={"groups": groups0, "permissions": perms0},
                          new={"groups": groups1, "permissions": perms1, "via": "admin"})


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are created and revoked with `fieldcollect token create|revoke` (audited; the secret is shown
    once)."""

    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    list_filter = ("revoked_at",)
