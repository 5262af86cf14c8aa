"""Stable error codes of the privacy (unmasking, exports, attestations, sub-processors) domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class PrivacyErrorCode(StrEnum):
    ATTESTATION_DONE = "attestation.done"
    ATTESTATION_NOT_FOUND = "attestation.not_found"
    ATTESTATION_NOT_MANAGER = "attestation.not_manager"
    ATTESTATION_STATEMENT = "attestation.statement"
    EXPORT_COLUMNS = "export.columns"
    EXPORT_FORMAT = "export.format"
    EXPORT_PURPOSE = "export.purpose"
    EXPORT_UNMASK_POST = "export.unmask_post"
    PII_NO_FIELDS = "pii.no_fields"
    PII_PURPOSE_REQUIRED = "pii.purpose_required"
    PII_UNMASK_DENIED = "pii.unmask_denied"
    SUBPROCESSOR_INVALID = "subprocessor.invalid"
    SUBPROCESSOR_NOT_FOUND = "subprocessor.not_found"
    SUBPROCESSOR_NOT_MANAGER = "subprocessor.not_manager"
