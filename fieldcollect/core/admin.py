from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from fieldcollect.core.models import ApiToken, AuditEntry, User


@admin.register(User)
class FieldcollectUserAdmin(UserAdmin):
    list_display = ("username", "role", "agency", "is_active")
    list_filter = ("role", "agency")
    fieldsets = (*UserAdmin.fieldsets, ("Fieldcollect", {"fields": ("role", "agency")}))  # type: ignore[misc]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # tokens are created with `fieldcollect token create` (the secret is shown once)
