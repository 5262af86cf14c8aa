"""Reads for agency selection (ranking with contributions) and monthly scorecards.

Scorecard definitions (month ``M``, agency ``A``)
-------------------------------------------------
- *Recovery by bucket* is measured on A's placements that **finished** in ``M`` (recalled, expired or
  ended because the case closed), so each outcome is final: a placement is recovered when the
  payments attributed to it reach the overdue amount at placement. The *expected* rate is the bucket
  mean of the shrunk estimates learned from every agency's history before ``M`` — what an average
  agency recovers on the same cases. ``A/E`` (actual ÷ expected recovered cases over A's mix) is the
  risk-adjusted index: 1.00 = as expected. The same index on the champion/challenger holdout cases
  only (placed at random) is free of selection bias.
- *Cost per yuan recovered*: commission on the payments attributed to A in ``M`` ÷ those payments.
- *Promise kept rate*: A's promises decided in ``M`` (kept ÷ kept + broken).
- *Complaints per 10,000 contacts*, *compliance blocks*, *customer feedback*: see :mod:`.hooks`.
- *Conduct* (the quality-inspection component): findings confirmed at review and still in force (an
  upheld appeal withdraws one; automatic findings nobody confirmed never count) per 1,000 of A's
  contacts in ``M`` (:func:`.hooks.conduct_findings`, registered by ``fieldcollect.qa``). In agency
  selection it is the weighted criterion ``conduct_findings_per_1k_contacts`` (a cost: less is better),
  computed from the records over the last :data:`CONDUCT_WINDOW_DAYS` days, not typed into the file.
Amount recovered is shown only next to these figures, never alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.utils import timezone

from fieldcollect.agencies.models import Agency
from fieldcollect.allocation.models import AllocationDecision
from fieldcollect.allocation.selectors import RecoveryModel, recovery_model
from fieldcollect.analytics.selection import (
    DEFAULT_CRITERIA,
    Criterion,
    Ranking,
    topsis,
    weighted_score,
    with_weights,
)
from fieldcollect.cases.models import ContactAttempt, Payment, Placement, PromiseToPay
from fieldcollect.scorecards import hooks
from fieldcollect.scorecards.models import AgencyCandidate, CriterionWeight, Inspection
from fieldcollect.settlement.attribution import attribute
from fieldcollect.settlement.selectors import attributed_payments, covers_for, month_bounds
from fieldcollect.settlement.services import commission_fen, commission_rate_for

BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
CRITERIA_NAMES = [c.name for c in DEFAULT_CRITERIA]
# criteria computed from the records rather than typed into the selection file
COMPUTED_CRITERIA = frozenset({"conduct_findings_per_1k_contacts"})
FILE_CRITERIA = tuple(c for c in DEFAULT_CRITERIA if c.name not in COMPUTED_CRITERIA)
FILE_CRITERIA_NAMES = [c.name for c in FILE_CRITERIA]
CONDUCT_WINDOW_DAYS = 90


# ------------------------------------------------------------------------------------------ selection

def criteria() -> tuple[Criterion, ...]:
    """The selection criteria with the weights stored by the bank (library defaults otherwise)."""
    stored = {w.name: float(w.weight) for w in CriterionWeight.objects.all()}
    return with_weights(DEFAULT_CRITERIA, {k: v for k, v in stored.items() if k in CRITERIA_NAMES})


def candidate_files(*, include_exited: bool = False) -> list[AgencyCandidate]:
    qs = AgencyCandidate.objects.select_related("agency").order_by("agency_id")
    if not include_exited:
        qs = qs.exclude(agency__status=Agency.Status.EXITED)
    return list(qs)


@dataclass(frozen=True)
class RankedAgency:
    agency: Agency
    score: float
    rank: int
    contributions: list[dict[str, object]]


def ranking(*, method: str = "weighted_score") -> list[RankedAgency]:
    """Candidates ranked on the weighted criteria, each with its per-criterion contributions."""
    files = candidate_files()
    if not files:
        return []
    end = timezone.localdate()
    start = end - timedelta(days=CONDUCT_WINDOW_DAYS - 1)
    frame = pl.DataFrame({
        "agency_id": [f.agency_id for f in files],
        **{name: [float(getattr(f, name)) for f in files] for name in FILE_CRITERIA_NAMES},
        "conduct_findings_per_1k_contacts": [
            float(conduct_per_1k(agency_id=f.agency_id, start=start, end=end) or 0) for f in files],
    })
    fn = topsis if method == "topsis" else weighted_score
    result: Ranking = fn(candidates=frame, criteria=criteria())
    labels = {c.name: c.label for c in DEFAULT_CRITERIA}
    by_id = {f.agency_id: f.agency for f in files}
    out = []
    for row in result.scores.iter_rows(named=True):
        contrib = [
            {**r, "label": labels[str(r["criterion"])]}
            for r in result.contributions.filter(pl.col("agency_id") == row["agency_id"]).iter_rows(named=True)
        ]
        out.append(RankedAgency(agency=by_id[row["agency_id"]], score=float(row["score"]), rank=int(row["rank"]),
                                contributions=contrib))
    return out


def conduct_per_1k(*, agency_id: int, start: date, end: date, contacts: int | None = None) -> Decimal | None:
    """Confirmed conduct findings in force per 1,000 of the agency's contacts on days ``start``..``end``
    (``None`` without contacts: no rate; in the ranking that counts as 0)."""
    if contacts is None:
        contacts = ContactAttempt.objects.filter(agency_id=agency_id, at__date__gte=start, at__date__lte=end).count()
    if not contacts:
        return None
    findings = hooks.conduct_findings(agency_id=agency_id, start=start, end=end)
    return (Decimal(findings) * 1000 / Decimal(contacts)).quantize(Decimal("0.001"), ROUND_HALF_UP)


def inspections_of(*, agency: Agency) -> list[Inspection]:
    return list(Inspection.objects.filter(agency=agency).order_by("-year"))


# ------------------------------------------------------------------------------------------ scorecards

@dataclass(frozen=True)
class BucketRow:
    bucket: str
    cases: int
    recovered: int
    rate: float | None
    expected_rate: float
    ae: float | None
    overdue_fen: int
    paid_fen: int


@dataclass(frozen=True)
class Scorecard:
    agency: Agency
    month: date
    buckets: list[BucketRow]
    finished_cases: int
    recovered_cases: int
    expected_recovered: float
    ae_index: float | None
    holdout_cases: int
    holdout_ae_index: float | None
    recovered_fen: int
    commission_fen: int
    cost_per_yuan: Decimal | None
    promises_kept: int
    promises_broken: int
    promise_kept_rate: float | None
    contacts: int
    complaints: int
    complaints_per_10k: Decimal | None
    compliance_blocks: int
    feedback_score: float | None
    open_placements: int
    # contacts the agency reported after they happened (imported work results) that broke a rule
    compliance_breaches: int = 0
    # the conduct component: confirmed QA findings in force, and per 1,000 contacts
    conduct_findings: int = 0
    conduct_per_1k: Decimal | None = None
    notes: list[str] = field(default_factory=list)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def monthly_scorecard(*, agency: Agency, month: date, model: RecoveryModel | None = None) -> Scorecard:
    """The agency's scorecard for the month containing ``month`` (definitions in the module docstring)."""
    start, end = month_bounds(month)
    model = model or recovery_model(as_of=start)
    rows = list(
        Placement.objects.filter(agency=agency, starts_on__lte=end).exclude(status=Placement.Status.ACTIVE)
        .values_list("id", "case_id", "status", "bucket_at_placement", "overdue_fen_at_placement")
    )
    covers = {c.placement_id: c for c in covers_for(case_ids={r[1] for r in rows})}
    finished = [r for r in rows if start <= covers[r[0]].last_day <= end]
    paid: defaultdict[int, int] = defaultdict(int)
    if finished:
        case_ids = {r[1] for r in finished}
        pays = list(Payment.objects.filter(case_id__in=case_ids, paid_on__lte=end).values_list(
            "id", "case_id", "paid_on", "amount_fen"))
        amount = {p[0]: p[3] for p in pays}
        for pid, cover in attribute(payments=[(p[0], p[1], p[2]) for p in pays], covers=list(covers.values())).items():
            paid[cover.placement_id] += amount[pid]
    holdout_ids = set(
        AllocationDecision.objects.filter(holdout=True, placement_id__in=[r[0] for r in finished])
        .values_list("placement_id", flat=True)
    )
    agg: dict[str, list[float]] = {}
    h_actual = h_expected = 0.0
    for pid, _cid, _status, bucket, overdue in finished:
        rec = int(paid[pid] >= max(overdue, 1))
        exp = model.expected(bucket=bucket)
        a = agg.setdefault(bucket, [0, 0, 0.0, 0, 0])
        a[0] += 1
        a[1] += rec
        a[2] += exp
        a[3] += overdue
        a[4] += paid[pid]
        if pid in holdout_ids:
            h_actual += rec
            h_expected += exp
    order = {b: i for i, b in enumerate(BUCKETS)}
    buckets = [
        BucketRow(bucket=b, cases=int(v[0]), recovered=int(v[1]), rate=_ratio(v[1], v[0]),
                  expected_rate=v[2] / v[0], ae=_ratio(v[1], v[2]), overdue_fen=int(v[3]), paid_fen=int(v[4]))
        for b, v in sorted(agg.items(), key=lambda kv: order.get(kv[0], 99))
    ]
    recovered_cases = sum(b.recovered for b in buckets)
    expected = sum(float(v[2]) for v in agg.values())

    month_pay = attributed_payments(agency_id=agency.pk, start=start, end=end)
    rates: dict[int, Decimal] = {}
    recovered_fen = commission = 0
    for row in month_pay:
        if row.placement.pk not in rates:
            rates[row.placement.pk] = commission_rate_for(placement=row.placement)
        recovered_fen += row.payment.amount_fen
        commission += commission_fen(amount_fen=row.payment.amount_fen, rate=rates[row.placement.pk])
    cost_per_yuan = (Decimal(commission) / Decimal(recovered_fen)).quantize(Decimal("0.0001"), ROUND_HALF_UP) \
        if recovered_fen else None

    decided = PromiseToPay.objects.filter(agency=agency, resolved_on__gte=start, resolved_on__lte=end)
    kept = decided.filter(status=PromiseToPay.Status.KEPT).count()
    broken = decided.filter(status=PromiseToPay.Status.BROKEN).count()
    contacts = ContactAttempt.objects.filter(agency=agency, at__date__gte=start, at__date__lte=end).count()
    complaints = hooks.complaints(agency_id=agency.pk, start=start, end=end)
    per_10k = (Decimal(complaints) * 10_000 / Decimal(contacts)).quantize(Decimal("0.01"), ROUND_HALF_UP) \
        if contacts else None
    return Scorecard(
        agency=agency, month=start, buckets=buckets, finished_cases=sum(b.cases for b in buckets),
        recovered_cases=recovered_cases, expected_recovered=expected, ae_index=_ratio(recovered_cases, expected),
        holdout_cases=len(holdout_ids), holdout_ae_index=_ratio(h_actual, h_expected),
        recovered_fen=recovered_fen, commission_fen=commission, cost_per_yuan=cost_per_yuan,
        promises_kept=kept, promises_broken=broken, promise_kept_rate=_ratio(kept, kept + broken),
        contacts=contacts, complaints=complaints, complaints_per_10k=per_10k,
        compliance_blocks=hooks.compliance_blocks(agency_id=agency.pk, start=start, end=end),
        feedback_score=hooks.feedback_score(agency_id=agency.pk, start=start, end=end),
        open_placements=Placement.objects.filter(agency=agency, status=Placement.Status.ACTIVE).count(),
        compliance_breaches=ContactAttempt.objects.filter(agency=agency, at__date__gte=start, at__date__lte=end)
        .exclude(breach_rules=[]).count(),
        conduct_findings=hooks.conduct_findings(agency_id=agency.pk, start=start, end=end),
        conduct_per_1k=conduct_per_1k(agency_id=agency.pk, start=start, end=end, contacts=contacts),
    )


def previous_months(month: date, n: int) -> list[date]:
    """The ``n`` months up to and including ``month`` (first days, oldest first)."""
    out = [month.replace(day=1)]
    while len(out) < n:
        out.append((out[-1] - timedelta(days=1)).replace(day=1))
    return out[::-1]


def scorecard_trend(*, agency: Agency, month: date, months: int = 6) -> list[Scorecard]:
    return [monthly_scorecard(agency=agency, month=m) for m in previous_months(month, months)]


def scorecards_for_month(*, month: date) -> list[Scorecard]:
    model = recovery_model(as_of=month.replace(day=1))
    agencies = Agency.objects.exclude(status=Agency.Status.CANDIDATE).order_by("agency_id")
    return [monthly_scorecard(agency=a, month=month, model=model) for a in agencies]
