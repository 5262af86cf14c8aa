from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from fieldcollect.core.models import AuditEntry, User


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
