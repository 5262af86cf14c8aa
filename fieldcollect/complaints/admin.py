"""Read-only admin: complaints are handled through the complaints pages and their audited services;
descriptions, answers and notes are encrypted personal data and show masked."""

from django.contrib import admin

from fieldcollect.complaints.models import Complaint, InvestigationEntry
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("reference", "source", "category", "severity", "status", "agency", "received_at",
                    "resolve_due_at")
    list_filter = ("status", "severity", "category", "source")
    search_fields = ("reference", "regulator_reference")  # the description is encrypted: not searchable in SQL
    raw_id_fields = ("customer", "case", "agency", "collector", "feedback", "assigned_to", "created_by",
                     "agency_response_by")


@admin.register(InvestigationEntry)
class InvestigationEntryAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "author", "created_at")
    raw_id_fields = ("complaint", "contact", "visit_report", "author")
