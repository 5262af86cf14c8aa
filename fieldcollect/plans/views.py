"""Plan pages: the collector's option comparison, the approval queue, a plan's page, and the customer's
acceptance page reached through a signed, expiring link (no account). Thin views over access
helpers, selectors and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fieldcollect.accounts.login_security import client_ip
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.core.errors import ApplicationError, NotFoundError
from fieldcollect.core.link_pages import behind_link, refused_page
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import page_view, post_view
from fieldcollect.core.pages import request_user as _user
from fieldcollect.plans import forms, links, selectors, services
from fieldcollect.plans.models import OPEN_STATES, PlanAgreement, ProposalState, RestructuringProposal
from fieldcollect.plans.options import LABELS, OptionKind, compare_options
from fieldcollect.privacy.masking import mask_name


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields and form.fields[field].label else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


# ---------------------------------------------------------------- collector: options


@page_view
def case_options(request: HttpRequest, case_id: int) -> HttpResponse:
    """The options for a case in hardship, side by side (stacked on a phone), with a propose button."""
    user = _user(request)
    case = access_case_by_id(case_id, user)
    hardship = selectors.current_hardship(case=case)
    ctx: dict[str, Any] = {
        "case": case,
        "hardship": hardship,
        "hardship_form": forms.HardshipForm(),
        "can_record": selectors.can_record_hardship(user, case),
        "can_propose": selectors.can_propose_plan(user, case),
        "open_proposal": selectors.proposals_for_case(case=case).filter(state__in=[s.value for s in OPEN_STATES])
        .first(),
        "proposals": selectors.proposals_for_case(case=case)[:10],
    }
    if hardship is not None:
        try:
            position, options = selectors.case_options(case=case, hardship=hardship, as_of=timezone.localdate())
        except ValueError as exc:
            ctx["position_error"] = str(exc)
        else:
            rows = compare_options(options)
            best = max((r for r in rows if r.kind.value != "current" and r.affordable is not False),
                       key=lambda r: r.expected_recovery_fen or 0, default=None)
            ctx.update({"position": position, "rows": rows, "best_kind": best.kind.value if best else "",
                        "infeasible": options.infeasible, "policy": options.policy,
                        "cap": options.policy.affordable_instalment_fen(position)})
    return render(request, "plans/case_options.html", ctx)


@post_view
def hardship_create(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.contact")
    form = forms.HardshipForm(request.POST)
    if form.is_valid():
        try:
            services.hardship_record(case=case, acting_user=user, reason=form.cleaned_data["reason"],
                                     monthly_income_fen=form.fen("monthly_income"),
                                     monthly_expenses_fen=form.fen("monthly_expenses"),
                                     detail=form.cleaned_data["detail"])
            messages.success(request, _("Hardship recorded."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors(request, form)
    return redirect(reverse("plans:options", args=[case.pk]))


@post_view
def propose(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.contact")
    form = forms.ProposeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(reverse("plans:options", args=[case.pk]))
    try:
        p = services.plan_propose(case=case, acting_user=user, kind=form.cleaned_data["kind"],
                                  note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("plans:options", args=[case.pk]))
    messages.success(request, _("Plan proposed; it now waits for your agency manager's endorsement."))
    return redirect(reverse("plans:detail", args=[p.pk]))


# ---------------------------------------------------------------- checkers: queue and plan page


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Agency manager: proposals to endorse. Bank approver: endorsed and escalated plans to decide,
    approved ones to offer, offers awaiting the customer."""
    user = _user(request)
    items = selectors.approval_queue(user=user)
    level = selectors.approver_level(user)
    limit = selectors.authority_matrix().limit_for(level) if level else None
    return render(request, "plans/queue.html", {"items": items, "level": level, "limit": limit,
                                                "is_endorser": user.role == Role.AGENCY_MANAGER})


@page_view
def detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    user = _user(request)
    p = selectors.access_proposal_by_id(proposal_id, user)
    agreement = PlanAgreement.objects.filter(proposal=p).first()
    # the customer's link went to the customer by SMS (outbox): no staff page shows it
    return render(request, "plans/detail.html", {
        "p": p, "events": p.events.select_related("actor"), "agreement": agreement,
        "instalments": p.instalments.all() if p.state == ProposalState.ACCEPTED else None,
        "can_endorse": user.role == Role.AGENCY_MANAGER and p.state == ProposalState.PROPOSED,
        "can_decide": selectors.approver_level(user) is not None
        and p.state in (ProposalState.ENDORSED, ProposalState.ESCALATED),
        "can_offer": selectors.approver_level(user) is not None and p.state == ProposalState.APPROVED,
    })


def _act(request: HttpRequest, proposal_id: int, form_class: type[Any],
         do: Callable[[RestructuringProposal, User, Any], str]) -> HttpResponse:
    user = _user(request)
    try:
        p = selectors.access_proposal_by_id(proposal_id, user)
    except NotFoundError as exc:
        return render(request, "error.html", {"message": exc.message}, status=404)
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            messages.success(request, do(p, user, form.cleaned_data))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(reverse("plans:detail", args=[proposal_id]))


@login_required
@require_POST
def endorse(request: HttpRequest, proposal_id: int) -> HttpResponse:
    def do(p: RestructuringProposal, user: User, d: dict[str, Any]) -> str:
        ok = d["decision"] == "endorse"
        services.plan_endorse(proposal=p, acting_user=user, endorse=ok, note=d["note"],
                              expected_version=d["version"])
        return _("Plan endorsed.") if ok else _("Plan rejected.")

    return _act(request, proposal_id, forms.EndorseForm, do)


@login_required
@require_POST
def decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    def do(p: RestructuringProposal, user: User, d: dict[str, Any]) -> str:
        services.plan_decide(proposal=p, acting_user=user, decision=d["decision"], note=d["note"],
                             expected_version=d["version"])
        return {"approve": _("Plan approved."), "reject": _("Plan rejected."),
                "escalate": _("Plan escalated.")}[d["decision"]]

    return _act(request, proposal_id, forms.DecideForm, do)


@login_required
@require_POST
def offer(request: HttpRequest, proposal_id: int) -> HttpResponse:
    def do(p: RestructuringProposal, user: User, d: dict[str, Any]) -> str:
        sent = services.plan_offer(proposal=p, acting_user=user)
        return _("Offer sent. The customer's link is valid until %(date)s.") % {
            "date": timezone.localtime(sent.agreement.expires_at).strftime("%Y-%m-%d %H:%M")}

    return _act(request, proposal_id, forms._Base, do)


# ---------------------------------------------------------------- customer: signed link


def _refused(request: HttpRequest, exc: links.LinkError) -> HttpResponse:
    return refused_page(request, exc, template="plans/link_refused.html", invalid_status=400)


_behind_agreement_link = behind_link(services.agreement_from_token, _refused)


@never_cache
@_behind_agreement_link
def customer_offer(request: HttpRequest, token: str, agreement: PlanAgreement) -> HttpResponse:
    """The customer's page: the new schedule, the PDF, accept or decline (phone first, zh-Hans first)."""
    p = agreement.proposal
    label_zh, label_en = LABELS[OptionKind(p.kind)]
    return render(request, "plans/customer_offer.html", {
        "loan_ref": p.case.loan_id, "option_zh": label_zh, "option_en": label_en,
        "agreement": agreement, "p": p, "token": token, "schedule": services.schedule_from_json(p),
        "masked_name": mask_name(p.case.customer.name),
        "accept_form": forms.AcceptForm(), "decline_form": forms.DeclineForm(),
        "answered": p.state != ProposalState.OFFERED,
    })


def _customer_answers(request: HttpRequest, token: str, answer: Callable[[], object], *,
                      accepted: bool) -> HttpResponse:
    """The customer's answer to the offer (``answer``: the service recording it): the closing page, the
    refused-link page, or back to the offer with the refusal."""
    try:
        answer()
    except links.LinkError as exc:
        return _refused(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("plans:customer", args=[token]))
    return render(request, "plans/customer_done.html", {"accepted": accepted})


@never_cache
@require_POST
def customer_accept(request: HttpRequest, token: str) -> HttpResponse:
    form = forms.AcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please tick the box to confirm that you accept the agreement."))
        return redirect(reverse("plans:customer", args=[token]))
    return _customer_answers(request, token, lambda: services.plan_accept(
        token=token, client_ip=(client_ip(request) or "")[:45]), accepted=True)


@never_cache
@require_POST
def customer_decline(request: HttpRequest, token: str) -> HttpResponse:
    form = forms.DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _customer_answers(request, token, lambda: services.plan_decline(token=token, reason=reason),
                             accepted=False)


@never_cache
@_behind_agreement_link
def customer_pdf(request: HttpRequest, token: str, agreement: PlanAgreement) -> HttpResponse:
    response = HttpResponse(bytes(agreement.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{agreement.agreement_no}.pdf"'
    response["X-Content-SHA256"] = agreement.sha256
    return response
