"""Stable error codes of the payments domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class PaymentErrorCode(StrEnum):
    SIGNATURE_MISSING = "payment.signature_missing"
    SIGNATURE_INVALID = "payment.signature_invalid"
    CHANNEL_UNKNOWN = "payment.channel_unknown"
    CHANNEL_INVALID = "payment.channel_invalid"
    LINE_INVALID = "payment.line_invalid"
    FILE_INVALID = "payment.file_invalid"
