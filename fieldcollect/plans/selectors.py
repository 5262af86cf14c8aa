"""Reads for repayment plans: a case's financial position, the priced options, the authority matrix
from the database, approval queues, proposals visible to a user, and promise kept rates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.access import cases_visible_to, has_capability
from fieldcollect.cases.models import Case, Payment, PromiseToPay
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.plans import promises as pp
from fieldcollect.plans.authority import DEFAULT_MATRIX, AuthorityMatrix, ProposalTerms
from fieldcollect.plans.errors import PlanErrorCode
from fieldcollect.plans.models import (
    ApproverGrant,
    AuthorityLevel,
    Hardship,
    ProposalState,
    RestructuringProposal,
)
from fieldcollect.plans.options import (
    HardshipCase,
    OptionKind,
    OptionSet,
    RestructureOption,
    RestructurePolicy,
    restructuring_options,
)
from fieldcollect.plans.schedule import Method, build_schedule, round_half_up

# Matrix role names of the non-approver steps (the authority module's vocabulary).
MAKER_ROLE = "collector"
ENDORSER_ROLE = "agency_manager"
SYSTEM_ROLE = "system"
CUSTOMER_ROLE = "customer"

DEFAULT_PLAN_GRACE_DAYS = 5
DEFAULT_PROMISE_GRACE_DAYS = 3
DEFAULT_OFFER_VALID_DAYS = 7
DEFAULT_PENALTY_UPLIFT = Decimal("0.5")  # 罚息: the contract rate raised by 50 % on overdue principal


def plans_setting(name: str, default: Any) -> Any:
    """``settings.FIELDCOLLECT_PLANS[name]`` or ``default``."""
    return (getattr(settings, "FIELDCOLLECT_PLANS", None) or {}).get(name, default)


def restructure_policy() -> RestructurePolicy:
    """The bank's restructuring policy (``FIELDCOLLECT_PLANS["policy"]``, a mapping, else the defaults)."""
    return RestructurePolicy.from_mapping(dict(plans_setting("policy", {})))


# ---------------------------------------------------------------- authority matrix


def authority_matrix() -> AuthorityMatrix:
    """The authority matrix from :class:`AuthorityLevel` rows (lowest rank first); the built-in default
    limits when the table is empty."""
    levels = list(AuthorityLevel.objects.order_by("rank", "id"))
    approvers: dict[str, Any]
    if levels:
        approvers = {
            lvl.role: {
                "max_waiver_share": str(lvl.max_waiver_share),
                "max_waiver_fen": int(lvl.max_waiver_fen),
                "max_term_extension_months": int(lvl.max_term_extension_months),
            }
            for lvl in levels
        }
    else:
        approvers = dict(DEFAULT_MATRIX["approvers"])
    return AuthorityMatrix.from_mapping({
        "maker_roles": [MAKER_ROLE],
        "endorser_roles": [ENDORSER_ROLE],
        "offer_roles": [SYSTEM_ROLE],
        "customer_role": CUSTOMER_ROLE,
        "approvers": approvers,
    })


def approver_level(user: User) -> str | None:
    """The matrix role a bank user approves in: their grant; else the lowest level for a collections
    manager and the highest for a superuser; ``None`` for everyone else."""
    if not user.is_authenticated or not user.is_active:
        return None
    grant = ApproverGrant.objects.select_related("level").filter(user=user).first()
    if grant is not None:
        return grant.level.role
    roles = authority_matrix().limits
    if not roles:
        return None
    if user.is_superuser:
        return roles[-1].role
    if user.role == Role.COLLECTIONS_MANAGER:
        return roles[0].role
    return None


def matrix_role_of(user: User) -> str:
    """The authority-module role of an agency user."""
    if user.role == Role.FIELD_COLLECTOR:
        return MAKER_ROLE
    if user.role == Role.AGENCY_MANAGER:
        return ENDORSER_ROLE
    return str(user.role)


# ---------------------------------------------------------------- position and options


def current_hardship(*, case: Case) -> Hardship | None:
    return Hardship.objects.filter(case=case).order_by("-recorded_at", "-id").first()


def _contract_method(case: Case) -> Method:
    return Method.EQUAL_PRINCIPAL if case.loan.method == "equal_principal" else Method.EQUAL_INSTALMENT


def case_position(*, case: Case, hardship: Hardship, as_of: date) -> HardshipCase:
    """The customer's position on ``as_of`` for the option builders.

    The loan's contractual schedule is rebuilt exactly (the bank's schedule rules); instalments due
    before ``as_of`` are behind us. Of the case's outstanding principal (from the nightly cycle), what
    exceeds the principal of the instalments not yet due is overdue principal; the rest of the overdue
    amount is overdue interest. The penalty (罚息) accrues on the overdue principal at the contract rate
    × the configured uplift for the days past due (actual/360).
    """
    loan = case.loan
    rate = Decimal(loan.annual_rate)
    method = _contract_method(case)
    contract = build_schedule(principal_fen=int(loan.principal_fen), annual_rate=rate,
                              term_months=int(loan.term_months), method=method.value, start=loan.disbursed_on)
    not_due = [i for i in contract.instalments if i.due_date >= as_of]
    not_due_principal = not_due[0].opening_fen if not_due else 0
    book_principal = int(case.outstanding_principal_fen)
    # principal is preserved whatever the data: not yet due + overdue = the book's outstanding principal
    arrears_principal = min(max(book_principal - not_due_principal, 0), int(case.overdue_fen))
    outstanding = book_principal - arrears_principal
    arrears_interest = max(int(case.overdue_fen) - arrears_principal, 0)
    uplift = Fraction(Decimal(str(plans_setting("penalty_uplift", DEFAULT_PENALTY_UPLIFT))))
    penalty = round_half_up(Fraction(arrears_principal) * Fraction(rate) * uplift * max(case.dpd, 0) / 360)
    remaining = max(len(not_due), 1) if outstanding else 0
    return HardshipCase(
        reason=hardship.reason,
        monthly_income_fen=int(hardship.monthly_income_fen),
        monthly_expenses_fen=int(hardship.monthly_expenses_fen),
        outstanding_principal_fen=outstanding,
        arrears_principal_fen=arrears_principal,
        arrears_interest_fen=arrears_interest,
        arrears_penalty_fen=penalty,
        remaining_term_months=remaining,
        annual_rate=rate,
        as_of=as_of,
        method=method,
    )


# Probability of payment by bucket (before the option's effect): a stand-in until the scoring registry
# publishes a propensity per treatment; replace it with :func:`set_propensity_model`.
PROPENSITY_BY_BUCKET: dict[str, Decimal] = {
    "M0": Decimal("0.80"), "M1": Decimal("0.65"), "M2": Decimal("0.50"), "M3": Decimal("0.40"),
    "M4": Decimal("0.32"), "M5": Decimal("0.26"), "M6": Decimal("0.20"), "M6+": Decimal("0.12"),
}
PropensityModel = Callable[[Case, HardshipCase, RestructureOption], Decimal]
_propensity_model: PropensityModel | None = None


def set_propensity_model(model: PropensityModel | None) -> None:
    """HOOK for the risk model: ``model(case, position, option)`` → probability of payment."""
    global _propensity_model
    _propensity_model = model


def default_propensity(case: Case, position: HardshipCase, option: RestructureOption) -> Decimal:
    """Bucket base rate, scaled by whether the option fits the customer's declared budget."""
    base = PROPENSITY_BY_BUCKET.get(case.bucket, Decimal("0.30"))
    if option.kind is OptionKind.CURRENT:
        factor = Decimal("0.5")  # in hardship the status quo is what is already failing
    elif option.affordable is None:  # a lump sum: likely only if a few months of surplus cover it
        disposable = max(position.disposable_income_fen, 0)
        factor = Decimal("1.0") if option.total_cost_fen <= 6 * disposable else Decimal("0.4")
    else:
        factor = Decimal("1.2") if option.affordable else Decimal("0.6")
    return min(base * factor, Decimal("0.95")).quantize(Decimal("0.0001"))


def case_options(*, case: Case, hardship: Hardship, as_of: date,
                 policy: RestructurePolicy | None = None) -> tuple[HardshipCase, OptionSet]:
    """The priced options for ``case`` (with the expected recovery under the propensity model)."""
    position = case_position(case=case, hardship=hardship, as_of=as_of)
    model = _propensity_model or default_propensity

    def probability(option: RestructureOption) -> Decimal:
        return model(case, position, option)

    return position, restructuring_options(position, policy=policy or restructure_policy(),
                                           probability=probability)


# ---------------------------------------------------------------- proposals


def proposals_visible_to(user: User) -> QuerySet[RestructuringProposal]:
    """Proposals on cases the user can see (bank users: all)."""
    qs = RestructuringProposal.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_bank_user:
        return qs
    return qs.filter(case_id__in=cases_visible_to(user).values("pk"))


def access_proposal_by_id(proposal_id: int, user: User) -> RestructuringProposal:
    proposal = (
        proposals_visible_to(user)
        .select_related("case", "case__loan", "case__customer", "maker", "endorser", "approver", "agency", "hardship")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFoundError(_("Plan not found."), code=PlanErrorCode.NOT_FOUND, extra={"proposal_id": proposal_id})
    return proposal


@dataclass(frozen=True)
class QueueItem:
    proposal: RestructuringProposal
    can_act: bool
    within_limits: bool | None
    escalate_to: tuple[str, ...]


def approval_queue(*, user: User, limit: int = 200) -> list[QueueItem]:
    """What waits for ``user``: an agency manager's proposals to endorse; a bank approver's endorsed and
    escalated proposals, and approved ones to offer. Oldest first."""
    base = proposals_visible_to(user).select_related("case", "case__customer", "maker", "agency", "endorser")
    matrix = authority_matrix()
    items: list[QueueItem] = []
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        for p in base.filter(state=ProposalState.PROPOSED, agency_id=user.agency_id).order_by("proposed_at", "id")[:limit]:
            items.append(QueueItem(p, p.maker_id != user.pk, None, ()))
        return items
    level = approver_level(user)
    if level is None:
        return items
    states = [ProposalState.ENDORSED, ProposalState.ESCALATED, ProposalState.APPROVED, ProposalState.OFFERED]
    for p in base.filter(state__in=states).order_by("proposed_at", "id")[:limit]:
        terms = ProposalTerms(kind=p.kind, waiver_fen=p.waiver_fen, waiver_share=Decimal(p.waiver_share),
                              term_extension_months=p.term_extension_months)
        within = matrix.can_approve(level, terms)
        checkers = {p.maker_id, p.endorser_id, p.escalated_by_id}
        if p.state == ProposalState.ESCALATED:
            can_act = level in p.escalated_to and user.pk not in checkers
        elif p.state == ProposalState.ENDORSED:
            can_act = user.pk not in checkers
        else:
            can_act = p.state == ProposalState.APPROVED
        items.append(QueueItem(p, can_act, within, matrix.approvers_for(terms)))
    return items


def can_record_hardship(user: User, case: Case) -> bool:
    """Whether ``user`` may record the customer's hardship on ``case`` (an open case they may contact)."""
    return has_capability(user, "case.contact") and case.closed_on is None


def can_propose_plan(user: User, case: Case) -> bool:
    """Whether ``user`` may propose a plan on ``case``: its own field collector (the maker)."""
    return (user.role == Role.FIELD_COLLECTOR and case.collector_id is not None
            and getattr(getattr(user, "collector", None), "pk", None) == case.collector_id)


def proposals_for_case(*, case: Case) -> QuerySet[RestructuringProposal]:
    return RestructuringProposal.objects.filter(case=case).select_related("maker").order_by("-proposed_at", "-id")


# ---------------------------------------------------------------- promises to pay


def _promise_outcomes(qs: QuerySet[PromiseToPay], *, as_of: date, grace_days: int) -> list[pp.PromiseOutcome]:
    rows = list(qs.exclude(status=PromiseToPay.Status.CANCELLED).select_related("case"))
    loan_ids = {r.case.loan_id for r in rows}
    payments: dict[int, list[pp.Payment]] = {}
    for loan_id, paid_on, amount in Payment.objects.filter(loan_id__in=loan_ids, paid_on__lte=as_of).values_list(
        "loan_id", "paid_on", "amount_fen"
    ):
        payments.setdefault(loan_id, []).append(pp.Payment(paid_on=paid_on, amount_fen=int(amount)))
    user_ids = {r.recorded_by_id for r in rows if r.recorded_by_id is not None}
    collector_of = dict(Collector.objects.filter(user_id__in=user_ids).values_list("user_id", "collector_id"))
    out = []
    for r in rows:
        promise = pp.Promise(
            amount_fen=int(r.amount_fen), promised_date=r.due_on, created_on=min(r.promised_on, r.due_on),
            collector_id=str(collector_of[r.recorded_by_id]) if r.recorded_by_id in collector_of else None,
            agency_id=str(r.agency_id) if r.agency_id is not None else None,
            case_id=str(r.case_id), promise_id=str(r.pk),
        )
        out.append(pp.evaluate_promise(promise=promise, payments=payments.get(r.case.loan_id, []), as_of=as_of,
                                       grace_days=grace_days))
    return out


@dataclass(frozen=True)
class KeptRates:
    overall: pp.KeptRate
    by_collector: dict[str, pp.KeptRate]
    by_agency: dict[str, pp.KeptRate]


def promise_kept_rates(*, as_of: date, since: date | None = None, grace_days: int | None = None,
                       agency_id: int | None = None) -> KeptRates:
    """Promise kept rates per collector and per agency, decided from the payments on ``as_of``.

    Promises made from ``since`` (inclusive) count; cancelled (superseded) promises never do.
    """
    qs = PromiseToPay.objects.filter(promised_on__lte=as_of)
    if since is not None:
        qs = qs.filter(promised_on__gte=since)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    grace = int(plans_setting("promise_grace_days", DEFAULT_PROMISE_GRACE_DAYS)) if grace_days is None else grace_days
    outcomes = _promise_outcomes(qs, as_of=as_of, grace_days=grace)
    return KeptRates(
        overall=pp.overall_kept_rate(outcomes),
        by_collector=pp.kept_rate_by_collector(outcomes),
        by_agency=pp.kept_rate_by_agency(outcomes),
    )


def open_promise_outcomes(*, as_of: date, grace_days: int,
                          case_ids: Iterable[int] | None = None) -> list[tuple[PromiseToPay, pp.PromiseOutcome]]:
    """Open promises with their outcome on ``as_of`` (for the services' evaluation); only those of
    ``case_ids`` when given (a same-day payment's cases)."""
    qs = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN)
    if case_ids is not None:
        qs = qs.filter(case_id__in=list(case_ids))
    by_id = {str(p.pk): p for p in qs.select_related("case", "recorded_by")}
    return [(by_id[o.promise.promise_id or ""], o) for o in _promise_outcomes(qs, as_of=as_of, grace_days=grace_days)]


def plans_to_watch(case_ids: Iterable[int] | None = None) -> QuerySet[RestructuringProposal]:
    qs = RestructuringProposal.objects.filter(Q(state=ProposalState.ACCEPTED), Q(plan_status="performing"))
    if case_ids is not None:
        qs = qs.filter(case_id__in=list(case_ids))
    return qs.select_related("case", "case__loan")
