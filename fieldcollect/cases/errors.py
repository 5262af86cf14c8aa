"""Stable error codes of the case domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class CaseErrorCode(StrEnum):
    NOT_FOUND = "case.not_found"
    CONFLICT = "case.conflict"
    INVALID_TRANSITION = "case.invalid_transition"
    CLOSED = "case.closed"
    NOT_PLACED = "case.not_placed"
    ALREADY_PLACED = "case.already_placed"
    AGENCY_NOT_APPROVED = "placement.agency_not_approved"
    NO_CONTRACT = "placement.no_contract"
    DSA_EXPIRED = "placement.dsa_expired"
    BUCKET_NOT_ELIGIBLE = "placement.bucket_not_eligible"
    REGION_NOT_SERVED = "placement.region_not_served"
    CAPACITY_FULL = "placement.capacity_full"
    RETENTION_LIMIT = "placement.retention_limit"
    COLLECTOR_OTHER_AGENCY = "assignment.collector_other_agency"
    COLLECTOR_NOT_QUALIFIED = "assignment.collector_not_qualified"
    INVALID_AMOUNT = "promise.invalid_amount"
    INVALID_DATE = "promise.invalid_date"
    TASK_NOT_FOUND = "task.not_found"
    TASK_NOT_OPEN = "task.not_open"
    INVALID_CLOSE_REASON = "case.invalid_close_reason"
    CONTACT_INVALID_CHANNEL = "contact.invalid_channel"
    CONTACT_INVALID_OUTCOME = "contact.invalid_outcome"
    CONTACT_INVALID_PARTY = "contact.invalid_party"
    CONTACT_NAIVE = "contact.naive"
    CONTACT_NOT_FOUND = "contact.not_found"
    CUSTOMER_NOT_FOUND = "customer.not_found"
    NOTE_EMPTY = "note.empty"
    PAYMENT_INVALID_AMOUNT = "payment.invalid_amount"
    PAYMENT_REFERENCE_CONFLICT = "payment.reference_conflict"
    PROMISE_CONTACT_MISMATCH = "promise.contact_mismatch"
    TASK_ASSIGNEE_OTHER_AGENCY = "task.assignee_other_agency"
