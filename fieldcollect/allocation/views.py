"""Allocation run pages (bank roles read; the collections manager runs and applies)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.allocation import selectors, services
from fieldcollect.allocation.models import AllocationRun
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.pages import errors_as_messages, errors_as_pages, request_user
from fieldcollect.scorecards.access import is_manager, require_bank_viewer, require_manager

PAGE = 200


@login_required
@errors_as_pages
def run_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_bank_viewer(user)
    return render(request, "allocation/run_list.html", {
        "runs": selectors.run_list()[:50], "can_run": is_manager(user), "today": timezone.localdate(),
        "unplaced": selectors.open_unplaced_cases().count(),
    })


class RunParams(params.QueryForm):
    as_of = params.DateParam()
    holdout_share = params.ShareParam()
    seed = params.IntParam(min_value=0, max_value=2**32 - 1)
    max_share = params.ShareParam()


@login_required
@require_POST
@errors_as_pages
def run_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_manager(user)
    try:
        p = RunParams.parse(request.POST)
        max_share = p["max_share"]
        run = services.allocation_run_create(as_of=p["as_of"] or timezone.localdate(), acting_user=user,
                                             holdout_share=float(p["holdout_share"] or 0), seed=p["seed"] or 0,
                                             max_share=None if max_share is None else float(max_share))
    except (ValueError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code != 400:
            raise
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("allocation:list")
    messages.success(request, _("Allocation computed. Review it, then apply it."))
    return redirect("allocation:detail", run_id=run.pk)


class DetailParams(params.QueryForm):
    agency = params.IdParam()
    case = params.IdParam()
    holdout = params.ChoiceParam(choices=[("", "all"), ("1", "held out"), ("0", "placed")])


@login_required
@errors_as_pages
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    user = request_user(request)
    require_bank_viewer(user)
    run = get_object_or_404(AllocationRun, pk=run_id)
    p = DetailParams.parse(request.GET)
    decisions = selectors.run_decisions(run=run, agency_id=p["agency"], holdout={"1": True, "0": False}.get(p["holdout"]),
                                        case_id=p["case"])
    total = decisions.count()
    return render(request, "allocation/run_detail.html", {
        "run": run, "summary": selectors.run_agency_summary(run=run), "decisions": decisions[:PAGE],
        "screened": selectors.run_screened(run=run, case_id=p["case"])[:PAGE],
        "held": selectors.run_held(run=run, case_id=p["case"])[:PAGE],
        "total": total, "page": PAGE, "can_apply": is_manager(user) and run.status == AllocationRun.Status.DRAFT,
        "uplift_pct": (100 * run.uplift_fen / run.greedy_objective_fen) if run.greedy_objective_fen > 0 else None,
        "gap_pct": (100 * run.gap_fen / run.dual_fen) if run.dual_fen > 0 else None,
    })


@login_required
@require_POST
@errors_as_pages
def run_apply(request: HttpRequest, run_id: int) -> HttpResponse:
    user = request_user(request)
    require_manager(user)
    run = get_object_or_404(AllocationRun, pk=run_id)
    with errors_as_messages(request, 400):
        placed = services.allocation_run_apply(run=run, acting_user=user)
        messages.success(request, _("%(n)d cases placed.") % {"n": placed})
    return redirect("allocation:detail", run_id=run.pk)
