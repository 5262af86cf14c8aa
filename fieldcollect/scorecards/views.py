"""Agency selection and scorecard pages (bank roles; an agency manager sees its own scorecard only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.agencies.models import Agency
from fieldcollect.analytics.selection import DEFAULT_CRITERIA
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.pages import errors_as_messages, errors_as_pages, month_param, request_user
from fieldcollect.portfolio.charts import to_json
from fieldcollect.scorecards import charts, selectors, services
from fieldcollect.scorecards.access import (
    access_agency_by_id,
    is_manager,
    require_bank_viewer,
    require_manager,
)
from fieldcollect.scorecards.models import AgencyCandidate, StatusChange


@login_required
@errors_as_pages
def selection(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_bank_viewer(user)
    method = "topsis" if request.GET.get("method") == "topsis" else "weighted_score"
    ranked = selectors.ranking(method=method)
    weights = {c.name: c.weight for c in selectors.criteria()}
    total = sum(weights.values()) or 1.0
    rows = [(c, weights[c.name], weights[c.name] / total) for c in DEFAULT_CRITERIA]
    flat = [r for ra in ranked for r in ra.contributions]
    figure = to_json(charts.ranking_contributions(flat, [ra.agency.name for ra in ranked])) if ranked else None
    without_file = Agency.objects.exclude(status=Agency.Status.EXITED).exclude(
        pk__in=AgencyCandidate.objects.values("agency_id")).order_by("agency_id")
    return render(request, "scorecards/selection.html", {
        "ranked": ranked, "method": method, "weights": rows, "figure": figure, "can_edit": is_manager(user),
        "without_file": without_file,
    })


@login_required
@require_POST
@errors_as_pages
def weights(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_manager(user)
    values = {c.name: request.POST.get(c.name, "") for c in DEFAULT_CRITERIA if request.POST.get(c.name, "") != ""}
    with errors_as_messages(request, 400):
        services.weights_update(weights=values, acting_user=user)
        messages.success(request, _("Weights saved."))
    return redirect("scorecards:selection")


class InspectionParams(params.QueryForm):
    year = params.IntParam(min_value=1900, max_value=2999)
    inspected_on = params.DateParam()


@login_required
@errors_as_pages
def candidate(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = request_user(request)
    require_bank_viewer(user)
    agency = access_agency_by_id(agency_id, user)
    if request.method == "POST":
        require_manager(user)
        action = request.POST.get("action", "")
        try:
            if action == "file":
                values = {c.name: request.POST.get(c.name, "0") or "0" for c in selectors.FILE_CRITERIA}
                services.candidate_save(agency=agency, values=values, acting_user=user,
                                        notes=request.POST.get("notes", ""))
                messages.success(request, _("Selection file saved."))
            elif action == "inspection":
                p = InspectionParams.parse(request.POST)
                services.inspection_record(
                    agency=agency, year=p["year"] or timezone.localdate().year,
                    inspected_on=p["inspected_on"] or timezone.localdate(),
                    score=request.POST.get("score", ""), passed=request.POST.get("passed") == "on",
                    findings=request.POST.get("findings", ""), acting_user=user)
                messages.success(request, _("Inspection recorded."))
            elif action == "status":
                services.agency_set_status(agency=agency, target=request.POST.get("target", ""),
                                           reason=request.POST.get("reason", ""), acting_user=user)
                messages.success(request, _("Agency status changed."))
        except (ApplicationError, ValueError) as exc:
            if isinstance(exc, ApplicationError) and exc.status_code != 400:
                raise
            messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("scorecards:candidate", agency_id=agency.pk)
    file = AgencyCandidate.objects.filter(agency=agency).first()
    fields = [(c, getattr(file, c.name) if file else "") for c in selectors.FILE_CRITERIA]
    return render(request, "scorecards/candidate.html", {
        "agency": agency, "file": file, "fields": fields, "inspections": selectors.inspections_of(agency=agency),
        "changes": StatusChange.objects.filter(agency=agency).select_related("by")[:20],
        "targets": sorted(services.TRANSITIONS.get(agency.status, frozenset())),
        "statuses": dict(Agency.Status.choices), "can_edit": is_manager(user), "today": timezone.localdate(),
    })


@login_required
@errors_as_pages
def scorecard_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.is_bank_user and user.agency_id is not None:
        return redirect("scorecards:detail", agency_id=user.agency_id)
    require_bank_viewer(user)
    month = month_param(request)
    return render(request, "scorecards/scorecard_list.html", {
        "month": month, "cards": selectors.scorecards_for_month(month=month),
    })


@login_required
@errors_as_pages
def scorecard_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = request_user(request)
    agency = access_agency_by_id(agency_id, user)
    month = month_param(request)
    cards = selectors.scorecard_trend(agency=agency, month=month, months=6)
    card = cards[-1]
    figures = {"buckets": to_json(charts.recovery_vs_expected(card)), "trend": to_json(charts.trend(cards))}
    return render(request, "scorecards/scorecard_detail.html", {
        "card": card, "cards": cards, "month": month, "figures": figures, "agency": agency,
    })
