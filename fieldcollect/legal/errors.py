"""Stable error codes of the legal app: referrals, letters, skip tracing and the placement screen (API
clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class LegalErrorCode(StrEnum):
    REFERRAL_INVALID = "legal.referral_invalid"
    REFERRAL_OPEN = "legal.referral_open"
    REFERRAL_CLOSED = "legal.referral_closed"
    REFERRAL_NOT_FOUND = "legal.referral_not_found"
    AMOUNT = "legal.amount"
    HEARING_INVALID = "legal.hearing_invalid"
    LETTER_INVALID = "legal.letter_invalid"
    LETTER_NOT_FOUND = "legal.letter_not_found"
    LETTER_STATUS = "legal.letter_status"
    CONTACT_INVALID = "legal.contact_invalid"
    CONTACT_NOT_FOUND = "legal.contact_not_found"
    CONTACT_CONSENT = "legal.contact_consent"
    SCREENED = "legal.screened"
    VENDOR_FILE = "legal.vendor_file"
