"""Read-only admin: statements are built, issued and disputed, payments reversed, invoices moved and
claim files reconciled through the settlement services."""

from django.contrib import admin

from fieldcollect.privacy.admin_base import ReadOnlyAdmin
from fieldcollect.settlement.models import (
    Adjustment,
    ClaimReconciliation,
    Invoice,
    PaymentReversal,
    Statement,
    StatementLine,
)


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ("agency", "month", "status", "line_count", "payments_fen", "commission_fen",
                    "disputed_commission_fen", "penalties_fen", "clawbacks_fen")


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdmin):
    list_display = ("statement", "payment", "paid_on", "amount_fen", "rate", "commission_fen", "disputed")


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("statement", "kind", "source", "source_ref", "term", "occurred_on", "amount_fen")
    list_filter = ("kind", "source")


@admin.register(PaymentReversal)
class PaymentReversalAdmin(ReadOnlyAdmin):
    list_display = ("payment", "reversed_on", "reason", "recorded_by")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "statement", "amount_fen", "status", "issued_on", "paid_on")
    list_filter = ("status",)


@admin.register(ClaimReconciliation)
class ClaimReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("statement", "file_name", "rows", "matched", "uploaded_by", "uploaded_at")
