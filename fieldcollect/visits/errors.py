"""Stable error codes of the field visits domain (API clients and pages match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class VisitErrorCode(StrEnum):
    # appointments and the customer's link
    APPOINTMENT_ANSWERED = "appointment.answered"
    APPOINTMENT_EMPTY_WINDOW = "appointment.empty_window"
    APPOINTMENT_EXPIRED = "appointment.expired"
    APPOINTMENT_INVALID_SUGGESTION = "appointment.invalid_suggestion"
    APPOINTMENT_INVALID_WINDOW = "appointment.invalid_window"
    APPOINTMENT_NAIVE = "appointment.naive"
    APPOINTMENT_NO_COLLECTOR = "appointment.no_collector"
    APPOINTMENT_NOT_OPEN = "appointment.not_open"
    APPOINTMENT_PAST_WINDOW = "appointment.past_window"
    APPOINTMENT_SMS_BLOCKED = "appointment.sms_blocked"
    APPOINTMENT_TOO_FAR = "appointment.too_far"
    APPOINTMENT_WINDOW_COUNT = "appointment.window_count"
    APPOINTMENT_WINDOW_TOO_LONG = "appointment.window_too_long"
    # shifts and teams
    TEAM_BUSY = "team.busy"
    TEAM_NO_BASE = "team.no_base"
    TEAM_NO_OVERLAP = "team.no_overlap"
    TEAM_NOT_QUALIFIED = "team.not_qualified"
    TEAM_OTHER_AGENCY = "team.other_agency"
    TEAM_OTHER_CITY = "team.other_city"
    TEAM_SAME_PERSON = "team.same_person"
    SHIFT_INVALID = "shift.invalid"
    # route plans
    ROUTE_PLAN_REPLAN_FAILED = "route_plan.replan_failed"
    # check-in
    CHECKIN_INVALID_POSITION = "checkin.invalid_position"
    CHECKIN_INVALID_SYSTEM = "checkin.invalid_system"
    # visit reports
    VISIT_CLOSED = "visit.closed"
    VISIT_EVIDENCE_MISSING = "visit.evidence_missing"
    VISIT_INVALID_OUTCOME = "visit.invalid_outcome"
    VISIT_NOT_OWNER = "visit.not_owner"
    VISIT_PROMISE_INCOMPLETE = "visit.promise_incomplete"
    # evidence files
    EVIDENCE_CLEAR_FILE = "evidence.clear_file"
    EVIDENCE_DAMAGED = "evidence.damaged"
    EVIDENCE_EMPTY = "evidence.empty"
    EVIDENCE_KIND = "evidence.kind"
    EVIDENCE_ONE_FILE = "evidence.one_file"
    EVIDENCE_TOO_LARGE = "evidence.too_large"
    EVIDENCE_UNKNOWN = "evidence.unknown"
    # feedback
    FEEDBACK_ANSWERED = "feedback.answered"
    FEEDBACK_RATING = "feedback.rating"
    # roles
    NOT_COLLECTOR = "visits.not_collector"
    NOT_MANAGER = "visits.not_manager"
