"""Reads for allocation: recovery history (shrunk rates), eligible case × agency pairs, runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.db.models import QuerySet

from fieldcollect.agencies.models import Agency
from fieldcollect.agencies.selectors import ContractTerms, contract_terms
from fieldcollect.allocation.models import (
    AllocationDecision,
    AllocationHeld,
    AllocationRun,
    AllocationScreened,
)
from fieldcollect.analytics.recovery_estimates import estimate_from_counts
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case, Payment, Placement
from fieldcollect.legal.screening import screen_cases
from fieldcollect.settlement.attribution import attribute
from fieldcollect.settlement.selectors import covers_for

# Rates used for a bucket nobody has history in yet (share of placed cases recovered in full).
DEFAULT_BUCKET_RATES: dict[str, float] = {
    "M0": 0.50, "M1": 0.40, "M2": 0.28, "M3": 0.20, "M4": 0.14, "M5": 0.10, "M6": 0.07, "M6+": 0.04,
}
DEFAULT_RATE = 0.05
DEFAULT_COST_PER_CASE_FEN = 3_000  # handling cost of a field placement (file transfer, monitoring)
NO_CAPACITY_LIMIT = 1_000_000


@dataclass(frozen=True)
class RecoveryModel:
    """Shrunk probability that a placed case is recovered, per agency × bucket at placement.

    A placement is *recovered* when the payments attributed to it reach the overdue amount at
    placement. Learned from finished placements (recalled or ended before ``as_of``) with
    :func:`fieldcollect.analytics.recovery_estimates.estimate_from_counts`; an agency without history in a
    bucket gets the bucket mean, a bucket without any history :data:`DEFAULT_BUCKET_RATES`.
    """

    rates: dict[tuple[int, str], float] = field(default_factory=dict)
    bucket_mean: dict[str, float] = field(default_factory=dict)
    counts: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)

    def expected(self, *, bucket: str) -> float:
        """What an average agency recovers in ``bucket`` (risk adjustment for scorecards)."""
        return self.bucket_mean.get(bucket, DEFAULT_BUCKET_RATES.get(bucket, DEFAULT_RATE))

    def rate(self, *, agency_id: int, bucket: str) -> float:
        return self.rates.get((agency_id, bucket), self.expected(bucket=bucket))


def placement_outcomes(*, before: date, agency_id: int | None = None) -> list[tuple[int, int, str, int, int]]:
    """Placements finished before ``before`` (their last covered day is earlier, so the outcome was
    known then): ``(placement_id, agency_id, bucket, overdue_at_placement_fen, attributed_paid_fen)``."""
    qs = Placement.objects.exclude(status=Placement.Status.ACTIVE).filter(starts_on__lt=before)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    rows = list(qs.values_list("id", "case_id", "agency_id", "bucket_at_placement", "overdue_fen_at_placement"))
    if not rows:
        return []
    case_ids = {r[1] for r in rows}
    covers = covers_for(case_ids=case_ids)
    finished = {c.placement_id for c in covers if c.last_day < before}
    rows = [r for r in rows if r[0] in finished]
    pays = Payment.objects.filter(case_id__in=case_ids, paid_on__lt=before).values_list(
        "id", "case_id", "paid_on", "amount_fen")
    amounts = {}
    plist = []
    for pid, cid, paid_on, amount in pays:
        amounts[pid] = amount
        plist.append((pid, cid, paid_on))
    paid: defaultdict[int, int] = defaultdict(int)
    for pid, cover in attribute(payments=plist, covers=covers).items():
        paid[cover.placement_id] += amounts[pid]
    return [(pid, ag, bucket, overdue, paid[pid]) for pid, _cid, ag, bucket, overdue in rows]


def recovery_model(*, as_of: date) -> RecoveryModel:
    """Shrunk recovery rates from the placement history before ``as_of``."""
    counts: defaultdict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for _pid, agency_id, bucket, overdue, paid in placement_outcomes(before=as_of):
        c = counts[(agency_id, bucket)]
        c[0] += 1
        c[1] += int(paid >= max(overdue, 1))
    if not counts:
        return RecoveryModel()
    frame = pl.DataFrame({
        "agency_id": [k[0] for k in counts], "segment": [k[1] for k in counts],
        "cases": [v[0] for v in counts.values()], "recovered": [v[1] for v in counts.values()],
    })
    est = estimate_from_counts(counts=frame)
    rates = {(int(r["agency_id"]), str(r["segment"])): float(r["expected_rate"]) for r in est.table.iter_rows(named=True)}
    means = {str(k): v.mean for k, v in est.priors.items()}
    return RecoveryModel(rates=rates, bucket_mean=means,
                         counts={k: (v[0], v[1]) for k, v in counts.items()})


def commission_rate(terms: ContractTerms | None, bucket: str) -> Decimal:
    if terms is None:
        return Decimal(0)
    raw = terms.commission_tiers.get(bucket)
    return Decimal(str(raw)) if raw not in (None, "") else Decimal(0)


def pair_value_fen(*, p: float, overdue_fen: int, rate: Decimal, cost_fen: int) -> int:
    """Expected net recovery in fen: ``p × overdue − commission on it − cost`` (rounded half up)."""
    expected = Decimal(str(round(p, 6))) * overdue_fen
    net = (expected * (1 - rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(net) - cost_fen


@dataclass(frozen=True)
class Candidates:
    """Eligible pairs for a run: parallel lists (one entry per pair) and per-agency data."""

    case_ids: list[int]
    agency_ids: list[int]
    values_fen: list[int]
    p: list[float]
    rates: list[Decimal]
    capacity: dict[int, int]
    excluded: list[tuple[int, int]]
    cases: dict[int, Case]
    agencies: dict[int, Agency]
    # cases the placement screen holds out (deceased, bankrupt, disputed, complaint-paused, legal referral):
    # case id -> reasons (:mod:`fieldcollect.legal.screening`)
    screened: dict[int, list[str]] = field(default_factory=dict)
    # customer-level placement: case id -> the agencies already holding open cases of its customer (its
    # pairs are limited to them), and the cases none of those agencies may take (case id -> agency)
    follows: dict[int, set[int]] = field(default_factory=dict)
    held: dict[int, int] = field(default_factory=dict)


def open_unplaced_cases() -> QuerySet[Case]:
    return Case.objects.filter(agency__isnull=True, closed_on__isnull=True,
                               status__in=[CaseStatus.NEW, CaseStatus.RECALLED])


def eligible_pairs(*, as_of: date, model: RecoveryModel, cost_per_case_fen: int) -> Candidates:
    """Every (open unplaced or returned case, agency) pair allowed on ``as_of``.

    An agency takes part when it is approved, has a contract in force and a valid data-security
    agreement; a pair needs the case's city in the contract's regions, its bucket among the eligible
    buckets and its overdue amount within the agency's limits. Capacity is the contract's minus the
    active placements. The agency that just returned a case (its latest placement, recalled) is excluded.
    A case the placement screen holds out (:func:`fieldcollect.legal.screening.screen_cases`) has no pair;
    its reasons are in ``screened``.

    Customer-level placement: when the customer already has open cases placed with an agency, the
    case's pairs are limited to that agency (``follows``); when it may not take the case, the case has no
    pair and is in ``held`` (the run explains it). The optimiser groups the rest by customer id.
    """
    agencies: dict[int, Agency] = {}
    terms: dict[int, ContractTerms] = {}
    for agency in Agency.objects.filter(status=Agency.Status.APPROVED).order_by("agency_id"):
        t = contract_terms(agency=agency, on=as_of)
        if t is not None and t.dsa_valid_on(as_of):
            agencies[agency.pk] = agency
            terms[agency.pk] = t
    held: defaultdict[int, int] = defaultdict(int)
    for agency_id in Placement.objects.filter(status=Placement.Status.ACTIVE).values_list("agency_id", flat=True):
        held[agency_id] += 1
    capacity = {
        a: max(0, (terms[a].capacity or NO_CAPACITY_LIMIT) - held[a]) for a in agencies
    }
    cases = {c.pk: c for c in open_unplaced_cases().only(
        "id", "customer_id", "city", "bucket", "overdue_fen", "status", "version", "agency_id", "closed_on")}
    screened = screen_cases(cases=[(cid, c.customer_id) for cid, c in cases.items()])
    cases = {cid: c for cid, c in cases.items() if cid not in screened}
    customer_agencies: defaultdict[int, set[int]] = defaultdict(set)
    for customer_id, agency_id in Case.objects.filter(
        agency__isnull=False, closed_on__isnull=True, customer_id__in=open_unplaced_cases().values("customer_id"),
    ).values_list("customer_id", "agency_id").distinct():
        customer_agencies[customer_id].add(agency_id)
    follows = {cid: customer_agencies[c.customer_id] for cid, c in cases.items() if c.customer_id in customer_agencies}
    returned_by: dict[int, int] = {}
    recalled_ids = [cid for cid, c in cases.items() if c.status == CaseStatus.RECALLED]
    if recalled_ids:
        for cid, ag, status in (
            Placement.objects.filter(case_id__in=recalled_ids)
            .order_by("case_id", "-starts_on", "-id").values_list("case_id", "agency_id", "status")
        ):
            if cid not in returned_by:
                returned_by[cid] = ag if status == Placement.Status.RECALLED else -1
    serving: dict[tuple[str, str], list[int]] = {}
    out_c: list[int] = []
    out_a: list[int] = []
    out_v: list[int] = []
    out_p: list[float] = []
    out_r: list[Decimal] = []
    excluded: list[tuple[int, int]] = []
    for cid in sorted(cases):
        case = cases[cid]
        key = (case.city, case.bucket)
        if key not in serving:
            serving[key] = [a for a in agencies if terms[a].serves(city=case.city, bucket=case.bucket)]
        only = follows.get(cid)
        for a in serving[key]:
            if only is not None and a not in only:
                continue
            lim = agencies[a]
            if case.overdue_fen < lim.min_amount_fen or (lim.max_amount_fen and case.overdue_fen > lim.max_amount_fen):
                continue
            if returned_by.get(cid) == a:
                excluded.append((cid, a))
                continue
            p = model.rate(agency_id=a, bucket=case.bucket)
            rate = commission_rate(terms[a], case.bucket)
            out_c.append(cid)
            out_a.append(a)
            out_p.append(p)
            out_r.append(rate)
            out_v.append(pair_value_fen(p=p, overdue_fen=case.overdue_fen, rate=rate, cost_fen=cost_per_case_fen))
    with_pair = set(out_c)
    kept_out = {cid: min(agencies_of) for cid, agencies_of in follows.items() if cid not in with_pair}
    return Candidates(case_ids=out_c, agency_ids=out_a, values_fen=out_v, p=out_p, rates=out_r,
                      capacity=capacity, excluded=excluded, cases=cases, agencies=agencies, screened=screened,
                      follows=follows, held=kept_out)


def run_list() -> QuerySet[AllocationRun]:
    return AllocationRun.objects.select_related("created_by", "applied_by").order_by("-created_at", "-id")


def run_agency_summary(*, run: AllocationRun) -> list[dict[str, object]]:
    """Per agency: cases placed (of which holdout), expected net value, shadow price."""
    rows: dict[int, dict[str, object]] = {}
    for d in AllocationDecision.objects.filter(run=run).select_related("agency").order_by("agency_id"):
        r = rows.setdefault(d.agency_id, {"agency": d.agency, "cases": 0, "holdout": 0, "value_fen": 0,
                                          "shadow_price_fen": d.shadow_price_fen})
        r["cases"] = int(r["cases"]) + 1  # type: ignore[call-overload]
        r["holdout"] = int(r["holdout"]) + int(d.holdout)  # type: ignore[call-overload]
        r["value_fen"] = int(r["value_fen"]) + d.value_fen  # type: ignore[call-overload]
    return list(rows.values())


def run_decisions(*, run: AllocationRun, agency_id: int | None = None, holdout: bool | None = None,
                  case_id: int | None = None) -> QuerySet[AllocationDecision]:
    qs = AllocationDecision.objects.filter(run=run).select_related("agency", "best_alternative", "case")
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    if holdout is not None:
        qs = qs.filter(holdout=holdout)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs.order_by("-value_fen", "id")


def run_screened(*, run: AllocationRun, case_id: int | None = None) -> QuerySet[AllocationScreened]:
    """The cases ``run`` held out of placement, with their reasons (the run's explanation of them)."""
    qs = AllocationScreened.objects.filter(run=run)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs.order_by("case_id")


def run_held(*, run: AllocationRun, case_id: int | None = None) -> QuerySet[AllocationHeld]:
    """The cases customer-level placement kept out of ``run``, with the reason and the customer's agency."""
    qs = AllocationHeld.objects.filter(run=run).select_related("customer_agency")
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs.order_by("case_id")
