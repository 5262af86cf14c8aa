"""Stable error codes of the repayment plan domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class PlanErrorCode(StrEnum):
    """The service's own codes, then one per :class:`fieldcollect.plans.authority.ErrorCode` of the pure
    maker-checker machine (``plan.<its value>``)."""

    ALREADY_ANSWERED = "plan.already_answered"
    ALREADY_OPEN = "plan.already_open"
    CONFLICT = "plan.conflict"
    INVALID_AMOUNT = "plan.invalid_amount"
    INVALID_DECISION = "plan.invalid_decision"
    INVALID_OPTION = "plan.invalid_option"
    INVALID_REASON = "plan.invalid_reason"
    INVALID_VALIDITY = "plan.invalid_validity"
    NO_AUTHORITY = "plan.no_authority"
    NO_HARDSHIP = "plan.no_hardship"
    NO_POSITION = "plan.no_position"
    NOT_CASE_COLLECTOR = "plan.not_case_collector"
    NOT_FOUND = "plan.not_found"
    OPTION_NOT_FEASIBLE = "plan.option_not_feasible"
    ROLE_NOT_ALLOWED = "plan.role_not_allowed"
    INVALID_TRANSITION = "plan.invalid_transition"
    SAME_PERSON = "plan.same_person"
    OTHER_AGENCY = "plan.other_agency"
    ESCALATION_REQUIRED = "plan.escalation_required"
    NOT_ESCALATION_TARGET = "plan.not_escalation_target"
    BEYOND_ALL_AUTHORITY = "plan.beyond_all_authority"
    WITHIN_LIMITS = "plan.within_limits"
    OFFER_EXPIRED = "plan.offer_expired"
    OFFER_NOT_EXPIRED = "plan.offer_not_expired"
    EXPIRY_REQUIRED = "plan.expiry_required"
    WRONG_CUSTOMER = "plan.wrong_customer"
    NAIVE_DATETIME = "plan.naive_datetime"
    TIME_BEFORE_LAST_EVENT = "plan.time_before_last_event"
    INVALID_TERMS = "plan.invalid_terms"
