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
    CORE_INSTRUCTION_ANSWERED = "core_instruction.answered"
    CORE_INSTRUCTION_NOT_FOUND = "core_instruction.not_found"
    CORE_INSTRUCTION_NOT_REFUSED = "core_instruction.not_refused"
    CORE_INSTRUCTION_REASON_MISSING = "core_instruction.reason_missing"
    CORE_INSTRUCTION_RESENT = "core_instruction.resent"
    PAYMENT_LINK_EXPIRED = "payment_link.expired"
    PAYMENT_LINK_INVALID = "payment_link.invalid"
    PAYMENT_LINK_NOT_FOUND = "payment_link.not_found"
    PAYMENT_LINK_NOT_OPEN = "payment_link.not_open"
    PAYMENT_LINK_REFUSED = "payment_link.refused"
