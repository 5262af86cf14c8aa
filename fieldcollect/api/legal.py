"""Letters, legal referrals and alternate contacts of a case under ``/cases/{case_id}/…``: thin; the case
is fetched through the permission-checked helper (404 for a case the caller may not see), the rules are
the legal services'."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
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
    fields_of,
)
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.cases.models import Case
from fieldcollect.core.errors import found_or_404
from fieldcollect.core.models import User
from fieldcollect.legal import selectors, services
from fieldcollect.legal.errors import LegalErrorCode
from fieldcollect.legal.models import AltContact, LegalReferral, Letter

router = Router(tags=["legal"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _case(request: HttpRequest, case_id: int) -> tuple[User, Case]:
    """The caller and the case, fetched through the permission-checked helper (404 when not visible)."""
    user = _user(request)
    return user, access_case_by_id(case_id, user, related=())


def _letter_out(x: Letter) -> dict[str, Any]:
    return fields_of(LetterOut, x)


def _contact_out(c: AltContact) -> dict[str, Any]:
    return fields_of(AltContactOut, c, value=selectors.mask_contact_value(c.kind, str(c.value)))


def _referral_out(r: LegalReferral) -> dict[str, Any]:
    return fields_of(ReferralOut, r, recalled_placement_id=r.placement_id)


@router.get(
    "/{case_id}/letters", response={200: list[LetterOut], **ERRORS}, summary="List the case's letters"
)
def list_letters(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    case = _case(request, case_id)[1]
    return [_letter_out(x) for x in selectors.letters_of_case(case_id=case.pk)[:200]]


@router.post("/{case_id}/letters", response={201: LetterOut, **ERRORS}, summary="Send a letter")
def send_letter(request: HttpRequest, case_id: int, payload: LetterIn) -> Status[dict[str, Any]]:
    """Send a demand letter, a lawyer's letter (bank collections manager, signed by ``law_firm``) or, for
    a US loan, the validation notice. The contact is checked by the compliance rules first: a refusal is
    422 with the rule ids and stored as a blocked attempt. Audited."""
    user, case = _case(request, case_id)
    return Status(201, _letter_out(services.letter_send(case=case, acting_user=user, **payload.model_dump())))


@router.post(
    "/{case_id}/letters/{letter_id}/delivery",
    response={200: LetterOut, **ERRORS},
    summary="Record a letter's delivery",
)
def track_letter(
    request: HttpRequest, case_id: int, letter_id: int, payload: LetterTrackIn
) -> dict[str, Any]:
    """Delivered, or returned with the reason (the case enters the contact-repair queue); once only (409)."""
    user, case = _case(request, case_id)
    letter = found_or_404(
        Letter.objects.filter(pk=letter_id, case=case).first(),
        "Letter not found.",
        code=LegalErrorCode.LETTER_NOT_FOUND,
        extra={"letter_id": letter_id},
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
    case = _case(request, case_id)[1]
    return [_contact_out(c) for c in selectors.alt_contact_rows(case=case)[:200]]


@router.post(
    "/{case_id}/alt-contacts", response={201: AltContactOut, **ERRORS}, summary="Add an alternate contact"
)
def add_alt_contact(request: HttpRequest, case_id: int, payload: AltContactIn) -> Status[dict[str, Any]]:
    """A phone, an address or an employer, with its source and consent (skip tracing, 失联修复). The
    same value twice is 409. A third party's contact serves only to locate the debtor. Audited."""
    user, case = _case(request, case_id)
    row = services.alt_contact_add(case=case, source_ref="api", acting_user=user, **payload.model_dump())
    return Status(201, _contact_out(row))


@router.get(
    "/{case_id}/legal-referrals",
    response={200: list[ReferralOut], **ERRORS},
    summary="List the case's legal referrals (bank staff)",
)
def list_referrals(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    user, case = _case(request, case_id)
    services.require_view_legal(user)
    return [_referral_out(r) for r in selectors.referrals_of_case(case=case)]


@router.post(
    "/{case_id}/legal-referrals",
    response={201: ReferralOut, **ERRORS},
    summary="Refer the case to litigation, arbitration or mediation",
)
def create_referral(request: HttpRequest, case_id: int, payload: ReferralIn) -> Status[dict[str, Any]]:
    """Bank collections manager only. Recalls the case from its agency (which owes a deletion
    attestation); the debtor is screened out of placement while the referral is active. 409 when the
    case already has an active referral. Audited."""
    user, case = _case(request, case_id)
    return Status(201, _referral_out(services.referral_create(case=case, acting_user=user, **payload.model_dump())))
