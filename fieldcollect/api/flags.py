"""Debtor flag endpoints (pauses, consent, third-party stops) under ``/cases/{case_id}/flags``: thin; the
case is fetched through the permission-checked helper, the role rules are the compliance service's
(:func:`fieldcollect.compliance.services.flag_add` and ``flag_lift``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.responses import Status

from fieldcollect.api.schemas import ERRORS, DebtorFlagOut, FlagIn, FlagLiftIn, FlagPageOut
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.compliance import selectors, services
from fieldcollect.compliance.errors import ComplianceErrorCode
from fieldcollect.compliance.models import DebtorFlag, FlagKind
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import User
from fieldcollect.privacy.masking import mask_mobile

router = Router(tags=["compliance"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _flag_out(flag: DebtorFlag, *, clear: bool, now: datetime) -> dict[str, Any]:
    return {
        "id": flag.pk, "flag": flag.flag,
        "label": str(FlagKind(flag.flag).label) if flag.flag in FlagKind.values else flag.flag,
        "phone": flag.phone if clear or not flag.phone else mask_mobile(flag.phone),
        "starts_at": flag.starts_at, "ends_at": flag.ends_at,
        "active": flag.starts_at <= now and (flag.ends_at is None or now < flag.ends_at),
        "reason": flag.reason, "source": flag.source, "created_by_id": flag.created_by_id,
        "created_at": flag.created_at, "lifted_by_id": flag.lifted_by_id, "lifted_at": flag.lifted_at,
        "lift_reason": flag.lift_reason,
    }


@router.get("/{case_id}/flags", response={200: FlagPageOut, **ERRORS}, summary="List the debtor's flags")
def list_flags(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """Every flag of the case's debtor (all their cases), newest first, lifted ones included."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    can_manage = services.can_manage_flags(user)
    now = timezone.now()
    return {"items": [_flag_out(f, clear=can_manage, now=now)
                      for f in selectors.customer_flags(customer_id=case.customer_id)],
            "can_manage": can_manage}


@router.post("/{case_id}/flags", response={201: DebtorFlagOut, **ERRORS}, summary="Add a flag to the debtor")
def add_flag(request: HttpRequest, case_id: int, payload: FlagIn) -> Status[dict[str, Any]]:
    """Record a flag on the case's debtor from ``starts_at`` (now by default). A restrictive flag
    (complaint, dispute, cease, attorney, deceased, third_party_cease) pauses or limits contact at once
    for the bank and every agency; any role that works cases may add one. Audited."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=("customer",))
    flag = services.flag_add(customer=case.customer, flag=payload.flag, starts_at=payload.starts_at or timezone.now(),
                             ends_at=payload.ends_at, reason=payload.reason, acting_user=user, phone=payload.phone,
                             source=f"api:case:{case.pk}")
    return Status(201, _flag_out(flag, clear=services.can_manage_flags(user), now=timezone.now()))


@router.post("/{case_id}/flags/{flag_id}/lift", response={200: DebtorFlagOut, **ERRORS}, summary="Lift a flag")
def lift_flag(request: HttpRequest, case_id: int, flag_id: int, payload: FlagLiftIn) -> dict[str, Any]:
    """End a flag now (bank compliance officers and collections managers only; else 403). A flag that
    has already ended is 409 ``flag.ended``. Audited."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    flag = DebtorFlag.objects.filter(pk=flag_id, customer_id=case.customer_id).first()
    if flag is None:
        raise NotFoundError("Flag not found.", code=ComplianceErrorCode.FLAG_NOT_FOUND, extra={"flag_id": flag_id})
    lifted = services.flag_lift(flag=flag, acting_user=user, reason=payload.reason)
    return _flag_out(lifted, clear=services.can_manage_flags(user), now=timezone.now())
