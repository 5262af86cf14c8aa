from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fieldcollect.privacy.models import DeletionAttestation, ExportRecord, SubProcessor


@admin.register(SubProcessor)
class SubProcessorAdmin(admin.ModelAdmin):
    list_display = ("name", "agency", "service", "location", "registered_on", "ends_on")
    list_filter = ("agency",)
    search_fields = ("name", "service")


class _ReadOnly(admin.ModelAdmin):
    """Data-sharing records are written by the services (with their audit entries) only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(_ReadOnly):
    list_display = ("fingerprint", "created_at", "recipient_label", "agency", "name", "fmt", "rows", "purpose")
    list_filter = ("fmt", "agency")
    search_fields = ("fingerprint", "recipient_label", "name", "purpose")


@admin.register(DeletionAttestation)
class DeletionAttestationAdmin(_ReadOnly):
    list_display = ("id", "agency", "reason", "raised_on", "due_on", "status", "attested_by", "attested_at")
    list_filter = ("status", "reason", "agency")
