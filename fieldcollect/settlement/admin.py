"""Read-only admin: statements are built, issued and disputed through the settlement services."""

from django.contrib import admin

from fieldcollect.privacy.admin_base import ReadOnlyAdmin
from fieldcollect.settlement.models import Statement, StatementLine


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ("agency", "month", "status", "line_count", "payments_fen", "commission_fen",
                    "disputed_commission_fen")


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdmin):
    list_display = ("statement", "payment", "paid_on", "amount_fen", "rate", "commission_fen", "disputed")
