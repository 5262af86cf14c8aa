"""One payment line, checked (no Django): ``{"reference", "loan_id", "amount_fen", "paid_at", "channel"}``.

``paid_at`` is ISO 8601 with its UTC offset (``2026-12-07T10:15:00+08:00``); the business date of the
payment is its date in the bank's time zone. A line is refused with one reason naming the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FIELDS = ("reference", "loan_id", "amount_fen", "paid_at", "channel")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,14}$")
REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,48}$")
MAX_AMOUNT_FEN = 10**13  # 100 billion yuan: anything larger is a typing error
MAX_ID = 2**63 - 1  # a 64-bit key
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks differ a little between the channel and the bank


class LineError(ValueError):
    """The reason a line is refused."""


@dataclass(frozen=True)
class PaymentLine:
    reference: str
    loan_id: int
    amount_fen: int
    paid_at: datetime
    paid_on: date
    channel: str


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineError(f"{name} must be an integer, got {value!r}"[:200])
    return value


def parse_object(obj: Any, *, bank_zone: ZoneInfo, now: datetime) -> PaymentLine:
    """Check one decoded line; raises :class:`LineError` with the reason."""
    if not isinstance(obj, dict):
        raise LineError("the line is not a JSON object")
    missing = [f for f in FIELDS if f not in obj or obj[f] is None]
    if missing:
        raise LineError(f"missing field {', '.join(missing)}")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise LineError(f"unknown field {', '.join(unknown)}"[:200])
    reference, channel = obj["reference"], obj["channel"]
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        raise LineError("reference must be 1-48 characters of letters, digits and . _ : / -")
    if not isinstance(channel, str) or not CHANNEL_NAME.match(channel):
        raise LineError("channel must be a channel name (lower-case letters, digits, _ and -, at most 15)")
    loan_id = _int(obj["loan_id"], "loan_id")
    if not 0 < loan_id <= MAX_ID:
        raise LineError(f"loan_id must be a positive 64-bit integer, got {loan_id}"[:200])
    amount = _int(obj["amount_fen"], "amount_fen")
    if amount <= 0:
        raise LineError(f"amount_fen must be positive, got {amount}")
    if amount > MAX_AMOUNT_FEN:
        raise LineError(f"amount_fen {amount} is implausibly large")
    raw = obj["paid_at"]
    if not isinstance(raw, str) or len(raw) > 40:
        raise LineError("paid_at must be an ISO 8601 time with its offset, e.g. 2026-12-07T10:15:00+08:00")
    try:
        paid_at = datetime.fromisoformat(raw)
    except ValueError:
        raise LineError(f"paid_at {raw!r} is not an ISO 8601 time") from None
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise LineError(f"paid_at {raw!r} has no UTC offset")
    if paid_at > now + FUTURE_TOLERANCE:
        raise LineError(f"paid_at {raw!r} is in the future")
    return PaymentLine(
        reference=reference,
        loan_id=loan_id,
        amount_fen=amount,
        paid_at=paid_at,
        paid_on=paid_at.astimezone(bank_zone).date(),
        channel=channel,
    )


def parse_line(text: str | bytes, *, bank_zone: ZoneInfo, now: datetime) -> PaymentLine:
    """Decode and check one line of a payments file."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise LineError("the line is not valid JSON") from None
    return parse_object(obj, bank_zone=bank_zone, now=now)
