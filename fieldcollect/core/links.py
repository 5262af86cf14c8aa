"""Signed, expiring links for customers (no account): the signing both kinds of link share, the
agreement acceptance link (:mod:`fieldcollect.plans.links`) and the appointment and feedback links
(:mod:`fieldcollect.visits.links`).

A token is ``TimestampSigner(salt=...).sign_object({key: object id, "n": nonce, "e": expiry})``: the
signature (HMAC with the project's SECRET_KEY and a purpose-specific salt) covers the object, the nonce
stored with it (so a re-issued link invalidates older ones) and the expiry. A token is refused when the
signature does not match (tampered, or made for another purpose), when it is older than the purpose's
maximum age whatever it says, or when its expiry has passed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.utils import timezone

__all__ = ["LinkError", "LinkExpired", "LinkInvalid", "new_nonce", "read_signed", "sign", "token_hash"]


class LinkError(Exception):
    """The link cannot be used."""


class LinkInvalid(LinkError):
    """Tampered, truncated or made for something else."""


class LinkExpired(LinkError):
    """Genuine but past its expiry."""


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    """What is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(*, salt: str, key: str, object_id: int, nonce: str, expires_at: datetime) -> str:
    """A URL-safe token for ``object_id`` (under ``key`` in the payload) valid until ``expires_at`` (aware)."""
    if timezone.is_naive(expires_at):
        raise ValueError("expires_at must be timezone-aware")
    payload = {key: int(object_id), "n": nonce, "e": int(expires_at.timestamp())}
    return signing.TimestampSigner(salt=salt).sign_object(payload, compress=True)


def read_signed(token: str, *, salt: str, key: str, max_age: timedelta,
                now: datetime | None = None) -> tuple[int, str, datetime]:
    """Verify ``token``: the object id, the nonce and the expiry it carries.

    Raises
    ------
    LinkInvalid
        If the signature or the payload is wrong (tampered, truncated or made for another purpose).
    LinkExpired
        If the expiry in the token (or ``max_age`` since signing) has passed.
    """
    try:
        data = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from None
    try:
        carried = int(data[key]), str(data["n"]), datetime.fromtimestamp(int(data["e"]), tz=UTC)
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(f"malformed payload: {exc}") from None
    if (now or timezone.now()) > carried[2]:
        raise LinkExpired("the link has expired")
    return carried
