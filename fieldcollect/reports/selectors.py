"""Reads for the dashboards and the management report.

Every read takes a :class:`Scope`: the whole bank (``agency_id=None``, bank roles) or one agency (an
agency manager sees its own agency only). Figures from apps that other teams own are read only when
those apps are present (compliance's ``BlockedAttempt``, complaints' ``complaints_per_10k_contacts``,
early warning's ``model_cards``); otherwise the dashboard says "not available".
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.cases.access import cases_held_by
from fieldcollect.cases.models import ContactAttempt, Payment, Placement, PromiseToPay
from fieldcollect.core.errors import CommonErrorCode, NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.daily.cycle import published_path
from fieldcollect.home import home_dir
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.reports import compute
from fieldcollect.scorecards.selectors import scorecards_for_month
from fieldcollect.settlement.attribution import attribute
from fieldcollect.settlement.selectors import covers_for, month_bounds
from fieldcollect.settlement.services import commission_fen, commission_rate_for
from fieldcollect.visits.models import CheckIn, RouteStop


@dataclass(frozen=True)
class Scope:
    """What a reader may see: every agency (``agency_id`` None) or one."""

    agency_id: int | None = None

    @property
    def bank_wide(self) -> bool:
        return self.agency_id is None


def scope_for(user: User) -> Scope:
    """Bank roles see everything; an agency manager its own agency; anyone else nothing (404)."""
    if user.is_authenticated and user.is_active:
        if user.is_bank_user:
            return Scope(None)
        if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
            return Scope(user.agency_id)
    raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)


def business_date() -> date:
    """The newest published business date, else today."""
    run = DailyRun.objects.order_by("-as_of", "-id").first()
    return run.as_of if run is not None else timezone.localdate()


def agency_names(ids: set[int] | None = None) -> dict[int, str]:
    qs = Agency.objects.all() if ids is None else Agency.objects.filter(pk__in=ids)
    return dict(qs.values_list("agency_id", "name"))


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))


# ---------------------------------------------------------------------------------------- portfolio
@dataclass
class PortfolioData:
    run: DailyRun | None
    summary: dict[str, Any]
    roll: pl.DataFrame | None
    vintages: pl.DataFrame | None
    history: list[dict[str, Any]]


def portfolio_data(*, as_of: date) -> PortfolioData:
    """The run published for ``as_of`` (or the newest before it) and the overdue history up to it."""
    run = DailyRun.objects.filter(as_of__lte=as_of).order_by("-as_of", "-id").first()
    if run is None:
        return PortfolioData(None, {}, None, None, [])
    folder = published_path(run.as_of)
    roll = pl.read_parquet(folder / "roll_rates.parquet") if (folder / "roll_rates.parquet").exists() else None
    vint = pl.read_parquet(folder / "vintages.parquet") if (folder / "vintages.parquet").exists() else None
    seen: dict[str, dict[str, Any]] = {}
    for r in DailyRun.objects.filter(as_of__lte=run.as_of).order_by("-as_of", "-id")[:400]:
        key = r.as_of.isoformat()
        if key not in seen:
            seen[key] = {"as_of": key, "share": r.summary.get("balance_30plus_share", 0.0)}
    history = sorted(seen.values(), key=lambda p: p["as_of"])[-120:]
    return PortfolioData(run, run.summary, roll, vint, history)


# ----------------------------------------------------------------------------- attributed payments
@dataclass(frozen=True)
class Attributed:
    payment_id: int
    case_id: int
    placement_id: int
    agency_id: int
    paid_on: date
    amount_fen: int
    commission_fen: int


def attributed_payments(*, start: date, end: date, scope: Scope) -> list[Attributed]:
    """Payments dated ``start..end`` attributed to a placement (settlement's rule), with commission."""
    placed = Placement.objects.filter(starts_on__lte=end)
    if scope.agency_id is not None:
        placed = placed.filter(agency_id=scope.agency_id)
    case_ids = set(placed.values_list("case_id", flat=True))
    if not case_ids:
        return []
    covers = covers_for(case_ids=case_ids)
    pays = list(Payment.objects.filter(paid_on__gte=start, paid_on__lte=end, case_id__isnull=False)
                .filter(case_id__in=placed.values("case_id")).values_list("id", "case_id", "paid_on", "amount_fen"))
    hits = attribute(payments=[(p[0], p[1], p[2]) for p in pays], covers=covers)
    if scope.agency_id is not None:
        hits = {k: c for k, c in hits.items() if c.agency_id == scope.agency_id}
    placements = Placement.objects.select_related("contract", "agency").in_bulk({c.placement_id for c in hits.values()})
    rates: dict[int, Decimal] = {}
    out = []
    for pid, case_id, paid_on, amount in pays:
        cover = hits.get(pid)
        if cover is None:
            continue
        if cover.placement_id not in rates:
            rates[cover.placement_id] = commission_rate_for(placement=placements[cover.placement_id])
        out.append(Attributed(payment_id=pid, case_id=case_id, placement_id=cover.placement_id,
                              agency_id=cover.agency_id, paid_on=paid_on, amount_fen=amount,
                              commission_fen=commission_fen(amount_fen=amount, rate=rates[cover.placement_id])))
    out.sort(key=lambda a: (a.paid_on, a.payment_id))
    return out


def placement_rows(*, start: date, end: date, scope: Scope) -> list[compute.PlacementRow]:
    qs = Placement.objects.filter(starts_on__gte=start, starts_on__lte=end)
    if scope.agency_id is not None:
        qs = qs.filter(agency_id=scope.agency_id)
    return [compute.PlacementRow(placement_id=pid, agency_id=ag, starts_on=s, overdue_fen=o)
            for pid, ag, s, o in qs.values_list("id", "agency_id", "starts_on", "overdue_fen_at_placement")]


def contacts_for(*, case_ids: set[int], start: date, end: date) -> list[tuple[int, int, date, str]]:
    lo, hi = _local_bounds(start, end)
    out = []
    ids = list(case_ids)
    for i in range(0, len(ids), 5000):
        for case_id, agency_id, at, channel in ContactAttempt.objects.filter(
            case_id__in=ids[i:i + 5000], at__gte=lo, at__lt=hi, agency_id__isnull=False
        ).values_list("case_id", "agency_id", "at", "channel"):
            out.append((case_id, agency_id, timezone.localtime(at).date(), channel))
    return out


def promise_decisions(*, start: date, end: date, scope: Scope) -> list[tuple[int | None, date, str]]:
    qs = PromiseToPay.objects.filter(resolved_on__gte=start, resolved_on__lte=end,
                                     status__in=[PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN])
    if scope.agency_id is not None:
        qs = qs.filter(agency_id=scope.agency_id)
    return [(ag, day, str(st)) for ag, day, st in qs.values_list("agency_id", "resolved_on", "status")
            if day is not None]


def contact_counts(*, start: date, end: date, scope: Scope) -> dict[int, int]:
    lo, hi = _local_bounds(start, end)
    qs = ContactAttempt.objects.filter(at__gte=lo, at__lt=hi, agency_id__isnull=False)
    if scope.agency_id is not None:
        qs = qs.filter(agency_id=scope.agency_id)
    counts: dict[int, int] = defaultdict(int)
    for ag in qs.values_list("agency_id", flat=True):
        counts[ag] += 1
    return dict(counts)


# ------------------------------------------------------------------------------------- leaderboard
def leaderboard(*, month: date, scope: Scope) -> list[dict[str, Any]]:
    """Scorecard parts per agency for the month, ranked (:func:`compute.leaderboard_order`); an agency
    manager gets the ranking computed over every agency but only its own row."""
    rows = []
    for c in scorecards_for_month(month=month):
        rows.append({
            "agency_id": c.agency.pk, "agency": c.agency.name, "finished": c.finished_cases,
            "ae_index": c.ae_index, "holdout_ae_index": c.holdout_ae_index,
            "cost_per_yuan": c.cost_per_yuan, "promise_kept_rate": c.promise_kept_rate,
            "complaints_per_10k": c.complaints_per_10k, "compliance_blocks": c.compliance_blocks,
            "feedback_score": c.feedback_score, "recovered_fen": c.recovered_fen, "contacts": c.contacts,
        })
    ranked = compute.leaderboard_order(rows)
    if scope.agency_id is not None:
        ranked = [r for r in ranked if r["agency_id"] == scope.agency_id]
    return ranked


# ----------------------------------------------------------------------------- compliance, complaints
def blocked_model() -> Any | None:
    """compliance.BlockedAttempt when that model exists (None otherwise)."""
    if not apps.is_installed("fieldcollect.compliance"):
        return None
    try:
        return apps.get_model("compliance", "BlockedAttempt")
    except LookupError:
        return None


def _blocked_in(*, start: date, end: date, scope: Scope) -> Any | None:
    """The refused contacts in ``start..end`` (local days) of the scope's agency (None without compliance)."""
    model = blocked_model()
    if model is None:
        return None
    lo, hi = _local_bounds(start, end)
    qs = model.objects.filter(at__gte=lo, at__lt=hi)
    if scope.agency_id is not None:
        qs = qs.filter(agency_id=scope.agency_id)
    return qs


def blocked_by_rule(*, start: date, end: date, scope: Scope) -> list[dict[str, Any]] | None:
    """Refused contacts per rule id in ``start..end`` (one refusal counts once for each rule it broke)."""
    qs = _blocked_in(start=start, end=end, scope=scope)
    if qs is None:
        return None
    counts: dict[str, int] = defaultdict(int)
    by_agency: dict[tuple[str, int | None], int] = defaultdict(int)
    for rule_ids, agency_id in qs.values_list("rule_ids", "agency_id"):
        for rule in rule_ids or ["?"]:
            counts[str(rule)] += 1
            by_agency[(str(rule), agency_id)] += 1
    return [{"rule": r, "blocked": n, "by_agency": {a: v for (rr, a), v in by_agency.items() if rr == r}}
            for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def blocked_count(*, start: date, end: date, scope: Scope) -> int | None:
    """Refused contacts in ``start..end`` (each once, whatever the number of rules it broke)."""
    qs = _blocked_in(start=start, end=end, scope=scope)
    return None if qs is None else int(qs.count())


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def complaints_per_10k(*, start: date, end: date, agency: Agency | None) -> Decimal | str | None:
    """complaints.selectors.complaints_per_10k_contacts when that app is present, else ``"n/a"``."""
    if not apps.is_installed("fieldcollect.complaints"):
        return "n/a"
    fn = _optional("fieldcollect.complaints.selectors", "complaints_per_10k_contacts")
    if fn is None:
        return "n/a"
    value = fn(start=start, end=end, agency=agency)
    if isinstance(value, dict):  # tolerate a richer return value
        value = value.get("per_10k", value.get("rate"))
    return None if value is None else Decimal(str(value))


def complaints_by_agency(*, start: date, end: date, scope: Scope) -> list[dict[str, Any]] | None:
    """Complaints per 10,000 contacts per agency (and bank-wide for bank users); None when unavailable."""
    agencies = Agency.objects.exclude(status=Agency.Status.CANDIDATE).order_by("agency_id")
    if scope.agency_id is not None:
        agencies = agencies.filter(pk=scope.agency_id)
    contacts = contact_counts(start=start, end=end, scope=scope)
    rows = []
    for a in agencies:
        v = complaints_per_10k(start=start, end=end, agency=a)
        if isinstance(v, str):
            return None
        rows.append({"agency_id": a.pk, "agency": a.name, "contacts": contacts.get(a.pk, 0), "per_10k": v})
    if scope.bank_wide:
        total = complaints_per_10k(start=start, end=end, agency=None)
        rows.append({"agency_id": None, "agency": _("All agencies"), "contacts": sum(contacts.values()),
                     "per_10k": None if isinstance(total, str) else total})
    return rows


def complaints_by_category(*, start: date, end: date, scope: Scope) -> list[tuple[str, int]] | None:
    """Complaints received in ``start..end`` per category (translated label), most frequent first;
    None when the complaints app is not there."""
    if not apps.is_installed("fieldcollect.complaints"):
        return None
    fn = _optional("fieldcollect.complaints.selectors", "complaint_counts_by")
    if fn is None:
        return None
    counts: dict[str, int] = fn(by="category", start=start, end=end, agency=scope.agency_id)
    try:
        labels = {str(k): str(v) for k, v in apps.get_model("complaints", "Complaint")._meta.get_field(
            "category").choices or []}
    except (LookupError, AttributeError):
        labels = {}
    return sorted(((labels.get(k, k), n) for k, n in counts.items()), key=lambda kv: (-kv[1], kv[0]))


# ------------------------------------------------------------------------------------------ visits
def visits_on(*, day: date, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Planned stops of the day's current route plans and the day's check-ins (with anomaly flags)."""
    stops_qs = RouteStop.objects.filter(plan__date=day, plan__superseded=False).select_related("plan__team")
    lo, hi = _local_bounds(day, day)
    checkins_qs = CheckIn.objects.filter(at__gte=lo, at__lt=hi).select_related("collector")
    if scope.agency_id is not None:  # an agency sees its visits only on the cases it still holds
        held = cases_held_by(agency_id=scope.agency_id).values("pk")
        stops_qs = stops_qs.filter(plan__team__agency_id=scope.agency_id, case_id__in=held)
        checkins_qs = checkins_qs.filter(collector__agency_id=scope.agency_id, case_id__in=held)
    stops = [{"case_id": s.case_id, "lat": s.lat, "lon": s.lon, "order": s.order, "skipped": s.skipped,
              "team": s.plan.team_id, "agency_id": s.plan.team.agency_id,
              "planned": timezone.localtime(s.planned_start).strftime("%H:%M") if s.planned_start else ""}
             for s in stops_qs.order_by("plan_id", "order")]
    checkins = []
    for c in checkins_qs.order_by("at", "id"):
        checkins.append({"id": c.pk, "at": timezone.localtime(c.at).strftime("%H:%M"), "collector": c.collector.name,
                         "agency_id": c.collector.agency_id, "case_id": c.case_id, "lat": c.lat, "lon": c.lon,
                         "distance_m": c.distance_m, "accepted": c.accepted,
                         "flags": [label for _code, label in c.flag_labels]})
    return {"stops": stops, "checkins": checkins}


# ------------------------------------------------------------------------------------------- models
def model_cards() -> list[dict[str, Any]] | None:
    """Accuracy and drift of the models in use, as plain dicts::

        {"name", "version", "auc", "gini", "ks", "brier", "psi", "psi_status",
         "characteristics": [(name, csi)], "history": [(as_of, score psi)]}

    From early warning's ``model_cards()`` when that app is present, else the champions of the model
    registry under ``$FIELDCOLLECT_HOME/models`` (accuracy only: drift needs current data). None when
    there is neither.
    """
    fn = _optional("fieldcollect.earlywarning.selectors", "model_cards") \
        if apps.is_installed("fieldcollect.earlywarning") else None
    if fn is not None:
        return [_card_dict(c) for c in fn()]
    from fieldcollect.scoring.registry import ModelRegistry, RegistryError

    root = home_dir() / "models"
    if not root.is_dir():
        return None
    registry = ModelRegistry(root)
    cards = []
    for purpose_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            art = registry.champion(purpose_dir.name)
        except RegistryError:
            continue
        m = art.metrics
        stab = m.get("stability") or {}
        cards.append({"name": art.purpose, "version": art.version, "auc": m.get("auc"), "gini": m.get("gini"),
                      "ks": m.get("ks"), "brier": m.get("brier"), "psi": stab.get("score_psi"),
                      "psi_status": stab.get("score_status", ""),
                      "characteristics": [(c["name"], c["csi"]) for c in stab.get("characteristics", [])],
                      "history": []})
    return cards


def _get(obj: Any, *names: str) -> Any:
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if not isinstance(obj, dict) and hasattr(obj, n):
            return getattr(obj, n)
    return None


def _card_dict(card: Any) -> dict[str, Any]:
    """Early warning's card (``purpose``, ``version``, ``auc``…, ``drift`` = score PSI per nightly list,
    ``latest_psi``, ``latest_psi_status``) in this module's shape."""
    drift = _get(card, "drift") or []
    history = [(str(_get(d, "as_of")), _get(d, "score_psi")) for d in drift if isinstance(d, dict)]
    return {
        "name": str(_get(card, "purpose", "name") or "?"), "version": str(_get(card, "version") or ""),
        "auc": _get(card, "auc"), "gini": _get(card, "gini"), "ks": _get(card, "ks"), "brier": _get(card, "brier"),
        "psi": _get(card, "latest_psi", "psi"), "psi_status": str(_get(card, "latest_psi_status") or ""),
        "characteristics": [], "history": history,
    }


__all__ = [
    "Attributed", "PortfolioData", "Scope", "agency_names", "attributed_payments", "blocked_by_rule",
    "business_date", "complaints_by_agency", "contacts_for", "leaderboard", "model_cards", "month_bounds",
    "placement_rows", "portfolio_data", "promise_decisions", "scope_for", "visits_on",
]
