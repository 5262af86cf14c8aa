from django.contrib import admin

from fieldcollect.ops.redact import redact_customer_links
from fieldcollect.privacy.masking import mask_mobile
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    Evidence,
    FeedbackRequest,
    OutboxMessage,
    RoutePlan,
    RouteStop,
    Shift,
    Team,
    VisitReport,
)


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ("collector", "date", "start", "end", "base")
    list_filter = ("date",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("id", "date", "city", "member_a", "member_b", "paired_by")
    list_filter = ("date", "city")


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "status", "chosen_start", "expires_at")
    list_filter = ("status",)
    exclude = ("token_hash", "nonce")


class RouteStopInline(admin.TabularInline):
    model = RouteStop
    extra = 0


@admin.register(RoutePlan)
class RoutePlanAdmin(admin.ModelAdmin):
    list_display = ("id", "team", "date", "superseded", "reason", "travel_seconds")
    inlines = (RouteStopInline,)
    exclude = ("geojson",)


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ("id", "collector", "case", "at", "accepted", "distance_m", "flags")
    list_filter = ("accepted",)


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    readonly_fields = ("kind", "sha256", "size", "uploaded_at")


@admin.register(VisitReport)
class VisitReportAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "collector", "status", "outcome", "closed_at")
    inlines = (EvidenceInline,)


@admin.register(FeedbackRequest)
class FeedbackRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "rating", "responded_at")
    exclude = ("token_hash", "nonce")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "masked_to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    exclude = ("to", "body")  # the number and the text are personal data: the admin shows the number masked
    readonly_fields = ("masked_to", "text_without_links")

    @admin.display(description="to")
    def masked_to(self, obj: OutboxMessage) -> str:
        return mask_mobile(obj.to)

    @admin.display(description="text")
    def text_without_links(self, obj: OutboxMessage) -> str:
        """What was sent, with the customer's link token masked (a usable link goes to the customer only)."""
        return redact_customer_links(obj.body)
