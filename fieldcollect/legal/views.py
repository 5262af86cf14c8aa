"""Pages of the legal app: the legal dashboard (bank), a referral's page, a case's legal page (refer,
letters, alternate contacts), a letter's PDF, the contact-repair queue (失联修复) and the vendor-file
import. Thin: the rules are the services' and selectors'."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.cases.access import access_case_by_id, has_capability
from fieldcollect.core import params
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.core.pages import errors_as_messages, page_view, post_view, request_user
from fieldcollect.legal import charts, selectors, services
from fieldcollect.legal.errors import LegalErrorCode
from fieldcollect.legal.models import (
    AltContact,
    Consent,
    ContactKind,
    ContactSource,
    CostKind,
    EnforcementStatus,
    LegalReferral,
    Letter,
    LetterKind,
    ReferralKind,
    ReferralOutcome,
    Verification,
)
from fieldcollect.portfolio.charts import to_json

MAX_VENDOR_FILE = 5 * 1024 * 1024


def _texts(p: dict[str, Any], *names: str) -> dict[str, Any]:
    """The text parameters ``names`` of a parsed form, an empty string for one not given."""
    return {name: p[name] or "" for name in names}


@page_view
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    services.require_view_legal(user)
    data = selectors.legal_dashboard()
    referrals = list(selectors.referrals_list()[:200])
    return render(
        request,
        "legal/dashboard.html",
        {
            "rows": data["rows"],
            "total": data["total"],
            "referrals": referrals,
            "costs": data["costs"],
            "recovered": data["recovered"],
            "figures": {"legal": to_json(charts.cost_vs_recovered(data["rows"]))},
            "can_manage": services.can_manage_legal(user),
        },
    )


class UpdateParams(params.QueryForm):
    action = params.ChoiceParam(
        choices=[("update", "update"), ("hearing", "hearing"), ("cost", "cost"), ("close", "close")]
    )
    forum_case_number = params.TextParam(max_length=100)
    law_firm = params.TextParam(max_length=200)
    filed_on = params.DateParam()
    outcome = params.ChoiceParam(choices=ReferralOutcome.choices)
    judgement = params.YuanParam()
    enforcement = params.ChoiceParam(choices=EnforcementStatus.choices)
    enforcement_case_number = params.TextParam(max_length=100)
    hearing_on = params.DateParam()
    place = params.TextParam(max_length=200)
    notes = params.TextParam(max_length=500)
    kind = params.ChoiceParam(choices=CostKind.choices)
    amount = params.YuanParam()
    incurred_on = params.DateParam()


@page_view
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    user = request_user(request)
    services.require_view_legal(user)
    referral = LegalReferral.objects.select_related("case").filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    if request.method == "POST":
        require_role(services.can_manage_legal(user))
        p = UpdateParams.parse(request.POST)
        with errors_as_messages(request):
            if p["action"] == "hearing":
                if p["hearing_on"] is None:
                    raise ApplicationError(_("Give the hearing's date."), code=LegalErrorCode.HEARING_INVALID)
                at = timezone.make_aware(datetime.combine(p["hearing_on"], time(9, 0)))
                services.hearing_add(
                    referral=referral, at=at, place=p["place"] or "", notes=p["notes"] or "", acting_user=user
                )
            elif p["action"] == "cost":
                services.cost_add(
                    referral=referral,
                    kind=p["kind"] or "",
                    amount_fen=p["amount"] or 0,
                    incurred_on=p["incurred_on"],
                    note=p["notes"] or "",
                    acting_user=user,
                )
            elif p["action"] == "close":
                services.referral_update(referral=referral, acting_user=user, status="closed")
            else:
                changes = {
                    k: p[k] for k in ("forum_case_number", "law_firm", "enforcement_case_number") if p[k]
                }
                if p["filed_on"]:
                    changes["filed_on"] = p["filed_on"]
                if p["outcome"]:
                    changes["outcome"] = p["outcome"]
                if p["judgement"] is not None:
                    changes["judgement_fen"] = p["judgement"]
                if p["enforcement"]:
                    changes["enforcement"] = p["enforcement"]
                services.referral_update(referral=referral, acting_user=user, **changes)
            messages.success(request, _("Saved."))
        return redirect("legal:referral", referral_id=referral.pk)
    costs = list(referral.costs.all())
    recovered = selectors.referral_recovered_fen([referral]).get(referral.pk, 0)
    return render(
        request,
        "legal/referral.html",
        {
            "r": referral,
            "hearings": referral.hearings.all(),
            "costs": costs,
            "cost_total": sum(c.amount_fen for c in costs),
            "recovered": recovered,
            "can_manage": services.can_manage_legal(user) and referral.status != "closed",
            "outcomes": ReferralOutcome.choices,
            "enforcements": EnforcementStatus.choices,
            "cost_kinds": CostKind.choices,
        },
    )


class CaseParams(params.QueryForm):
    action = params.ChoiceParam(choices=[("refer", "refer"), ("letter", "letter"), ("contact", "contact")])
    kind = params.TextParam(max_length=20)
    forum = params.TextParam(max_length=200)
    law_firm = params.TextParam(max_length=200)
    lawyer = params.TextParam(max_length=100)
    forum_case_number = params.TextParam(max_length=100)
    claim = params.YuanParam()
    tracking_number = params.TextParam(max_length=64)
    value = params.TextParam(max_length=300)
    party = params.TextParam(max_length=20)
    label = params.TextParam(max_length=100)
    source = params.ChoiceParam(choices=ContactSource.choices)
    consent = params.ChoiceParam(choices=Consent.choices)


@page_view
def case_legal(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request_user(request)
    case = access_case_by_id(case_id, user, related=("customer", "loan"))
    bank = services.can_view_legal(user)
    if request.method == "POST":
        p = CaseParams.parse(request.POST)
        with errors_as_messages(request):
            if p["action"] == "refer":
                services.referral_create(
                    case=case,
                    claim_fen=p["claim"] if p["claim"] is not None else case.overdue_fen,
                    acting_user=user,
                    **_texts(p, "kind", "forum", "law_firm", "forum_case_number"),
                )
                messages.success(request, _("Referred; the case was recalled from its agency."))
            elif p["action"] == "letter":
                services.letter_send(
                    case=case, acting_user=user, **_texts(p, "kind", "law_firm", "lawyer", "tracking_number")
                )
                messages.success(request, _("Letter sent."))
            elif p["action"] == "contact":
                services.alt_contact_add(
                    case=case,
                    party=p["party"] or "debtor",
                    consent=p["consent"] or Consent.UNKNOWN,
                    source_ref="page",
                    acting_user=user,
                    **_texts(p, "kind", "value", "label", "source"),
                )
                messages.success(request, _("Contact recorded."))
        return redirect("legal:case", case_id=case.pk)
    referrals = list(selectors.referrals_of_case(case=case)) if bank else []
    return render(
        request,
        "legal/case.html",
        {
            "case": case,
            "bank": bank,
            "referrals": referrals,
            "letters": selectors.letters_of_case(case_id=case.pk),
            "contacts": selectors.alt_contacts_of_case(case=case),
            "can_refer": services.can_manage_legal(user)
            and case.closed_on is None
            and not any(r.status != "closed" for r in referrals),
            "can_letter": case.closed_on is None and has_capability(user, "case.contact"),
            "can_lawyer_letter": services.can_manage_legal(user),
            "can_contact": case.closed_on is None and has_capability(user, "case.contact"),
            "referral_kinds": ReferralKind.choices,
            "letter_kinds": LetterKind.choices,
            "contact_kinds": ContactKind.choices,
            "sources": ContactSource.choices,
            "consents": Consent.choices,
            "verifications": Verification.choices,
            "us": (case.loan.jurisdiction or "CN").upper() == "US",
        },
    )


def _letter_for(user: User, letter_id: int) -> Letter:
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        raise Http404
    access_case_by_id(letter.case_id, user, related=())  # 404 when the user may not see the case
    return letter


@page_view
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    user = request_user(request)
    letter = _letter_for(user, letter_id)
    pdf = services.letter_pdf(letter=letter, user=user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter.reference}.pdf"'
    return response


class TrackParams(params.QueryForm):
    status = params.ChoiceParam(choices=[("delivered", "delivered"), ("returned", "returned")])
    reason = params.TextParam(max_length=200)


@post_view
def letter_track(request: HttpRequest, letter_id: int) -> HttpResponse:
    user = request_user(request)
    letter = _letter_for(user, letter_id)
    p = TrackParams.parse(request.POST)
    with errors_as_messages(request):
        services.letter_track(
            letter=letter, status=p["status"] or "", reason=p["reason"] or "", acting_user=user
        )
    return redirect("legal:case", case_id=letter.case_id)


def _contact_for(user: User, alt_contact_id: int) -> AltContact:
    contact = AltContact.objects.filter(pk=alt_contact_id).first()
    if contact is None:
        raise Http404
    access_case_by_id(contact.case_id, user, related=())
    return contact


class RevealParams(params.QueryForm):
    purpose = params.TextParam(max_length=300)
    verification = params.ChoiceParam(choices=Verification.choices)
    consent = params.ChoiceParam(choices=Consent.choices)


@post_view
def contact_reveal(request: HttpRequest, alt_contact_id: int) -> HttpResponse:
    user = request_user(request)
    contact = _contact_for(user, alt_contact_id)
    p = RevealParams.parse(request.POST)
    value = services.alt_contact_reveal(contact=contact, user=user, purpose=p["purpose"] or "")
    advice = services.alt_contact_check(contact=contact)
    return render(
        request, "legal/contact_reveal.html", {"contact": contact, "value": value, "advice": advice}
    )


@post_view
def contact_verify(request: HttpRequest, alt_contact_id: int) -> HttpResponse:
    user = request_user(request)
    contact = _contact_for(user, alt_contact_id)
    p = RevealParams.parse(request.POST)
    with errors_as_messages(request):
        services.alt_contact_verify(
            contact=contact,
            verification=p["verification"] or "",
            consent=p["consent"] or None,
            acting_user=user,
        )
    return redirect("legal:case", case_id=contact.case_id)


@page_view
def repair_queue(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = selectors.repair_queue(user=user, today=timezone.localdate())
    for r in rows:
        r["labels"] = [str(selectors.REASON_LABELS.get(k, k)) for k in r["reasons"]]
    return render(request, "legal/repair.html", {"rows": rows, "can_import": services.can_manage_legal(user)})


@page_view
def vendor_import(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_role(services.can_manage_legal(user))
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
        elif upload.size is not None and upload.size > MAX_VENDOR_FILE:
            messages.error(request, _("The file is too large (at most 5 MB)."))
        else:
            report = services.vendor_import(
                content=upload.read(), name=(upload.name or "vendor.csv")[:100], acting_user=user
            )
    return render(request, "legal/vendor_import.html", {"report": report})
