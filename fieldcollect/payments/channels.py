"""Payment channels and their HMAC signatures.

Each channel has a secret generated at set-up (``fieldcollect payments channel-add NAME``) into
``$FIELDCOLLECT_HOME/keys/payment_channels.json`` (mode 0600, in the ignored data home, never
committed); the database holds only the channel's name. A request is signed as

    X-FC-Channel:   <channel>
    X-FC-Timestamp: <unix seconds>
    X-FC-Signature: hex(HMAC-SHA256(secret, "<timestamp>.<body bytes>"))

and refused when the signature is wrong or the timestamp is more than :data:`MAX_SKEW` away from the
bank's clock (a captured request cannot be replayed later; a replay inside the window changes nothing,
the channel's reference makes the payment idempotent).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import User
from fieldcollect.home import keys_dir
from fieldcollect.payments.errors import PaymentErrorCode as E
from fieldcollect.payments.lines import CHANNEL_NAME
from fieldcollect.payments.models import PaymentChannel

SECRETS_FILE = "payment_channels.json"
MAX_SKEW = timedelta(minutes=5)
RESERVED = frozenset({"store"})  # "store:" is the reference prefix of the export's payments


def _path() -> Path:
    return keys_dir() / SECRETS_FILE


def _read() -> dict[str, str]:
    path = _path()
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(data: dict[str, str]) -> None:
    path = _path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def channel_add(*, name: str, acting_user: User | None = None, rotate: bool = False) -> str:
    """Create (or re-activate) the channel ``name`` and return its secret: generated into the keys
    folder the first time, or again when ``rotate``."""
    if not CHANNEL_NAME.match(name) or name in RESERVED:
        raise ApplicationError(
            _("A channel name is 1-15 lower-case letters, digits, _ or - (not “store”)."),
            code=E.CHANNEL_INVALID,
            extra={"name": name[:40]},
        )
    data = _read()
    fresh = rotate or name not in data
    if fresh:
        data[name] = secrets.token_hex(32)
        _write(data)
    with transaction.atomic():
        channel, created = PaymentChannel.objects.get_or_create(name=name)
        if not channel.active:
            channel.active = True
            channel.save(update_fields=["active"])
        audit_log(
            actor=acting_user,
            action="payment_channel.add" if created else "payment_channel.secret",
            object_type="payment_channel",
            object_id=channel.pk,
            new={"name": name, "secret_generated": fresh},
        )
    return data[name]


def channel_secret(name: str) -> str | None:
    """The secret of an active channel (``None`` when unknown, inactive or without a secret)."""
    if not PaymentChannel.objects.filter(name=name, active=True).exists():
        return None
    return _read().get(name)


def active_channels() -> set[str]:
    return set(PaymentChannel.objects.filter(active=True).values_list("name", flat=True))


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_check(*, channel: str, timestamp: str, signature: str, body: bytes, now: datetime) -> str:
    """The channel of a correctly signed, fresh request; :class:`PermissionDeniedError` otherwise."""
    if not channel or not timestamp or not signature:
        raise PermissionDeniedError(
            _("The request is not signed (X-FC-Channel, X-FC-Timestamp, X-FC-Signature)."),
            code=E.SIGNATURE_MISSING,
            status_code=401,
        )
    secret = channel_secret(channel) if CHANNEL_NAME.match(channel) else None
    if not timestamp.isdigit() or len(timestamp) > 12 or secret is None:
        raise PermissionDeniedError(
            _("The signature is not valid."), code=E.SIGNATURE_INVALID, status_code=401
        )
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW.total_seconds():
        raise PermissionDeniedError(
            _("The signature is not valid."),
            code=E.SIGNATURE_INVALID,
            status_code=401,
            extra={"reason": "timestamp too far from the bank's clock"},
        )
    expected = sign(secret=secret, timestamp=int(timestamp), body=body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise PermissionDeniedError(
            _("The signature is not valid."), code=E.SIGNATURE_INVALID, status_code=401
        )
    return channel
