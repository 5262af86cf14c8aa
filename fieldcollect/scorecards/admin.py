"""Read-only admin: selection data changes through the audited services (and their pages)."""

from django.contrib import admin

from fieldcollect.privacy.admin_base import ReadOnlyAdmin
from fieldcollect.scorecards.models import AgencyCandidate, CriterionWeight, Inspection, StatusChange


@admin.register(AgencyCandidate)
class AgencyCandidateAdmin(ReadOnlyAdmin):
    list_display = ("agency", "years_in_business", "inspection_score", "fee_rate", "updated_at")


@admin.register(CriterionWeight)
class CriterionWeightAdmin(ReadOnlyAdmin):
    list_display = ("name", "weight", "updated_at")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("agency", "year", "score", "passed")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("agency", "old_status", "new_status", "on", "reason")
