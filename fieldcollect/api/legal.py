"""Letters, legal referrals and alternate contacts of a case under ``/cases/{case_id}/…``: thin; the case
is fetched through the permission-checked helper (404 for a case the caller may not see), the rules are
the legal services'."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.responses import Status

from fieldcollect.api.schemas import (
    ERRORS,
    AltContactIn,
    AltContactOut,
    LetterIn,
    LetterOut,
    LetterTrackIn,
    ReferralIn,
    ReferralOut,
)
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.core.errors import CommonErrorCode, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import User
from fieldcollect.legal import selectors, services
from fieldcollect.legal.errors import LegalErrorCode
from fieldcollect.legal.models import AltContact, LegalReferral, Letter

router = Router(tags=["legal"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _letter_out(x: Letter) -> dict[str, Any]:
    return {
        "id": x.pk,
        "case_id": x.case_id,
        "kind": x.kind,
        "reference": x.reference,
        "status": x.status,
        "law_firm": x.law_firm,
        "contact_id": x.contact_id,
        "sha256": x.sha256,
        "tracking_number": x.tracking_number,
        "sent_at": x.sent_at,
        "delivered_at": x.delivered_at,
        "returned_at": x.returned_at,
        "return_reason": x.return_reason,
        "facts": x.facts,
    }


def _contact_out(c: AltContact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "kind": c.kind,
        "party": c.party,
        "value": selectors.mask_contact_value(c.kind, str(c.value)),
        "label": c.label,
        "source": c.source,
        "consent": c.consent,
        "verification": c.verification,
        "created_at": c.created_at,
    }


def _referral_out(r: LegalReferral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "case_id": r.case_id,
        "kind": r.kind,
        "status": r.status,
        "law_firm": r.law_firm,
        "forum": r.forum,
        "forum_case_number": r.forum_case_number,
        "claim_fen": r.claim_fen,
        "referred_on": r.referred_on,
        "outcome": r.outcome,
        "judgement_fen": r.judgement_fen,
        "enforcement": r.enforcement,
        "recalled_placement_id": r.placement_id,
    }


@router.get(
    "/{case_id}/letters", response={200: list[LetterOut], **ERRORS}, summary="List the case's letters"
)
def list_letters(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    case = access_case_by_id(case_id, _user(request), related=())
    return [_letter_out(x) for x in selectors.letters_of_case(case_id=case.pk)[:200]]


@router.post("/{case_id}/letters", response={201: LetterOut, **ERRORS}, summary="Send a letter")
def send_letter(request: HttpRequest, case_id: int, payload: LetterIn) -> Status[dict[str, Any]]:
    """Send a demand letter, a lawyer's letter (bank collections manager, signed by ``law_firm``) or, for
    a US loan, the validation notice. The contact is checked by the compliance rules first: a refusal is
    422 with the rule ids and stored as a blocked attempt. Audited."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    letter = services.letter_send(
        case=case,
        kind=payload.kind,
        law_firm=payload.law_firm,
        lawyer=payload.lawyer,
        tracking_number=payload.tracking_number,
        at=payload.at or timezone.now(),
        itemization=payload.itemization,
        acting_user=user,
    )
    return Status(201, _letter_out(letter))


@router.post(
    "/{case_id}/letters/{letter_id}/delivery",
    response={200: LetterOut, **ERRORS},
    summary="Record a letter's delivery",
)
def track_letter(
    request: HttpRequest, case_id: int, letter_id: int, payload: LetterTrackIn
) -> dict[str, Any]:
    """Delivered, or returned with the reason (the case enters the contact-repair queue); once only (409)."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    letter = Letter.objects.filter(pk=letter_id, case=case).first()
    if letter is None:
        raise NotFoundError(
            "Letter not found.", code=LegalErrorCode.LETTER_NOT_FOUND, extra={"letter_id": letter_id}
        )
    return _letter_out(
        services.letter_track(
            letter=letter, status=payload.status, reason=payload.reason, at=payload.at, acting_user=user
        )
    )


@router.get(
    "/{case_id}/alt-contacts",
    response={200: list[AltContactOut], **ERRORS},
    summary="List the debtor's alternate contacts (masked)",
)
def list_alt_contacts(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    case = access_case_by_id(case_id, _user(request), related=())
    return [
        _contact_out(c)
        for c in AltContact.objects.filter(customer_id=case.customer_id).order_by("-created_at", "-id")[:200]
    ]


@router.post(
    "/{case_id}/alt-contacts", response={201: AltContactOut, **ERRORS}, summary="Add an alternate contact"
)
def add_alt_contact(request: HttpRequest, case_id: int, payload: AltContactIn) -> Status[dict[str, Any]]:
    """A phone, an address or an employer, with its source and consent (skip tracing, 失联修复). The
    same value twice is 409. A third party's contact serves only to locate the debtor. Audited."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    row = services.alt_contact_add(
        case=case,
        kind=payload.kind,
        value=payload.value,
        party=payload.party,
        label=payload.label,
        source=payload.source,
        consent=payload.consent,
        source_ref="api",
        acting_user=user,
    )
    return Status(201, _contact_out(row))


@router.get(
    "/{case_id}/legal-referrals",
    response={200: list[ReferralOut], **ERRORS},
    summary="List the case's legal referrals (bank staff)",
)
def list_referrals(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    if not services.can_view_legal(user):
        raise PermissionDeniedError(
            "Only bank staff may see legal matters.", code=CommonErrorCode.PERMISSION_DENIED
        )
    return [_referral_out(r) for r in LegalReferral.objects.filter(case=case).order_by("-referred_on", "-id")]


@router.post(
    "/{case_id}/legal-referrals",
    response={201: ReferralOut, **ERRORS},
    summary="Refer the case to litigation, arbitration or mediation",
)
def create_referral(request: HttpRequest, case_id: int, payload: ReferralIn) -> Status[dict[str, Any]]:
    """Bank collections manager only. Recalls the case from its agency (which owes a deletion
    attestation); the debtor is screened out of placement while the referral is active. 409 when the
    case already has an active referral. Audited."""
    user = _user(request)
    case = access_case_by_id(case_id, user, related=())
    referral = services.referral_create(
        case=case,
        kind=payload.kind,
        forum=payload.forum,
        claim_fen=payload.claim_fen,
        law_firm=payload.law_firm,
        forum_case_number=payload.forum_case_number,
        acting_user=user,
    )
    return Status(201, _referral_out(referral))
