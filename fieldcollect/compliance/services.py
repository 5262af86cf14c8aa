"""Writes of the compliance app: debtor flags (add, lift) and refused contacts (blocked attempts).

Keyword-only functions; each runs in one ``transaction.atomic`` and writes its audit row in it.

Who may write flags
    Flags that only *restrict* contact (complaint, dispute, cease, attorney, deceased,
    third_party_cease) may be added by anyone who works cases (a collector who hears "stop calling
    me" must record it at once) and by the system (``acting_user=None``, e.g. the complaints
    service). Flags that *loosen* a rule (consent_hours, no_valid_number) and every lift need a
    bank compliance officer or collections manager (or the system).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.compliance.engine import normalise_phone
from fieldcollect.compliance.models import DebtorFlag, FlagKind
from fieldcollect.core.audit import audit_log, snapshot
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.portfolio.models import Customer

FLAG_FIELDS = ["customer", "flag", "phone", "starts_at", "ends_at", "reason", "source", "created_by",
               "lifted_by", "lifted_at", "lift_reason"]
RESTRICTIVE_FLAGS = frozenset({FlagKind.COMPLAINT, FlagKind.DISPUTE, FlagKind.CEASE, FlagKind.ATTORNEY,
                               FlagKind.DECEASED, FlagKind.THIRD_PARTY_CEASE})
FLAG_MANAGERS = frozenset({Role.COMPLIANCE_OFFICER, Role.COLLECTIONS_MANAGER})
FLAG_REPORTERS = FLAG_MANAGERS | {Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}


def can_manage_flags(user: User | None) -> bool:
    """Whether ``user`` may add any flag and lift flags (``None`` is the system)."""
    return user is None or user.is_superuser or user.role in FLAG_MANAGERS


def _require_flag_right(user: User | None, flag: str) -> None:
    if can_manage_flags(user):
        return
    assert user is not None
    if flag in RESTRICTIVE_FLAGS and user.role in FLAG_REPORTERS:
        return
    raise PermissionDeniedError(_("Your role may not do this."), code="permission.denied",
                                extra={"capability": "compliance.flag"})


def flag_add(*, customer: Customer, flag: str, starts_at: datetime, ends_at: datetime | None = None,
             reason: str, acting_user: User | None, phone: str = "", source: str = "") -> DebtorFlag:
    """Record a flag on the debtor ``customer``, active on ``[starts_at, ends_at)`` (open when ``None``).

    The flag applies to every case of the customer and to the bank and every agency. A
    ``third_party_cease`` flag needs the third party's ``phone``. ``source`` says where it came from
    (e.g. ``"complaint:42"``). Raises :class:`ApplicationError` on invalid input.
    """
    _require_flag_right(acting_user, flag)
    if flag not in FlagKind.values:
        raise ApplicationError(_("Unknown flag."), code="flag.invalid", extra={"flag": flag})
    if timezone.is_naive(starts_at) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ApplicationError(_("Times must carry a time zone."), code="flag.naive")
    if ends_at is not None and ends_at <= starts_at:
        raise ApplicationError(_("The end must be after the start."), code="flag.empty_period")
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code="flag.no_reason")
    phone = (normalise_phone(phone) or "")[:32]
    if flag == FlagKind.THIRD_PARTY_CEASE and not phone:
        raise ApplicationError(_("Give the third party's phone number."), code="flag.no_phone")
    with transaction.atomic():
        row = DebtorFlag.objects.create(
            customer=customer, flag=flag, phone=phone, starts_at=starts_at, ends_at=ends_at,
            reason=reason[:500], source=source[:64], created_by=acting_user,
        )
        audit_log(actor=acting_user, action="compliance.flag_add", object_type="debtor_flag", object_id=row.pk,
                  new=snapshot(row, FLAG_FIELDS))
    return row


def flag_lift(*, flag: DebtorFlag, acting_user: User | None, reason: str,
              at: datetime | None = None) -> DebtorFlag:
    """End ``flag`` at ``at`` (now by default). Only compliance officers, collections managers or the system."""
    if not can_manage_flags(acting_user):
        raise PermissionDeniedError(_("Your role may not do this."), code="permission.denied",
                                    extra={"capability": "compliance.flag_lift"})
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code="flag.no_reason")
    when = at or timezone.now()
    with transaction.atomic():
        locked = DebtorFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.lifted_at is not None or (locked.ends_at is not None and locked.ends_at <= when):
            raise ConflictError(_("The flag has already ended."), code="flag.ended", extra={"flag_id": locked.pk})
        old = snapshot(locked, FLAG_FIELDS)
        # lifted before it starts: the row stays for the record and never applies (the selector
        # skips flags lifted at or before their start; the constraint wants ends_at > starts_at)
        locked.ends_at = when if when > locked.starts_at else locked.starts_at + timedelta(microseconds=1)
        locked.lifted_at = when
        locked.lifted_by = acting_user
        locked.lift_reason = reason[:500]
        locked.save(update_fields=["ends_at", "lifted_at", "lifted_by", "lift_reason"])
        audit_log(actor=acting_user, action="compliance.flag_lift", object_type="debtor_flag",
                  object_id=locked.pk, old=old, new=snapshot(locked, FLAG_FIELDS))
    flag.refresh_from_db()
    return locked

