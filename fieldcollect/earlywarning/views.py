"""Pages for bank risk and collections roles: model cards, the early-warning list, experiments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.core import params
from fieldcollect.core.models import Role
from fieldcollect.core.pages import page_view, request_user
from fieldcollect.earlywarning import charts, selectors
from fieldcollect.earlywarning.services import strategy_run
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.portfolio.store import loan_history


def _allowed(request: HttpRequest) -> bool:
    return bool(getattr(request_user(request), "is_bank_user", False))


def _zh() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


@login_required
def models_index(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return redirect("cases:list")
    return render(request, "earlywarning/models.html", {"cards": selectors.model_cards()})


@login_required
def model_detail(request: HttpRequest, purpose: str, version: str | None = None) -> HttpResponse:
    if not _allowed(request):
        return redirect("cases:list")
    card = selectors.model_card(purpose, version)
    if card is None:
        raise Http404("no such model")
    zh = _zh()
    labels = {k: (v[0] if zh else v[1]) for k, v in card["feature_labels"].items()}
    figures = {"calibration": charts.to_json(charts.calibration(card["calibration_curve"]))}
    if card["drift"]:
        figures["drift"] = charts.to_json(charts.drift(card["drift"]))
    if card["characteristics"]:
        figures["csi"] = charts.to_json(charts.characteristics(card["characteristics"], labels))
    kinds = {"numeric": _("number"), "categorical": _("category")}
    features = [{"name": f, "label": labels.get(f, f), "kind": kinds.get(card["feature_kinds"].get(f, ""), "")}
                for f in card["features"]]
    for c in card["characteristics"]:
        c["label"] = labels.get(c["name"], c["name"])
    versions: list[dict[str, object]] = next(
        (c["versions"] for c in selectors.model_cards() if c["purpose"] == purpose), [])
    return render(request, "earlywarning/model.html", {"card": card, "figures": figures, "features": features,
                                                       "versions": versions})


class ListParams(params.QueryForm):
    as_of = params.DateParam()
    city = params.TextParam(max_length=64)
    bucket = params.TextParam(max_length=16)
    band = params.TextParam(max_length=16)
    page = params.IntParam(min_value=1, max_value=10**9)


class StrategyParams(params.QueryForm):
    treatment = params.TextParam(max_length=32)
    city = params.TextParam(max_length=64)
    page = params.IntParam(min_value=1, max_value=10**9)


@page_view
def warning_list(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return redirect("cases:list")
    p = ListParams.parse(request.GET)
    wl = selectors.latest_list(p["as_of"])
    ctx: dict[str, object] = {"wl": wl, "zh": _zh()}
    if wl is not None:
        city, bucket, band = p["city"], p["bucket"], p["band"]
        page = Paginator(selectors.list_entries(wl, city=city, bucket=bucket, band=band), 50).get_page(p["page"])
        ctx |= {"page": page, "filters": selectors.list_filters(wl), "city": city, "bucket": bucket, "band": band,
                "reminders": selectors.reminder_counts(wl),
                "figures": {"histogram": charts.to_json(charts.score_histogram(wl.summary.get("histogram", [])))}
                if wl.summary.get("histogram") else {}}
    return render(request, "earlywarning/list.html", ctx)


@login_required
def experiments(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return redirect("cases:list")
    results = selectors.experiment_results()
    figures = {f"uplift-{i}": charts.to_json(charts.uplift(r["arms"])) for i, r in enumerate(results) if r["arms"]}
    return render(request, "earlywarning/experiments.html", {"results": results, "figures": figures})


@page_view
def strategy(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return redirect("cases:list")
    user = request_user(request)
    can_run = user.is_superuser or user.role in (Role.COLLECTIONS_MANAGER, Role.RISK_ANALYST)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        last = DailyRun.objects.filter(cases_synced=True).order_by("-as_of").first()
        run = strategy_run(as_of=last.as_of if last else timezone.localdate(), actor=user)
        messages.success(request, _("Strategy chosen for %(n)s cases.") % {"n": run.cases})
        return redirect("earlywarning:strategy")
    run = selectors.latest_strategy_run()
    ctx: dict[str, object] = {"run": run, "zh": _zh(), "can_run": can_run}
    if run is not None:
        p = StrategyParams.parse(request.GET)
        treatment, city = p["treatment"], p["city"]
        qs = run.assignments.all()
        if treatment:
            qs = qs.filter(treatment=treatment)
        if city:
            qs = qs.filter(city=city)
        ctx |= {"page": Paginator(qs.order_by("-value_fen", "id"), 50).get_page(p["page"]),
                "treatment": treatment, "city": city,
                "cities": sorted(set(run.assignments.values_list("city", flat=True))),
                "mix": list(run.summary.get("mix", {}).items()), "usage": run.summary.get("usage", []),
                "figures": {"mix": charts.to_json(charts.treatment_mix(run.summary.get("mix", {})))}}
    return render(request, "earlywarning/strategy.html", ctx)


@login_required
def loan(request: HttpRequest, loan_id: int) -> HttpResponse:
    """A listed loan: its reasons, reminders, schedule and payments (from the columnar store)."""
    if not _allowed(request):
        return redirect("cases:list")
    entries = selectors.loan_entries(loan_id)
    history = loan_history(loan_id)
    if not entries and history is None:
        raise Http404("no such loan")
    return render(request, "earlywarning/loan.html", {
        "loan_id": loan_id, "entries": entries, "entry": entries[0] if entries else None, "history": history,
        "reminders": selectors.loan_reminders(loan_id), "zh": _zh()})
