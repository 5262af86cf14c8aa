"""Stable error codes of the allocation domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class AllocationErrorCode(StrEnum):
    APPLIED = "allocation.applied"
    INVALID_HOLDOUT = "allocation.invalid_holdout"
    INVALID_SHARE = "allocation.invalid_share"
