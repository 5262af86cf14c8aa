"""Read-only admin: sub-processors, exports and deletion attestations are written by the privacy
services (with their audit entries) only."""

from django.contrib import admin

from fieldcollect.privacy.admin_base import ReadOnlyAdmin
from fieldcollect.privacy.models import DeletionAttestation, ExportRecord, SubProcessor


@admin.register(SubProcessor)
class SubProcessorAdmin(ReadOnlyAdmin):
    list_display = ("name", "agency", "service", "location", "registered_on", "ends_on")
    list_filter = ("agency",)
    search_fields = ("name", "service")


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    list_display = ("fingerprint", "created_at", "recipient_label", "agency", "name", "fmt", "rows", "purpose")
    list_filter = ("fmt", "agency")
    search_fields = ("fingerprint", "recipient_label", "name", "purpose")


@admin.register(DeletionAttestation)
class DeletionAttestationAdmin(ReadOnlyAdmin):
    list_display = ("id", "agency", "reason", "raised_on", "due_on", "status", "attested_by", "attested_at")
    list_filter = ("status", "reason", "agency")
