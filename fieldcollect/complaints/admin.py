from django.contrib import admin

from fieldcollect.complaints.models import Complaint, InvestigationEntry


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("reference", "source", "category", "severity", "status", "agency", "received_at",
                    "resolve_due_at")
    list_filter = ("status", "severity", "category", "source")
    search_fields = ("reference", "regulator_reference", "description")
    raw_id_fields = ("customer", "case", "agency", "collector", "feedback", "assigned_to", "created_by",
                     "agency_response_by")


@admin.register(InvestigationEntry)
class InvestigationEntryAdmin(admin.ModelAdmin):
    list_display = ("complaint", "author", "created_at")
    raw_id_fields = ("complaint", "contact", "visit_report", "author")
