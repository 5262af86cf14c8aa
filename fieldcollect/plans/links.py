"""Signed, expiring links for customers (no account): the agreement acceptance link.

A token is ``TimestampSigner(salt=...).sign_object({"a": agreement id, "n": nonce, "e": expiry})``:
the signature (HMAC with the project's SECRET_KEY and a purpose-specific salt) covers the agreement,
the nonce stored with it (so a re-issued agreement invalidates older links) and the expiry. A token is
refused when the signature does not match (tampered, or made for another purpose), when it is older
than :data:`MAX_AGE` whatever it says, or when its expiry has passed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.utils import timezone

__all__ = ["MAX_AGE", "SALT", "LinkError", "LinkExpired", "LinkInvalid", "LinkPayload", "make_link_token",
           "new_nonce", "read_link_token"]

SALT = "fieldcollect.plans.agreement-link.v1"
MAX_AGE = timedelta(days=60)


class LinkError(Exception):
    """The link cannot be used."""


class LinkInvalid(LinkError):
    """Tampered, truncated or made for something else."""


class LinkExpired(LinkError):
    """Genuine but past its expiry."""


@dataclass(frozen=True)
class LinkPayload:
    agreement_id: int
    nonce: str
    expires_at: datetime


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def make_link_token(*, agreement_id: int, nonce: str, expires_at: datetime) -> str:
    """A URL-safe token for the agreement, valid until ``expires_at`` (aware)."""
    if timezone.is_naive(expires_at):
        raise ValueError("expires_at must be timezone-aware")
    payload = {"a": int(agreement_id), "n": nonce, "e": int(expires_at.timestamp())}
    return _signer().sign_object(payload, compress=True)


def read_link_token(token: str, *, now: datetime | None = None) -> LinkPayload:
    """Verify ``token`` and return what it carries.

    Raises
    ------
    LinkInvalid
        If the signature or the payload is wrong.
    LinkExpired
        If the expiry in the token (or :data:`MAX_AGE` since signing) has passed.
    """
    try:
        data = _signer().unsign_object(token, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from None
    try:
        payload = LinkPayload(
            agreement_id=int(data["a"]),
            nonce=str(data["n"]),
            expires_at=datetime.fromtimestamp(int(data["e"]), tz=UTC),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(f"malformed payload: {exc}") from None
    if (now or timezone.now()) > payload.expires_at:
        raise LinkExpired("the link has expired")
    return payload
