"""TOTP second factor (RFC 6238, 6 digits, 30 s) for the bank roles.

Who needs it: users whose role is a bank role (and superusers) — ``requires_second_factor``. The
secret lives in ``TotpDevice``; a code is accepted once (``last_step``), with one step of clock drift
either way. Enrolment shows the secret as a QR code (segno, rendered inline as SVG) and as text.
"""

from __future__ import annotations

import io
import time

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fieldcollect.accounts.models import TotpDevice
from fieldcollect.audit.services import audit_log
from fieldcollect.core.models import User

ISSUER = "fieldcollect"
STEP = 30


def requires_second_factor(user: User) -> bool:
    if not getattr(settings, "FIELDCOLLECT_2FA_FOR_BANK_ROLES", True):
        return False
    return user.is_bank_user


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def pending_device(user: User) -> TotpDevice:
    """The user's unconfirmed device (created with a new secret if there is none)."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        device = TotpDevice.objects.create(user=user, secret=pyotp.random_base32(32))
    return device


def provisioning_uri(device: TotpDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.get_username(), issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="svg", scale=5, xmldecl=False, svgns=True, nl=False,
                                    title="TOTP")
    return buf.getvalue().decode()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def check_code(device: TotpDevice, code: str, *, now: float | None = None) -> bool:
    """Accept a code once: its time step must be later than the last accepted one."""
    step = _matching_step(device.secret, code, time.time() if now is None else now)
    if step is None:
        return False
    with transaction.atomic():
        updated = TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
    return updated == 1


def confirm_enrolment(device: TotpDevice, code: str) -> bool:
    if not check_code(device, code):
        return False
    with transaction.atomic():
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        audit_log(actor=device.user, action="user.totp_enrol", object_type="user", object_id=device.user_id)
    return True


def enrol_with_secret(*, user: User, secret: str, acting_user: User | None = None) -> TotpDevice:
    """Record a confirmed device with a given secret (the demo set-up prints it for its bank logins)."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        device = TotpDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
        audit_log(actor=acting_user, action="user.totp_enrol", object_type="user", object_id=user.pk,
                  new={"by": "set-up"}, actor_label="" if acting_user else "cli")
    return device


def reset(*, user: User, acting_user: User | None = None) -> bool:
    """Remove the user's device: the next login asks to enrol again."""
    with transaction.atomic():
        deleted, _ = TotpDevice.objects.filter(user=user).delete()
        audit_log(actor=acting_user, action="user.totp_reset", object_type="user", object_id=user.pk,
                  actor_label="" if acting_user else "cli")
    return deleted > 0
