"""Signed, expiring links for customers (no account): appointment confirmation and visit feedback.

The signing is :mod:`fieldcollect.core.links`, shared with the plans' agreement links (one family of
errors for the callers), but each purpose has its own salt, so a token made for one purpose (an
agreement, a feedback request) never opens another (an appointment). A token is
``TimestampSigner(salt=SALTS[purpose]).sign_object({"i": object id, "n": nonce, "e": expiry})``.
Only the SHA-256 of the token is stored; the object's current nonce and token hash must match, so
a re-issued link invalidates the older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from fieldcollect.core import links
from fieldcollect.core.links import LinkError, LinkExpired, LinkInvalid, new_nonce, token_hash

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


def make_token(*, purpose: Purpose, object_id: int, nonce: str, expires_at: datetime) -> str:
    """A URL-safe token for ``object_id`` valid until ``expires_at`` (aware)."""
    return links.sign(salt=SALTS[purpose], key="i", object_id=object_id, nonce=nonce, expires_at=expires_at)


def read_token(token: str, *, purpose: Purpose, now: datetime | None = None) -> LinkPayload:
    """Verify ``token`` for ``purpose`` (raises :class:`LinkInvalid`: tampered, truncated or made for
    another purpose; :class:`LinkExpired`: past its expiry or :data:`MAX_AGE` since signing)."""
    object_id, nonce, expires_at = links.read_signed(token, salt=SALTS[purpose], key="i", max_age=MAX_AGE, now=now)
    return LinkPayload(object_id=object_id, nonce=nonce, expires_at=expires_at)
