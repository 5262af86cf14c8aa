"""Read-only admin views of flags and refused contacts: every change goes through the audited services."""

from django.contrib import admin

from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(DebtorFlag)
class DebtorFlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer_id", "flag", "starts_at", "ends_at", "source", "created_by", "lifted_at")
    list_filter = ("flag",)


@admin.register(BlockedAttempt)
class BlockedAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "agency_id", "case_id", "channel", "party", "path", "rule_ids", "user")
    list_filter = ("path", "channel")
