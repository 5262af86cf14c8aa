"""The audit log in the admin: read only (entries are written by the services, through the chain)."""

from django.contrib import admin

from fieldcollect.audit.models import AuditEntry
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Entries are written by the services only."""

    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    readonly_fields = ("seq", "at", "actor", "actor_label", "action", "object_type", "object_id", "old", "new",
                       "prev_hash", "hash")
