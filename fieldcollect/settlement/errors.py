"""Stable error codes of the settlement domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class SettlementErrorCode(StrEnum):
    ISSUED = "settlement.issued"
    REASON_REQUIRED = "settlement.reason_required"
    STATEMENT_LINE_NOT_FOUND = "statement.line_not_found"
    STATEMENT_NOT_FOUND = "statement.not_found"
    INVOICE_STATE = "invoice.state"
    INVOICE_NOT_FOUND = "invoice.not_found"
    NOT_ISSUED = "settlement.not_issued"
    REVERSAL_INVALID = "settlement.reversal_invalid"
    CLAIM_FILE_INVALID = "settlement.claim_file_invalid"
    CLAIM_NOT_FOUND = "settlement.claim_not_found"
