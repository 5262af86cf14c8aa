"""The batch actions page: select cases by the case list's filters or an uploaded list, then assign,
recall or retain them (:mod:`fieldcollect.cases.batch`); batches beyond the contract wait for a second
person's approval here."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.cases import batch, forms, selectors
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import BatchAction
from fieldcollect.cases.selectors import CaseFilters
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, NotFoundError, found_or_404
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import errors_as_messages, page_view, post_view, request_user
from fieldcollect.core.visibility import sees_agency

BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]


class BatchParams(params.QueryForm):
    kind = params.ChoiceParam(choices=BatchAction.Kind.choices, required=True)
    source = params.ChoiceParam(choices=[("filter", "filter"), ("file", "file")])
    reason = params.TextParam(max_length=300)
    collector = params.IdParam()
    days = params.IntParam(min_value=1, max_value=366)


class DecideParams(params.QueryForm):
    decision = params.ChoiceParam(
        choices=[("approve", "approve"), ("reject", "reject"), ("withdraw", "withdraw")], required=True
    )
    note = params.TextParam(max_length=300)


def _may_view(user: User) -> bool:
    return sees_agency(user)


def _page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    user = request_user(request)
    filters = forms.CaseListParams.filters(request.GET)
    ctx: dict[str, Any] = {
        "batches": batch.batches_visible_to(user)[:100],
        "can_batch": batch.may_batch(user),
        "params": request.GET,
        "buckets": BUCKETS,
        "kinds": BatchAction.Kind.choices,
        "max_cases": batch.MAX_CASES,
        "is_agency": user.role == Role.AGENCY_MANAGER,
    }
    if filters != CaseFilters():
        ctx["matching"] = selectors.case_queryset(user=user, filters=filters).count()
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        ctx["collectors"] = Collector.objects.filter(agency_id=user.agency_id, active=True).order_by(
            "collector_id"
        )[:500]
    return render(request, "cases/batch.html", ctx, status=status)


@page_view
def batch_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not _may_view(user):
        raise NotFoundError(_("Page not found."), code=CaseErrorCode.BATCH_NOT_FOUND)
    return _page(request)


@post_view
def batch_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not _may_view(user):
        raise NotFoundError(_("Page not found."), code=CaseErrorCode.BATCH_NOT_FOUND)
    batch.require_batch_user(user)
    p = BatchParams.parse(request.POST)
    if p["source"] == "file":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file with case ids."))
            return redirect("cases:batch")
        ids, errors = batch.parse_case_list(upload.name or "cases.csv", upload.read(batch.MAX_FILE_BYTES + 1))
        for e in errors[:20]:
            messages.error(request, str(e))
        if not ids:
            return redirect("cases:batch")
        selection = f"file {upload.name}"[:300]
    else:
        filters = forms.CaseListParams.filters(request.POST)
        if filters == CaseFilters():
            messages.error(request, _("Choose at least one filter (or upload a list)."))
            return redirect("cases:batch")
        ids = list(
            selectors.case_queryset(user=user, filters=filters).values_list("id", flat=True)[
                : batch.MAX_CASES + 1
            ]
        )
        selection = "filter " + "&".join(
            f"{k}={v}" for k, v in request.POST.items() if k in forms.CaseListParams.base_fields and v
        )
    collector = None
    if p["collector"] is not None and user.agency_id is not None:
        collector = Collector.objects.filter(pk=p["collector"], agency_id=user.agency_id).first()
        if collector is None:
            messages.error(request, _("Collector not found."))
            return redirect("cases:batch")
    elif p["collector"] is not None:
        messages.error(request, _("Collector not found."))
        return redirect("cases:batch")
    try:
        made = batch.batch_create(
            kind=p["kind"],
            case_ids=ids,
            acting_user=user,
            reason=p["reason"],
            selection=selection,
            collector=collector,
            days=p["days"],
        )
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        messages.error(request, exc.message)
        return redirect("cases:batch")
    if made.state == BatchAction.State.PENDING:
        messages.success(request, _("The batch goes beyond the contract: a second person must approve it."))
    else:
        messages.success(
            request,
            _("Batch applied: %(ok)d done, %(failed)d refused.")
            % {"ok": made.applied, "failed": made.failed},
        )
    return redirect("cases:batch_detail", batch_id=made.pk)


def _batch(request: HttpRequest, batch_id: int) -> BatchAction:
    found = found_or_404(batch.batches_visible_to(request_user(request)).filter(pk=batch_id).first(),
                         _("Batch not found."), code=CaseErrorCode.BATCH_NOT_FOUND)
    return found


@page_view
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = request_user(request)
    b = _batch(request, batch_id)
    outcomes = sorted(b.outcomes.items(), key=lambda kv: int(kv[0]))
    return render(
        request,
        "cases/batch_detail.html",
        {
            "b": b,
            "outcomes": outcomes[:2000],
            "user_id": user.pk,
            "can_check": (user.role in batch.CHECKER_ROLES or user.is_superuser) and b.made_by_id != user.pk,
        },
    )


@post_view
def batch_decide(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = request_user(request)
    b = _batch(request, batch_id)
    p = DecideParams.parse(request.POST)
    with errors_as_messages(request, 400, 403, 409):
        batch.batch_decide(batch=b, decision=p["decision"], acting_user=user, note=p["note"])
        messages.success(request, _("Decision recorded."))
    return redirect("cases:batch_detail", batch_id=b.pk)
