"""Read-only admin views of case records: every change goes through the audited services."""

from django.contrib import admin

from fieldcollect.cases.models import BatchAction, Case, ContactAttempt, Placement, PromiseToPay, Task
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "loan_id", "status", "bucket", "dpd", "overdue_fen", "city", "agency", "collector")
    list_filter = ("status", "bucket")
    show_full_result_count = False
    raw_id_fields = ("loan", "customer", "agency", "collector")


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "agency", "status", "starts_on", "ends_on", "retained_count", "recalled_on")
    list_filter = ("status", "agency")
    show_full_result_count = False


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "at", "channel", "party", "outcome", "agency", "collector")
    list_filter = ("channel", "outcome")
    show_full_result_count = False


@admin.register(PromiseToPay)
class PromiseToPayAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "amount_fen", "due_on", "status")
    list_filter = ("status",)


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "kind", "title", "due_on", "status", "assignee")
    list_filter = ("status", "kind")


@admin.register(BatchAction)
class BatchActionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "state", "made_by", "checked_by", "applied", "failed", "made_at")
    list_filter = ("kind", "state")
    show_full_result_count = False
