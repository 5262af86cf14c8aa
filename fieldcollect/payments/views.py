"""The reconciliation page of payments and write-back: bank users only (404 for anyone else)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import errors_as_pages, request_user
from fieldcollect.payments.models import CoreInstruction, PaymentEvent, Reconciliation
from fieldcollect.payments.writeback import instruction_resend


class ResendForm(params.QueryForm):
    instruction = params.IdParam()


def _bank_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not user.is_bank_user:
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    return user


@login_required
@errors_as_pages
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


@login_required
@require_POST
@errors_as_pages
def resend(request: HttpRequest) -> HttpResponse:
    user = _bank_user(request)
    if not (user.role == Role.COLLECTIONS_MANAGER or user.is_superuser):
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    pk = ResendForm.parse(request.POST)["instruction"]
    instruction = CoreInstruction.objects.filter(pk=pk).first() if pk else None
    if instruction is None:
        raise NotFoundError(_("Unknown instruction."), code="core_instruction.not_found")
    try:
        instruction_resend(instruction=instruction, acting_user=user)
        messages.success(request, _("The instruction will be sent again."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("payments:reconciliation")
