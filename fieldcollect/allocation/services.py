"""Allocation runs: build the eligible pairs, solve with the optimiser (champion/challenger holdout),
store the decisions with their explanation, and apply them through case management's placement service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.allocation import selectors
from fieldcollect.allocation.errors import AllocationErrorCode
from fieldcollect.allocation.models import (
    AllocationDecision,
    AllocationHeld,
    AllocationRun,
    AllocationScreened,
    HeldReason,
)
from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User


def allocation_run_create(*, as_of: date, acting_user: User | None, holdout_share: float = 0.0, seed: int = 0,
                          max_share: float | None = None,
                          cost_per_case_fen: int = selectors.DEFAULT_COST_PER_CASE_FEN) -> AllocationRun:
    """Solve the allocation for ``as_of`` and store it as a draft run (nothing is placed yet).

    Expected value of a pair = shrunk p(agency, bucket) × overdue − commission on it − ``cost_per_case_fen``.
    ``holdout_share`` of the cases (drawn by ``seed``) go at random to an eligible agency.
    """
    from fieldcollect.optimisation.allocation import build_problem, greedy, solve

    if acting_user is not None:
        require_capability(acting_user, "case.place")
    if not 0 <= holdout_share <= 1:
        raise ApplicationError(_("The holdout share must be between 0 and 1."), code=AllocationErrorCode.INVALID_HOLDOUT)
    if max_share is not None and not 0 < max_share <= 1:
        raise ApplicationError(_("The concentration limit must be between 0 and 1."), code=AllocationErrorCode.INVALID_SHARE)
    model = selectors.recovery_model(as_of=as_of)
    cand = selectors.eligible_pairs(as_of=as_of, model=model, cost_per_case_fen=cost_per_case_fen)
    cap_ids = sorted(cand.capacity)
    grouped_ids = sorted(set(cand.case_ids))
    problem = build_problem(
        case_ids=cand.case_ids, agency_ids=cand.agency_ids, values_fen=cand.values_fen,
        capacity_agency_ids=cap_ids, capacities=[cand.capacity[a] for a in cap_ids],
        max_share=max_share,
        # customer-level placement: a customer's cases go whole to one agency (grouped by customer id)
        group_case_ids=grouped_ids, group_ids=[cand.cases[c].customer_id for c in grouped_ids],
    )
    # bounded: when the relaxation splits a customer, CP-SAT gets the configured time, then the best whole
    # solution stands with its gap to the relaxation's bound (dual_fen; "optimal" only when proven)
    result = solve(problem, holdout_share=holdout_share, seed=seed,
                   time_limit_s=settings.FIELDCOLLECT_ALLOCATION_TIME_LIMIT_S)
    result.validate()
    base = greedy(problem)
    pair_info = {(c, a): (p, r) for c, a, p, r in zip(cand.case_ids, cand.agency_ids, cand.p, cand.rates, strict=True)}
    ex = result.explanations()
    case_ids = problem.case_ids
    agency_ids = problem.agency_ids
    held: dict[int, tuple[str, int | None]] = {
        cid: (HeldReason.CUSTOMER_AGENCY_UNAVAILABLE, aid) for cid, aid in cand.held.items()}
    for i in result.unplaceable_groups().nonzero()[0].tolist():
        cid = int(case_ids[i])
        held[cid] = (HeldReason.CUSTOMER_NO_COMMON_AGENCY, None)
    with transaction.atomic():
        run = AllocationRun.objects.create(
            as_of=as_of, holdout_share=Decimal(str(holdout_share)).quantize(Decimal("0.0001")), seed=seed,
            max_share=None if max_share is None else Decimal(str(max_share)).quantize(Decimal("0.0001")),
            cost_per_case_fen=cost_per_case_fen, n_cases=len(cand.cases), n_agencies=len(cand.agencies),
            n_pairs=problem.n_pairs, n_excluded=len(cand.excluded), n_screened=len(cand.screened),
            n_held=len(held), n_placed=result.n_placed,
            n_holdout=result.n_holdout_placed, objective_fen=result.objective_fen,
            holdout_objective_fen=result.holdout_objective_fen, greedy_objective_fen=base.objective_fen,
            dual_fen=result.certificate.dual_fen, certified_optimal=result.certificate.optimal,
            seconds=result.seconds, created_by=acting_user,
        )
        decisions = []
        n_eligible: dict[int, int] = {}
        for c in cand.case_ids:
            n_eligible[c] = n_eligible.get(c, 0) + 1
        for k in range(len(ex["case"])):
            cid = int(case_ids[ex["case"][k]])
            aid = int(agency_ids[ex["agency"][k]])
            alt = int(ex["best_alternative_agency"][k])
            p, rate = pair_info[(cid, aid)]
            decisions.append(AllocationDecision(
                run=run, case_id=cid, agency_id=aid, bucket=cand.cases[cid].bucket,
                overdue_fen=cand.cases[cid].overdue_fen, p_recovery=Decimal(str(round(p, 6))),
                commission_rate=rate, value_fen=int(ex["value_fen"][k]), holdout=bool(ex["holdout"][k]),
                n_eligible=n_eligible[cid], shadow_price_fen=int(ex["agency_shadow_price_fen"][k]),
                best_alternative_id=int(agency_ids[alt]) if alt >= 0 else None,
                best_alternative_value_fen=int(ex["best_alternative_value_fen"][k]) if alt >= 0 else None,
                best_alternative_shadow_price_fen=int(result.agency_price_fen[alt]) if alt >= 0 else None,
                customer_cases=int(ex["group_size"][k]), customer_value_fen=int(ex["group_value_fen"][k]),
                follows_customer=aid in cand.follows.get(cid, ()),
            ))
        AllocationDecision.objects.bulk_create(decisions, batch_size=2000)
        AllocationScreened.objects.bulk_create(
            [AllocationScreened(run=run, case_id=cid, reasons=reasons) for cid, reasons in sorted(cand.screened.items())],
            batch_size=2000)
        AllocationHeld.objects.bulk_create(
            [AllocationHeld(run=run, case_id=cid, reason=reason, customer_agency_id=aid)
             for cid, (reason, aid) in sorted(held.items())], batch_size=2000)
        audit_log(actor=acting_user, action="allocation.run", object_type="allocation_run", object_id=run.pk,
                  new={"as_of": as_of.isoformat(), "holdout_share": holdout_share, "seed": seed,
                       "placed": run.n_placed, "screened": run.n_screened, "held": run.n_held, "objective_fen": run.objective_fen,
                       "greedy_objective_fen": run.greedy_objective_fen, "optimal": run.certified_optimal,
                       "gap_fen": run.gap_fen, "solved_by": result.solved_by,
                       "time_limit_hit": result.time_limit_hit})
    return run


def allocation_run_apply(*, run: AllocationRun, acting_user: User | None) -> int:
    """Place the run's cases through case management (cases changed since the run are skipped).

    Returns how many were placed; the decisions are linked to their placements.
    """
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    with transaction.atomic():
        locked = AllocationRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != AllocationRun.Status.DRAFT:
            raise ApplicationError(_("This allocation run was already applied."), code=AllocationErrorCode.APPLIED)
        decisions = list(AllocationDecision.objects.filter(run=locked).values_list("case_id", "agency_id"))
        cases = Case.objects.in_bulk([c for c, _a in decisions])
        agencies = Agency.objects.in_bulk({a for _c, a in decisions})
        pairs = [(cases[c], agencies[a]) for c, a in decisions]
        placed = case_services.cases_place_bulk(placements=pairs, starts_on=locked.as_of, acting_user=acting_user)
        agency_of = dict(decisions)
        placement_of = {
            cid: pl_id for pl_id, cid, aid in Placement.objects.filter(
                case_id__in=list(agency_of), status=Placement.Status.ACTIVE, starts_on=locked.as_of
            ).values_list("id", "case_id", "agency_id") if agency_of.get(cid) == aid
        }
        linked = list(AllocationDecision.objects.filter(run=locked, case_id__in=list(placement_of)))
        for d in linked:
            d.placement_id = placement_of[d.case_id]
        AllocationDecision.objects.bulk_update(linked, ["placement"], batch_size=2000)
        locked.status = AllocationRun.Status.APPLIED
        locked.n_applied = placed
        locked.applied_at = timezone.now()
        locked.applied_by = acting_user
        locked.save(update_fields=["status", "n_applied", "applied_at", "applied_by"])
        audit_log(actor=acting_user, action="allocation.apply", object_type="allocation_run", object_id=locked.pk,
                  old={"status": AllocationRun.Status.DRAFT},
                  new={"status": AllocationRun.Status.APPLIED, "placed": placed, "decisions": len(decisions)})
    run.refresh_from_db()
    return placed


def run_allocation(*, as_of: date, holdout_share: float, seed: int, apply: bool) -> AllocationRun:
    """Hook for ``fieldcollect demo`` and the nightly cycle: solve (system actor) and optionally apply."""
    run = allocation_run_create(as_of=as_of, acting_user=None, holdout_share=holdout_share, seed=seed)
    if apply:
        allocation_run_apply(run=run, acting_user=None)
        run.refresh_from_db()
    return run
