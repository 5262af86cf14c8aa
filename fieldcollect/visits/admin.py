"""Read-only admin: shifts, teams, appointments, routes, check-ins, visit reports and feedback are
written through the visits pages and services (audited); encrypted notes, numbers and
texts show masked, coordinates and link token hashes not at all."""

from django.contrib import admin

from fieldcollect.privacy.admin_base import ReadOnlyAdmin, ReadOnlyInline
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    Evidence,
    FeedbackRequest,
    RoutePlan,
    RouteStop,
    Shift,
    Team,
    VisitReport,
)


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ("collector", "date", "start", "end", "base")
    list_filter = ("date",)


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("id", "date", "city", "member_a", "member_b", "paired_by")
    list_filter = ("date", "city")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "status", "chosen_start", "expires_at")
    list_filter = ("status",)


class RouteStopInline(ReadOnlyInline):
    model = RouteStop


@admin.register(RoutePlan)
class RoutePlanAdmin(ReadOnlyAdmin):
    list_display = ("id", "team", "date", "superseded", "reason", "travel_seconds")
    inlines = (RouteStopInline,)


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("id", "collector", "case", "at", "accepted", "distance_m", "flags")
    list_filter = ("accepted",)


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    readonly_fields = ("kind", "sha256", "size", "uploaded_at")


@admin.register(VisitReport)
class VisitReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "collector", "status", "outcome", "closed_at")
    inlines = (EvidenceInline,)


@admin.register(FeedbackRequest)
class FeedbackRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "rating", "responded_at")
