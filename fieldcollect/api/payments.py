"""``POST /api/v1/payments``: same-day payments from the core banking system or a payment channel.

Not a bearer-token route: the channel signs each request with its HMAC secret
(:mod:`fieldcollect.payments.channels`). The body is one payment or ``{"payments": [...]}`` (at most
:data:`MAX_LINES`); the answer is ``{"applied", "duplicates", "rejected": [{"line", "reason"}]}``
(``line`` counts from 1 in the request's list), the same as ``fieldcollect payments post --json``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from fieldcollect.api.schemas import ERRORS, PaymentsPostOut
from fieldcollect.core.errors import ApplicationError
from fieldcollect.payments.channels import signature_check
from fieldcollect.payments.errors import PaymentErrorCode as E
from fieldcollect.payments.lines import FIELDS
from fieldcollect.payments.services import payments_post

router = Router(tags=["payments"])
MAX_LINES = 10_000
MAX_BODY = 4 * 1024 * 1024

_LINE_SCHEMA = {
    "type": "object",
    "required": list(FIELDS),
    "properties": {
        "reference": {"type": "string", "maxLength": 48},
        "loan_id": {"type": "integer"},
        "amount_fen": {"type": "integer", "minimum": 1},
        "paid_at": {"type": "string", "format": "date-time", "example": "2026-12-07T10:15:00+08:00"},
        "channel": {"type": "string", "maxLength": 15},
    },
}
_HEADERS = [
    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
    for name, text in (
        ("X-FC-Channel", "the channel's name"),
        ("X-FC-Timestamp", "unix seconds, within 5 minutes of the bank's clock"),
        ("X-FC-Signature", 'hex HMAC-SHA256 of "<timestamp>.<body>" with the channel\'s secret'),
    )
]


@router.post(
    "",
    auth=None,
    response={200: PaymentsPostOut, **ERRORS},
    summary="Report payments (signed)",
    openapi_extra={
        "parameters": _HEADERS,
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _LINE_SCHEMA,
                            {
                                "type": "object",
                                "required": ["payments"],
                                "properties": {
                                    "payments": {
                                        "type": "array",
                                        "items": _LINE_SCHEMA,
                                        "maxItems": MAX_LINES,
                                    }
                                },
                            },
                        ]
                    }
                }
            },
        },
    },
)
def post_payments(request: HttpRequest) -> dict[str, Any]:
    """Apply payments at once: the promise is kept, the plan instalment paid, the visits of a case
    paid up cancelled, the agency's commission attributed. Idempotent by the channel's reference:
    the same payment again is a duplicate. Bad lines are refused with their reason, the others applied."""
    now = timezone.now()
    body = request.body
    channel = signature_check(
        channel=request.headers.get("X-FC-Channel", ""),
        timestamp=request.headers.get("X-FC-Timestamp", ""),
        signature=request.headers.get("X-FC-Signature", ""),
        body=body,
        now=now,
    )
    if len(body) > MAX_BODY:
        raise ApplicationError(_("The request is too large."), code=E.FILE_INVALID, status_code=400)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApplicationError(_("The body is not JSON."), code=E.FILE_INVALID) from None
    items = data.get("payments") if isinstance(data, dict) and "payments" in data else [data]
    if not isinstance(items, list) or len(items) > MAX_LINES:
        raise ApplicationError(
            _("“payments” must be a list of at most %(n)s payments.") % {"n": MAX_LINES}, code=E.FILE_INVALID
        )
    result = payments_post(
        lines=enumerate(items, start=1), channel=channel, actor_label=f"channel:{channel}", now=now
    )
    return result.as_dict()
