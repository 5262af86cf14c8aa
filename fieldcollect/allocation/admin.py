"""Read-only admin: runs and decisions are written by the allocation services only."""

from django.contrib import admin

from fieldcollect.allocation.models import AllocationDecision, AllocationRun
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "as_of", "status", "n_placed", "n_holdout", "objective_fen", "greedy_objective_fen",
                    "certified_optimal")


@admin.register(AllocationDecision)
class AllocationDecisionAdmin(ReadOnlyAdmin):
    list_display = ("run", "case", "agency", "value_fen", "holdout", "shadow_price_fen")
    list_filter = ("holdout",)
