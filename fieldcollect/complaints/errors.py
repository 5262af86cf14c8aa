"""Stable error codes of the complaints domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class ComplaintErrorCode(StrEnum):
    ACKNOWLEDGED = "complaint.acknowledged"
    ANSWER = "complaint.answer"
    ASSIGNEE = "complaint.assignee"
    CASE_CUSTOMER = "complaint.case_customer"
    CATEGORY = "complaint.category"
    DESCRIPTION = "complaint.description"
    DUPLICATE = "complaint.duplicate"
    EMPTY_ENTRY = "complaint.empty_entry"
    EMPTY_RESPONSE = "complaint.empty_response"
    FINDING = "complaint.finding"
    FUTURE = "complaint.future"
    LINK_CUSTOMER = "complaint.link_customer"
    NAIVE = "complaint.naive"
    NOT_AGENCY = "complaint.not_agency"
    NOT_FOUND = "complaint.not_found"
    NOT_HANDLER = "complaint.not_handler"
    NOT_OPEN = "complaint.not_open"
    NOT_RESOLVED = "complaint.not_resolved"
    REASON = "complaint.reason"
    REGULATOR_REFERENCE = "complaint.regulator_reference"
    RESOLUTION = "complaint.resolution"
    ROOT_CAUSE = "complaint.root_cause"
    SEVERITY = "complaint.severity"
    SOURCE = "complaint.source"
