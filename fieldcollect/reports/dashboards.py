"""The dashboards: each one is a set of Plotly figures and the tables behind them, built for one reader
(:class:`~fieldcollect.reports.selectors.Scope`) on one business date, in the active language.

The same builders feed the pages, the CSV/XLSX exports of every table and the management report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldcollect.cases.models import Channel
from fieldcollect.portfolio import charts as pcharts
from fieldcollect.reports import charts, compute, selectors
from fieldcollect.reports.selectors import Scope


@dataclass
class Table:
    """A table of a dashboard: ``columns`` are (machine key, translated label); the machine keys are the
    export's header (so that the export's column policy can recognise customer data)."""

    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]

    @property
    def keys(self) -> list[str]:
        return [k for k, _label in self.columns]


@dataclass
class Dashboard:
    key: str
    title: str
    as_of: date
    figures: dict[str, go.Figure] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)  # headline figures for the report

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


@dataclass(frozen=True)
class Params:
    as_of: date
    day: date  # for "today's visits"
    months: int = 6

    @property
    def month(self) -> date:
        return self.as_of.replace(day=1)

    @property
    def window(self) -> list[date]:
        return compute.months_back(self.month, self.months)


def yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(int(fen)) / 100


def pct(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(100 * value, digits)


def dec(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


# ------------------------------------------------------------------------------------------ portfolio
def portfolio(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("portfolio", _("Portfolio: delinquency"), p.as_of)
    data = selectors.portfolio_data(as_of=p.as_of)
    buckets = data.summary.get("buckets", [])
    order = [b["bucket"] for b in buckets]
    d.figures["trend"] = pcharts.overdue_trend(data.history)
    d.figures["buckets"] = pcharts.bucket_distribution(buckets)
    if data.roll is not None and data.roll.height:
        d.figures["roll"] = pcharts.roll_rate_heatmap(data.roll, order)
    else:
        d.figures["roll"] = charts._empty(go.Figure(), _("No roll rates published yet"))
    if data.vintages is not None and data.vintages.height:
        d.figures["vintages"] = pcharts.vintage_curves(data.vintages)
    else:
        d.figures["vintages"] = charts._empty(go.Figure(), _("No vintages published yet"))
    if data.run is None:
        d.notes.append(_("No nightly cycle has been published yet."))
        return d
    d.as_of = data.run.as_of
    total = data.summary.get("outstanding_principal_fen", 0)
    d.tables.append(Table("trend", _("30+ days past due, share of outstanding principal"),
                          [("as_of", _("Business date")), ("share_30plus_pct", _("30+ dpd share of balance (%)"))],
                          [[pt["as_of"], pct(pt["share"], 3)] for pt in data.history]))
    d.tables.append(Table("buckets", _("Delinquency buckets"),
                          [("bucket", _("Bucket")), ("loans", _("Loans")),
                           ("balance_cny", _("Outstanding principal (CNY)")), ("share_pct", _("Share (%)")),
                           ("overdue_cny", _("Overdue (CNY)"))],
                          [[b["bucket"], b["loans"], yuan(b["balance_fen"]),
                            pct(b["balance_fen"] / total if total else None), yuan(b["overdue_fen"])] for b in buckets]))
    if data.roll is not None:
        d.tables.append(Table("roll", _("Roll rates, previous month → today"),
                              [("from_bucket", _("Bucket a month ago")), ("to_bucket", _("Bucket today")),
                               ("loans", _("Loans")), ("share_loans_pct", _("Share of loans (%)")),
                               ("share_balance_pct", _("Share of balance (%)"))],
                              [[r["from_bucket"], r["to_bucket"], r["loans"], pct(r["share_loans"]),
                                pct(r["share_balance"])] for r in data.roll.iter_rows(named=True)]))
    if data.vintages is not None:
        d.tables.append(Table("vintages", _("Vintages: share ever 30+ days past due"),
                              [("cohort", _("Cohort")), ("mob", _("Months on book")), ("loans", _("Loans")),
                               ("bad_rate_pct", _("Share of loans (%)")),
                               ("bad_rate_balance_pct", _("Share of principal (%)"))],
                              [[r["cohort"], r["mob"], r["loans"], pct(r["bad_rate"]), pct(r["bad_rate_balance"])]
                               for r in data.vintages.sort("cohort", "mob").iter_rows(named=True)]))
    return d


# ------------------------------------------------------------------------------------------- recovery
CHANNEL_LABELS: dict[str, Any] = {**dict(Channel.choices), compute.NO_CONTACT: gettext_lazy("No recent contact")}


def recovery(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("recovery", _("Recovery and cost"), p.as_of)
    start = p.window[0]
    att = selectors.attributed_payments(start=start, end=p.as_of, scope=scope)
    placements = selectors.placement_rows(start=start, end=p.as_of, scope=scope)
    names = selectors.agency_names()
    # recovery curves by placement cohort
    curves = compute.recovery_curves(placements=placements, as_of=p.as_of,
                                     paid=[compute.PaidRow(a.placement_id, a.paid_on, a.amount_fen) for a in att])
    d.figures["curves"] = charts.recovery_curves(curves)
    d.tables.append(Table("curves", _("Recovery curves by placement cohort"),
                          [("cohort", _("Cohort")), ("day", _("Days since placement")),
                           ("placements", _("Placements")), ("overdue_cny", _("Overdue at placement (CNY)")),
                           ("recovered_cny", _("Recovered (CNY)")), ("rate_pct", _("Recovery rate (%)"))],
                          [[c.cohort, c.day, c.placements, yuan(c.overdue_fen), yuan(c.recovered_fen), pct(c.rate)]
                           for c in curves]))
    # the reporting month: recovery by agency and channel
    m_start, m_end = selectors.month_bounds(p.month)
    m_end = min(m_end, p.as_of)
    month_att = [a for a in att if m_start <= a.paid_on <= m_end]
    contacts = selectors.contacts_for(case_ids={a.case_id for a in month_att}, start=m_start - timedelta(days=30),
                                      end=m_end)
    credit = compute.channel_attribution(
        payments=[(a.case_id, a.agency_id, a.paid_on, a.amount_fen) for a in month_att], contacts=contacts)
    rows: list[dict[str, Any]] = [{"agency": names.get(ag, str(ag)), "agency_id": ag, "channel": ch,
                                   "channel_label": str(CHANNEL_LABELS.get(ch, ch)), **v}
            for (ag, ch), v in sorted(credit.items(), key=lambda kv: (kv[0][0], kv[0][1]))]
    d.figures["channels"] = charts.recovery_by_agency_channel(rows)
    d.tables.append(Table("channels", _("Recovered by agency and channel") + f" {compute.month_key(p.month)}",
                          [("agency_id", _("Agency ID")), ("agency", _("Agency")), ("channel", _("Channel")),
                           ("payments", _("Payments")), ("recovered_cny", _("Recovered (CNY)"))],
                          [[r["agency_id"], r["agency"], r["channel_label"], r["payments"], yuan(r["amount_fen"])]
                           for r in rows]))
    # cost per yuan recovered, by agency and month
    months = [compute.month_key(m) for m in p.window]
    sums: dict[tuple[int | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for a in att:
        for key in ((a.agency_id, compute.month_key(a.paid_on)), (None, compute.month_key(a.paid_on))):
            sums[key][0] += a.amount_fen
            sums[key][1] += a.commission_fen
    agencies = sorted({a.agency_id for a in att})
    series_ids: list[int | None] = [*agencies, None] if scope.bank_wide else [*agencies]

    def label(ag: int | None) -> str:
        return _("All agencies") if ag is None else names.get(ag, str(ag))

    cost_series = {label(ag): [(m, dec(compute.cost_per_yuan(sums[(ag, m)][1], sums[(ag, m)][0])))
                               for m in months] for ag in series_ids}
    d.figures["cost"] = charts.monthly_lines(cost_series, title=_("Cost per yuan recovered (commission ÷ recovered)"),
                                             yaxis=_("CNY per CNY"))
    d.tables.append(Table("cost", _("Cost per yuan recovered"),
                          [("agency", _("Agency")), ("month", _("Month")), ("recovered_cny", _("Recovered (CNY)")),
                           ("commission_cny", _("Commission (CNY)")), ("cost_per_yuan", _("Cost per yuan recovered"))],
                          [[label(ag), m, yuan(sums[(ag, m)][0]), yuan(sums[(ag, m)][1]),
                            compute.cost_per_yuan(sums[(ag, m)][1], sums[(ag, m)][0])]
                           for ag in series_ids for m in months if (ag, m) in sums]))
    # promise kept rate
    decisions = selectors.promise_decisions(start=start, end=p.as_of, scope=scope)
    rates = compute.promise_rates(decisions)
    overall = compute.promise_rates((None, day, st) for _ag, day, st in decisions) if scope.bank_wide else {}
    rates.update(overall)
    p_ids: list[int | None] = [*sorted({ag for ag, _m in rates if ag is not None})]
    if scope.bank_wide:
        p_ids.append(None)
    promise_series = {label(ag): [(m, rates.get((ag, m), {}).get("rate")) for m in months] for ag in p_ids}
    d.figures["promises"] = charts.monthly_lines(promise_series, title=_("Promise kept rate (kept ÷ decided)"),
                                                 yaxis="%", percent=True)
    d.tables.append(Table("promises", _("Promise kept rate"),
                          [("agency", _("Agency")), ("month", _("Month")), ("kept", _("Kept")),
                           ("broken", _("Broken")), ("kept_rate_pct", _("Promise kept rate (%)"))],
                          [[label(ag), m, rates[(ag, m)]["kept"], rates[(ag, m)]["broken"],
                            pct(rates[(ag, m)]["rate"])] for ag in p_ids for m in months if (ag, m) in rates]))
    return d


# ---------------------------------------------------------------------------------------- leaderboard
def last_complete_month(as_of: date) -> date:
    """First day of the month of ``as_of`` when it is the month's last day, else of the month before
    (scorecards judge placements that finished during a month, so a month counts once it is over)."""
    if (as_of + timedelta(days=1)).month != as_of.month:
        return as_of.replace(day=1)
    return (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)


def agencies(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("agencies", _("Agency leaderboard"), p.as_of)
    month = last_complete_month(p.as_of)
    rows = selectors.leaderboard(month=month, scope=scope)
    d.figures["leaderboard"] = charts.leaderboard(rows)
    d.notes.append(_("Month %(month)s. Ranked by actual ÷ expected recovery (risk-adjusted), then cost per yuan, "
                     "then complaints.") % {"month": compute.month_key(month)})
    d.tables.append(Table("leaderboard", _("Agency leaderboard") + f" {compute.month_key(month)}",
                          [("rank", _("Rank")), ("agency_id", _("Agency ID")), ("agency", _("Agency")),
                           ("finished_placements", _("Finished placements")), ("ae_index", _("Actual ÷ expected")),
                           ("ae_index_holdout", _("Actual ÷ expected, holdout")),
                           ("cost_per_yuan", _("Cost per yuan recovered")),
                           ("promise_kept_rate_pct", _("Promise kept rate (%)")),
                           ("complaints_per_10k_contacts", _("Complaints per 10,000 contacts")),
                           ("compliance_blocks", _("Compliance blocks")), ("feedback_score", _("Customer feedback")),
                           ("recovered_cny", _("Recovered (CNY)"))],
                          [[r["rank"], r["agency_id"], r["agency"], r["finished"], dec(r["ae_index"], 3),
                            dec(r["holdout_ae_index"], 3), r["cost_per_yuan"], pct(r["promise_kept_rate"]),
                            r["complaints_per_10k"], r["compliance_blocks"], dec(r["feedback_score"], 2),
                            yuan(r["recovered_fen"])] for r in rows]))
    return d


# -------------------------------------------------------------------------------------------- conduct
def conduct(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("conduct", _("Conduct: blocked contacts and complaints"), p.as_of)
    m_start, m_end = selectors.month_bounds(p.month)
    m_end = min(m_end, p.as_of)
    period = f"{m_start.isoformat()} – {m_end.isoformat()}"
    blocked = selectors.blocked_by_rule(start=m_start, end=m_end, scope=scope)
    if blocked is None:
        d.figures["blocked"] = charts._empty(go.Figure(), _("Blocked contacts are not recorded yet"))
        d.notes.append(_("Blocked contacts are not recorded yet."))
    else:
        d.numbers["blocked_contacts"] = selectors.blocked_count(start=m_start, end=m_end, scope=scope)
        d.figures["blocked"] = charts.bars([b["rule"] for b in blocked], [b["blocked"] for b in blocked],
                                           title=_("Contacts blocked by rule") + f" ({period})",
                                           yaxis=_("blocked attempts"), name=_("Blocked"))
        d.tables.append(Table("blocked", _("Contacts blocked by rule"),
                              [("rule", _("Rule")), ("blocked", _("Blocked attempts"))],
                              [[b["rule"], b["blocked"]] for b in blocked]))
    rows = selectors.complaints_by_agency(start=m_start, end=m_end, scope=scope)
    if rows is None:
        d.figures["complaints"] = charts._empty(go.Figure(), _("Complaints are not recorded yet"))
        d.notes.append(_("Complaints are not recorded yet."))
    else:
        d.figures["complaints"] = charts.bars([r["agency"] for r in rows],
                                              [dec(r["per_10k"], 2) for r in rows],
                                              title=_("Complaints per 10,000 contacts") + f" ({period})",
                                              name=_("Complaints per 10,000 contacts"))
        d.tables.append(Table("complaints", _("Complaints per 10,000 contacts"),
                              [("agency_id", _("Agency ID")), ("agency", _("Agency")), ("contacts", _("Contacts")),
                               ("complaints_per_10k_contacts", _("Complaints per 10,000 contacts"))],
                              [[r["agency_id"], r["agency"], r["contacts"], r["per_10k"]] for r in rows]))
    categories = selectors.complaints_by_category(start=m_start, end=m_end, scope=scope)
    if categories is not None:
        d.figures["categories"] = charts.bars([c for c, _n in categories], [n for _c, n in categories],
                                              title=_("Complaints by category") + f" ({period})",
                                              yaxis=_("complaints"), name=_("Complaints"))
        d.tables.append(Table("categories", _("Complaints by category"),
                              [("category", _("Category")), ("complaints", _("Complaints"))],
                              [list(c) for c in categories]))
    return d


# --------------------------------------------------------------------------------------------- visits
def visits(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("visits", _("Today's field visits"), p.day)
    data = selectors.visits_on(day=p.day, scope=scope)
    d.figures["map"] = charts.visits_map(data["stops"], data["checkins"])
    flagged = [c for c in data["checkins"] if c["flags"] or not c["accepted"]]
    counts: dict[str, int] = defaultdict(int)
    for c in flagged:
        for f in c["flags"] or [_("not accepted")]:
            counts[f] += 1
    d.figures["anomalies"] = charts.bars(list(counts), list(counts.values()),
                                         title=_("Check-in anomalies by kind") + f" ({p.day.isoformat()})",
                                         yaxis=_("check-ins"), name=_("Check-ins"))
    d.tables.append(Table("anomalies", _("Check-in anomalies"),
                          [("time", _("Time")), ("collector", _("Collector")), ("case_id", _("Case")),
                           ("distance_m", _("Distance (m)")), ("accepted", _("Check-in accepted")),
                           ("flags", _("Flags"))],
                          [[c["at"], c["collector"], c["case_id"],
                            None if c["distance_m"] is None else round(c["distance_m"]), c["accepted"],
                            "; ".join(c["flags"])] for c in flagged]))
    teams: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in data["stops"]:
        teams[s["team"]].append(s)
    d.tables.append(Table("teams", _("Planned visits by team"),
                          [("team", _("Team")), ("planned", _("Planned visits")), ("skipped", _("Skipped")),
                           ("checkins", _("Check-ins"))],
                          [[t, sum(not s["skipped"] for s in st), sum(s["skipped"] for s in st),
                            sum(1 for c in data["checkins"] if c["case_id"] in {s["case_id"] for s in st})]
                           for t, st in sorted(teams.items())]))
    return d


# --------------------------------------------------------------------------------------------- models
def models(scope: Scope, p: Params) -> Dashboard:
    d = Dashboard("models", _("Models: accuracy and drift"), p.as_of)
    cards = selectors.model_cards()
    if cards is None:
        d.notes.append(_("No model registry yet."))
        cards = []
    d.figures["accuracy"] = charts.model_accuracy(cards)
    d.figures["drift"] = charts.model_drift(cards)
    d.tables.append(Table("models", _("Models in use"),
                          [("model", _("Model")), ("version", _("Version")), ("auc", "AUC"), ("gini", "Gini"),
                           ("ks", "KS"), ("brier", "Brier"), ("psi", "PSI"), ("psi_status", _("Stability"))],
                          [[c["name"], c["version"], dec(c["auc"]), dec(c["gini"]), dec(c["ks"]), dec(c["brier"]),
                            dec(c["psi"]), c["psi_status"]] for c in cards]))
    return d


@dataclass(frozen=True)
class Spec:
    key: str
    title: Any  # lazy translation
    build: Callable[[Scope, Params], Dashboard]
    bank_only: bool = False


DASHBOARDS: tuple[Spec, ...] = (
    Spec("portfolio", gettext_lazy("Portfolio: delinquency"), portfolio, bank_only=True),
    Spec("recovery", gettext_lazy("Recovery and cost"), recovery),
    Spec("agencies", gettext_lazy("Agency leaderboard"), agencies),
    Spec("conduct", gettext_lazy("Conduct: blocked contacts and complaints"), conduct),
    Spec("visits", gettext_lazy("Today's field visits"), visits),
    Spec("models", gettext_lazy("Models: accuracy and drift"), models, bank_only=True),
)


def specs_for(scope: Scope) -> list[Spec]:
    return [s for s in DASHBOARDS if scope.bank_wide or not s.bank_only]


def spec(key: str, scope: Scope) -> Spec | None:
    return next((s for s in specs_for(scope) if s.key == key), None)


def build(key: str, *, scope: Scope, params: Params) -> Dashboard:
    found = spec(key, scope)
    if found is None:
        raise KeyError(key)
    return found.build(scope, params)

