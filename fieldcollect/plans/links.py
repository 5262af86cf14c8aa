"""Signed, expiring links for customers (no account): the agreement acceptance link.

A token is ``TimestampSigner(salt=SALT).sign_object({"a": agreement id, "n": nonce, "e": expiry})``,
refused when tampered, older than :data:`MAX_AGE` whatever it says, or past its expiry (the signing is
:mod:`fieldcollect.core.links`, shared with the visits' links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fieldcollect.core import links
from fieldcollect.core.links import LinkError, LinkExpired, LinkInvalid, new_nonce

__all__ = ["MAX_AGE", "SALT", "LinkError", "LinkExpired", "LinkInvalid", "LinkPayload", "make_link_token",
           "new_nonce", "read_link_token"]

SALT = "fieldcollect.plans.agreement-link.v1"
MAX_AGE = timedelta(days=60)


@dataclass(frozen=True)
class LinkPayload:
    agreement_id: int
    nonce: str
    expires_at: datetime


def make_link_token(*, agreement_id: int, nonce: str, expires_at: datetime) -> str:
    """A URL-safe token for the agreement, valid until ``expires_at`` (aware)."""
    return links.sign(salt=SALT, key="a", object_id=agreement_id, nonce=nonce, expires_at=expires_at)


def read_link_token(token: str, *, now: datetime | None = None) -> LinkPayload:
    """Verify ``token`` and return what it carries (raises :class:`LinkInvalid`, :class:`LinkExpired`)."""
    agreement_id, nonce, expires_at = links.read_signed(token, salt=SALT, key="a", max_age=MAX_AGE, now=now)
    return LinkPayload(agreement_id=agreement_id, nonce=nonce, expires_at=expires_at)
