"""Signed, expiring links for customers (no account): appointment confirmation and visit feedback.

The plans app has the same kind of link for agreements (:mod:`fieldcollect.plans.links`); its
exceptions are reused so that callers handle one family of errors, but the signing is separate:
each purpose has its own salt, so a token made for one purpose (an agreement, a feedback request)
never opens another (an appointment). A token is
``TimestampSigner(salt=SALTS[purpose]).sign_object({"i": object id, "n": nonce, "e": expiry})``.
Only the SHA-256 of the token is stored; the object's current nonce and token hash must match, so
a re-issued link invalidates the older ones.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.core import signing
from django.utils import timezone

from fieldcollect.plans.links import LinkError, LinkExpired, LinkInvalid

__all__ = ["MAX_AGE", "SALTS", "LinkError", "LinkExpired", "LinkInvalid", "LinkPayload", "make_token",
           "new_nonce", "read_token", "token_hash"]

Purpose = Literal["appointment", "feedback"]
SALTS: dict[str, str] = {
    "appointment": "fieldcollect.visits.appointment-link.v1",
    "feedback": "fieldcollect.visits.feedback-link.v1",
}
MAX_AGE = timedelta(days=30)


@dataclass(frozen=True)
class LinkPayload:
    object_id: int
    nonce: str
    expires_at: datetime


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    """What is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(*, purpose: Purpose, object_id: int, nonce: str, expires_at: datetime) -> str:
    """A URL-safe token for ``object_id`` valid until ``expires_at`` (aware)."""
    if timezone.is_naive(expires_at):
        raise ValueError("expires_at must be timezone-aware")
    payload = {"i": int(object_id), "n": nonce, "e": int(expires_at.timestamp())}
    return signing.TimestampSigner(salt=SALTS[purpose]).sign_object(payload, compress=True)


def read_token(token: str, *, purpose: Purpose, now: datetime | None = None) -> LinkPayload:
    """Verify ``token`` for ``purpose``.

    Raises
    ------
    LinkInvalid
        Tampered, truncated or made for another purpose.
    LinkExpired
        Past its expiry (or :data:`MAX_AGE` since signing).
    """
    try:
        data = signing.TimestampSigner(salt=SALTS[purpose]).unsign_object(token, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from None
    try:
        payload = LinkPayload(object_id=int(data["i"]), nonce=str(data["n"]),
                              expires_at=datetime.fromtimestamp(int(data["e"]), tz=UTC))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(f"malformed payload: {exc}") from None
    if (now or timezone.now()) > payload.expires_at:
        raise LinkExpired("the link has expired")
    return payload
