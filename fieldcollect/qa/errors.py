"""Stable error codes of quality inspection: recordings, reviews, appeals and training records (API
clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class QaErrorCode(StrEnum):
    APPEAL_FORBIDDEN = "qa.appeal_forbidden"
    APPEAL_REASON = "qa.appeal_reason"
    APPEAL_STATE = "qa.appeal_state"
    CERTIFICATE_DATES = "qa.certificate_dates"
    CERTIFICATE_REVOKED = "qa.certificate_revoked"
    CERTIFICATE_STATUS = "qa.certificate_status"
    COLLECTOR_NOT_FOUND = "qa.collector_not_found"
    EXAM_NOT_PASSED = "qa.exam_not_passed"
    EXAM_SCORE = "qa.exam_score"
    FINDING = "qa.finding"
    FORM_ANSWERS = "qa.form_answers"
    FORM_PACK = "qa.form_pack"
    HOLD_FORBIDDEN = "qa.hold_forbidden"
    MAKER_CHECKER = "qa.maker_checker"
    NOT_AGENCY = "qa.not_agency"
    NOT_REVIEWER = "qa.not_reviewer"
    RECORDING_NOT_FOUND = "qa.recording_not_found"
    REVIEWED = "qa.reviewed"
    VERDICT = "qa.verdict"
