"""Stable error codes of the early-warning domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class EarlyWarningErrorCode(StrEnum):
    STRATEGY_NO_CASES = "strategy.no_cases"
