"""Stable error codes of the scorecard domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class ScorecardErrorCode(StrEnum):
    SELECTION_DUPLICATE = "selection.duplicate"
    SELECTION_INVALID = "selection.invalid"
    SELECTION_INVALID_TRANSITION = "selection.invalid_transition"
    SELECTION_REASON_REQUIRED = "selection.reason_required"
    SELECTION_UNKNOWN = "selection.unknown"
    SELECTION_ZERO_WEIGHTS = "selection.zero_weights"
