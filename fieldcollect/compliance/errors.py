"""Stable error codes of the compliance (contact rules and debtor flags) domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class ComplianceErrorCode(StrEnum):
    BLOCKED = "compliance.blocked"
    FLAG_EMPTY_PERIOD = "flag.empty_period"
    FLAG_ENDED = "flag.ended"
    FLAG_INVALID = "flag.invalid"
    FLAG_NAIVE = "flag.naive"
    FLAG_NO_PHONE = "flag.no_phone"
    FLAG_NO_REASON = "flag.no_reason"
    FLAG_NOT_FOUND = "flag.not_found"
