"""The contact requests and ledger entries the compliance engine's tests build: a call to debtor
``d1`` unless told otherwise (each keyword replaces a field)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldcollect.compliance.engine import ContactRequest, LedgerEntry

A_CALL_TO_THE_DEBTOR: dict[str, Any] = {"debtor_id": "d1", "channel": "call", "party": "debtor",
                                        "phone": "13800000001"}


def contact_request(at: datetime, **kw: Any) -> ContactRequest:
    """Request ``r``: a call to debtor ``d1`` in Shanghai at ``at``."""
    return ContactRequest(**{"request_id": "r", "tz": "Asia/Shanghai", **A_CALL_TO_THE_DEBTOR, "at": at, **kw})


def ledger_entry(at: datetime, **kw: Any) -> LedgerEntry:
    """A call to debtor ``d1`` at ``at`` in the ledger."""
    return LedgerEntry(**{**A_CALL_TO_THE_DEBTOR, "at": at, **kw})
