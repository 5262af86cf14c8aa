"""Stable error codes of the agency domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class AgencyErrorCode(StrEnum):
    NOT_FOUND = "agency.not_found"
    COLLECTOR_NOT_FOUND = "collector.not_found"
    CONTRACT_NOT_FOUND = "contract.not_found"
    CONTRACT_INVALID = "contract.invalid"
    CONTRACT_DECISION = "contract.decision_not_allowed"
