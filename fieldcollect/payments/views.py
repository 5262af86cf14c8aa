"""The reconciliation page of payments and write-back: bank users only (404 for anyone else)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from fieldcollect.cases.access import access_case_by_id, has_capability
from fieldcollect.cases.models import PromiseToPay
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import page_view, post_view, request_user
from fieldcollect.payments import links
from fieldcollect.payments.errors import PaymentErrorCode
from fieldcollect.payments.models import CoreInstruction, PaymentEvent, PaymentLink, Reconciliation
from fieldcollect.payments.writeback import instruction_resend
from fieldcollect.plans.models import PlanInstalment, PlanStatus, ProposalState


class ResendForm(params.QueryForm):
    instruction = params.IdParam()


def _bank_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not user.is_bank_user:
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    return user


@page_view
def reconciliation(request: HttpRequest) -> HttpResponse:
    user = _bank_user(request)
    by_status = dict(
        CoreInstruction.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    statuses = [(value, label, by_status.get(value, 0)) for value, label in CoreInstruction.Status.choices]
    attention = CoreInstruction.objects.filter(
        status__in=[CoreInstruction.Status.REFUSED, CoreInstruction.Status.FAILED]
    ).order_by("-created_at")[:100]
    resent = set(CoreInstruction.objects.filter(attempt__gt=1).values_list("proposal_id", "attempt"))
    nights = Reconciliation.objects.all()[:30]
    events = dict(
        PaymentEvent.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return render(
        request,
        "payments/reconciliation.html",
        {
            "statuses": statuses,
            "attention": [(i, (i.proposal_id, i.attempt + 1) not in resent) for i in attention],
            "nights": nights,
            "latest": nights[0] if nights else None,
            "events": [(label, events.get(value, 0)) for value, label in PaymentEvent.Status.choices],
            "can_resend": user.role == Role.COLLECTIONS_MANAGER or user.is_superuser,
        },
    )


@post_view
def resend(request: HttpRequest) -> HttpResponse:
    user = _bank_user(request)
    if not (user.role == Role.COLLECTIONS_MANAGER or user.is_superuser):
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    pk = ResendForm.parse(request.POST)["instruction"]
    instruction = CoreInstruction.objects.filter(pk=pk).first() if pk else None
    if instruction is None:
        raise NotFoundError(_("Unknown instruction."), code=PaymentErrorCode.CORE_INSTRUCTION_NOT_FOUND)
    try:
        instruction_resend(instruction=instruction, acting_user=user)
        messages.success(request, _("The instruction will be sent again."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("payments:reconciliation")


class LinkForm(params.QueryForm):
    purpose = params.ChoiceParam(choices=PaymentLink.Purpose.choices)
    promise = params.IdParam()
    instalment = params.IdParam()


class ReceiptParams(params.QueryForm):
    link = params.IdParam()


@page_view
def case_links(request: HttpRequest, case_id: int) -> HttpResponse:
    """The repayment links of a case (QR codes for the customer to scan) and new ones."""
    user = request_user(request)
    case = access_case_by_id(case_id, user)
    may_create = has_capability(user, "case.promise")
    if request.method == "POST":
        if not may_create:
            raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
        form = LinkForm.parse(request.POST)
        promise = (
            PromiseToPay.objects.filter(pk=form["promise"], case=case).first() if form["promise"] else None
        )
        instalment = (
            PlanInstalment.objects.select_related("proposal").filter(pk=form["instalment"], case=case).first()
            if form["instalment"]
            else None
        )
        try:
            links.payment_link_create(
                case=case,
                acting_user=user,
                purpose=form["purpose"] or "case",
                promise=promise,
                instalment=instalment,
            )
            messages.success(request, _("The payment link was created."))
        except ApplicationError as exc:
            if exc.status_code == 404:
                raise
            messages.error(request, exc.message)
        return redirect("payments:case_links", case_id=case.pk)
    rows = [
        (link, mark_safe(links.link_qr(link).decode()) if link.status == PaymentLink.Status.OPEN else "")  # noqa: S308 (SVG made by segno from our own URL)
        for link in PaymentLink.objects.filter(case=case).select_related("event")[:50]
    ]
    return render(
        request,
        "payments/case_links.html",
        {
            "case": case,
            "rows": rows,
            "may_create": may_create,
            "promises": PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.OPEN),
            "instalments": PlanInstalment.objects.filter(
                case=case,
                paid_on__isnull=True,
                proposal__state=ProposalState.ACCEPTED,
                proposal__plan_status=PlanStatus.PERFORMING,
            ).order_by("seq")[:24],
        },
    )


@page_view
def case_receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    """The receipt (PDF) of a paid link of the case."""
    case = access_case_by_id(case_id, request_user(request))
    pk = ReceiptParams.parse(request.GET)["link"]
    link = (
        PaymentLink.objects.filter(pk=pk, case=case, status=PaymentLink.Status.PAID)
        .select_related("event")
        .first()
        if pk
        else None
    )
    if link is None or link.event is None:
        raise NotFoundError(_("Receipt not found."), code=PaymentErrorCode.PAYMENT_LINK_NOT_FOUND)
    resp = HttpResponse(links.receipt_pdf(link.event), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="receipt-{link.reference}.pdf"'
    return resp
