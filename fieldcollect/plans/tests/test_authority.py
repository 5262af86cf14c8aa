"""Authority matrix and maker-checker transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fieldcollect.plans.authority import (
    Action,
    Actor,
    AuthorityMatrix,
    ErrorCode,
    PlanState,
    Proposal,
    ProposalTerms,
    TransitionError,
    propose,
    terms_from_option,
    transition,
    validate,
)

MATRIX_TOML = """
maker_roles = ["collector"]
endorser_roles = ["agency_manager"]
offer_roles = ["system"]

[approvers.bank_approver]
max_waiver_share = "0.10"
max_waiver_amount = "2000.00"
max_term_extension_months = 12

[approvers.collections_manager]
max_waiver_share = "0.30"
max_waiver_fen = 2000000
max_term_extension_months = 36
"""

T0 = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
COLLECTOR = Actor("u-col", "collector", "ag-1")
MANAGER = Actor("u-mgr", "agency_manager", "ag-1")
OTHER_MANAGER = Actor("u-mgr2", "agency_manager", "ag-2")
APPROVER = Actor("u-appr", "bank_approver")
HEAD = Actor("u-head", "collections_manager")
SYSTEM = Actor("system", "system")
CUSTOMER = Actor("cust-42", "customer")


@pytest.fixture
def matrix() -> AuthorityMatrix:
    return AuthorityMatrix.from_toml(MATRIX_TOML)


def small_terms() -> ProposalTerms:
    return ProposalTerms(kind="penalty_waiver", waiver_fen=12_000, waiver_share=Decimal("0.0117"),
                         term_extension_months=0)


def big_terms() -> ProposalTerms:
    return ProposalTerms(kind="settlement", waiver_fen=300_000, waiver_share=Decimal("0.25"), term_extension_months=0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def endorsed(matrix: AuthorityMatrix, terms: ProposalTerms) -> Proposal:
    p = propose(terms=terms, maker=COLLECTOR, at=T0, matrix=matrix, customer_id="cust-42")
    return transition(proposal=p, action=Action.ENDORSE, actor=MANAGER, at=at(5), matrix=matrix)


# --------------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------------


def test_matrix_from_toml(matrix: AuthorityMatrix) -> None:
    appr = matrix.limit_for("bank_approver")
    assert appr is not None
    assert appr.max_waiver_fen == 200_000
    assert appr.max_waiver_share == Decimal("0.10")
    head = matrix.limit_for("collections_manager")
    assert head is not None and head.max_waiver_fen == 2_000_000
    assert matrix.approver_roles == {"bank_approver", "collections_manager"}
    assert matrix.limit_for("collector") is None


@pytest.mark.parametrize(
    ("terms", "approvers"),
    [
        (ProposalTerms("x", 200_000, Decimal("0.10"), 12), ("bank_approver", "collections_manager")),  # at limits
        (ProposalTerms("x", 200_001, Decimal("0.05"), 0), ("collections_manager",)),  # amount over
        (ProposalTerms("x", 1_000, Decimal("0.11"), 0), ("collections_manager",)),  # share over
        (ProposalTerms("x", 0, Decimal(0), 13), ("collections_manager",)),  # extension over
        (ProposalTerms("x", 0, Decimal(0), 37), ()),  # beyond everyone
        (ProposalTerms("x", 1_000, Decimal("0.31"), 0), ()),
    ],
)
def test_approvers_for(matrix: AuthorityMatrix, terms: ProposalTerms, approvers: tuple[str, ...]) -> None:
    assert matrix.approvers_for(terms) == approvers
    assert matrix.can_approve("bank_approver", terms) == ("bank_approver" in approvers)


def test_breaches_are_explained(matrix: AuthorityMatrix) -> None:
    limit = matrix.limit_for("bank_approver")
    assert limit is not None
    reasons = limit.breaches(ProposalTerms("x", 250_000, Decimal("0.2"), 24))
    assert len(reasons) == 3
    assert any("2500.00 > 2000.00" in r for r in reasons)


def test_bad_matrices_are_rejected() -> None:
    with pytest.raises(ValueError, match="approvers"):
        AuthorityMatrix.from_mapping({})
    with pytest.raises(ValueError, match="max_waiver_share"):
        AuthorityMatrix.from_mapping({"approvers": {"a": {"max_waiver_amount": "1"}}})
    with pytest.raises(ValueError, match="share"):
        AuthorityMatrix.from_mapping({"approvers": {"a": {"max_waiver_share": "1.5", "max_waiver_amount": "1"}}})
    assert AuthorityMatrix.default().approvers_for(small_terms()) == ("bank_approver", "collections_manager")


def test_terms_from_option() -> None:
    from datetime import date

    from fieldcollect.plans.options import HardshipCase, waiver

    case = HardshipCase(reason="illness", monthly_income_fen=300_000, monthly_expenses_fen=200_000,
                        outstanding_principal_fen=500_000, arrears_principal_fen=50_000, arrears_interest_fen=10_000,
                        arrears_penalty_fen=5_000, remaining_term_months=6, annual_rate=Decimal("0.15"),
                        as_of=date(2026, 6, 30))
    terms = terms_from_option(waiver(case))
    assert terms == ProposalTerms("penalty_waiver", 5_000, Decimal("0.008850"), 0)


# --------------------------------------------------------------------------------------------------
# Maker-checker
# --------------------------------------------------------------------------------------------------


def test_happy_path_is_fully_audited(matrix: AuthorityMatrix) -> None:
    p = endorsed(matrix, small_terms())
    p = transition(proposal=p, action="approve", actor=APPROVER, at=at(10), matrix=matrix, note="ok")
    assert p.state is PlanState.APPROVED
    assert (p.approver_id, p.approver_role) == ("u-appr", "bank_approver")
    p = transition(proposal=p, action=Action.OFFER, actor=SYSTEM, at=at(11), matrix=matrix,
                   expires_at=at(11) + timedelta(days=7))
    assert p.state is PlanState.OFFERED
    p = transition(proposal=p, action=Action.ACCEPT, actor=CUSTOMER, at=at(60), matrix=matrix)
    assert p.state is PlanState.ACCEPTED
    assert p.is_final
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in p.history] == [
        (Action.PROPOSE, None, PlanState.PROPOSED, "u-col"),
        (Action.ENDORSE, PlanState.PROPOSED, PlanState.ENDORSED, "u-mgr"),
        (Action.APPROVE, PlanState.ENDORSED, PlanState.APPROVED, "u-appr"),
        (Action.OFFER, PlanState.APPROVED, PlanState.OFFERED, "system"),
        (Action.ACCEPT, PlanState.OFFERED, PlanState.ACCEPTED, "cust-42"),
    ]
    assert p.history[2].note == "ok"


def test_only_collectors_propose(matrix: AuthorityMatrix) -> None:
    with pytest.raises(TransitionError) as err:
        propose(terms=small_terms(), maker=APPROVER, at=T0, matrix=matrix)
    assert err.value.codes == (ErrorCode.ROLE_NOT_ALLOWED,)
    with pytest.raises(TransitionError) as err:
        propose(terms=small_terms(), maker=COLLECTOR, at=datetime(2026, 6, 30, 9), matrix=matrix)
    assert ErrorCode.NAIVE_DATETIME in err.value.codes


def test_same_person_cannot_make_and_check(matrix: AuthorityMatrix) -> None:
    # a collector who is also an agency manager cannot endorse their own proposal
    dual = Actor("u-col", "agency_manager", "ag-1")
    p = propose(terms=small_terms(), maker=COLLECTOR, at=T0, matrix=matrix)
    codes = [v.code for v in validate(proposal=p, action=Action.ENDORSE, actor=dual, at=at(1), matrix=matrix)]
    assert codes == [ErrorCode.SAME_PERSON]
    # the endorser cannot also approve
    p = endorsed(matrix, small_terms())
    endorser_as_approver = Actor("u-mgr", "bank_approver")
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action=Action.APPROVE, actor=endorser_as_approver, at=at(9), matrix=matrix)
    assert err.value.codes == (ErrorCode.SAME_PERSON,)
    maker_as_approver = Actor("u-col", "bank_approver")
    with pytest.raises(TransitionError):
        transition(proposal=p, action=Action.APPROVE, actor=maker_as_approver, at=at(9), matrix=matrix)


def test_endorser_must_be_an_agency_manager_of_the_same_agency(matrix: AuthorityMatrix) -> None:
    p = propose(terms=small_terms(), maker=COLLECTOR, at=T0, matrix=matrix)
    codes = [v.code for v in validate(proposal=p, action="endorse", actor=OTHER_MANAGER, at=at(1), matrix=matrix)]
    assert codes == [ErrorCode.OTHER_AGENCY]
    codes = [v.code for v in validate(proposal=p, action="endorse", actor=APPROVER, at=at(1), matrix=matrix)]
    assert ErrorCode.ROLE_NOT_ALLOWED in codes


def test_manager_may_reject_a_proposal(matrix: AuthorityMatrix) -> None:
    p = propose(terms=small_terms(), maker=COLLECTOR, at=T0, matrix=matrix)
    p = transition(proposal=p, action=Action.REJECT, actor=MANAGER, at=at(2), matrix=matrix, note="income unproven")
    assert p.state is PlanState.REJECTED
    assert p.allowed_actions() == ()
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action=Action.ENDORSE, actor=MANAGER, at=at(3), matrix=matrix)
    assert err.value.codes == (ErrorCode.INVALID_TRANSITION,)


def test_approval_beyond_limits_requires_escalation(matrix: AuthorityMatrix) -> None:
    p = endorsed(matrix, big_terms())
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action=Action.APPROVE, actor=APPROVER, at=at(10), matrix=matrix)
    assert err.value.codes == (ErrorCode.ESCALATION_REQUIRED,)
    assert "collections_manager" in str(err.value)
    # an approver whose limits cover the terms may approve an endorsed plan directly

    assert validate(proposal=p, action=Action.APPROVE, actor=HEAD, at=at(10), matrix=matrix) == []
    p = transition(proposal=p, action=Action.ESCALATE, actor=APPROVER, at=at(11), matrix=matrix)
    assert p.state is PlanState.ESCALATED
    assert p.escalated_to == ("collections_manager",)
    # the escalating approver cannot decide any more, even under another role
    assert validate(proposal=p, action=Action.APPROVE, actor=Actor("u-appr", "collections_manager"), at=at(12),
                    matrix=matrix)[0].code is ErrorCode.SAME_PERSON
    codes = [v.code for v in validate(proposal=p, action="approve", actor=Actor("u-x", "bank_approver"), at=at(12),
                                      matrix=matrix)]
    assert ErrorCode.NOT_ESCALATION_TARGET in codes and ErrorCode.ESCALATION_REQUIRED in codes
    p = transition(proposal=p, action=Action.APPROVE, actor=HEAD, at=at(20), matrix=matrix)
    assert p.state is PlanState.APPROVED
    assert p.approver_role == "collections_manager"


def test_escalation_only_when_needed_and_possible(matrix: AuthorityMatrix) -> None:
    p = endorsed(matrix, small_terms())
    codes = [v.code for v in validate(proposal=p, action="escalate", actor=APPROVER, at=at(9), matrix=matrix)]
    assert codes == [ErrorCode.WITHIN_LIMITS]
    huge = endorsed(matrix, ProposalTerms("settlement", 5_000_000, Decimal("0.5"), 0))
    codes = [v.code for v in validate(proposal=huge, action="approve", actor=HEAD, at=at(9), matrix=matrix)]
    assert codes == [ErrorCode.BEYOND_ALL_AUTHORITY]
    codes = [v.code for v in validate(proposal=huge, action="escalate", actor=APPROVER, at=at(9), matrix=matrix)]
    assert codes == [ErrorCode.BEYOND_ALL_AUTHORITY]
    p = transition(proposal=huge, action=Action.REJECT, actor=HEAD, at=at(9), matrix=matrix)
    assert p.state is PlanState.REJECTED and p.approver_id == "u-head"


def test_collectors_and_managers_have_no_approval_authority(matrix: AuthorityMatrix) -> None:
    p = endorsed(matrix, small_terms())
    for actor in (Actor("u-col2", "collector", "ag-1"), Actor("u-mgr3", "agency_manager", "ag-1")):
        codes = [v.code for v in validate(proposal=p, action="approve", actor=actor, at=at(9), matrix=matrix)]
        assert codes == [ErrorCode.ROLE_NOT_ALLOWED]


def test_offer_needs_an_expiry_and_expires(matrix: AuthorityMatrix) -> None:
    p = transition(proposal=endorsed(matrix, small_terms()), action="approve", actor=APPROVER, at=at(10),
                   matrix=matrix)
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action="offer", actor=SYSTEM, at=at(11), matrix=matrix)
    assert err.value.codes == (ErrorCode.EXPIRY_REQUIRED,)
    expiry = at(11) + timedelta(days=7)
    p = transition(proposal=p, action="offer", actor=SYSTEM, at=at(11), matrix=matrix, expires_at=expiry)
    # too late to accept
    late = expiry + timedelta(seconds=1)
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action="accept", actor=CUSTOMER, at=late, matrix=matrix)
    assert err.value.codes == (ErrorCode.OFFER_EXPIRED,)
    # too early to expire
    with pytest.raises(TransitionError) as err:
        transition(proposal=p, action="expire", actor=SYSTEM, at=expiry, matrix=matrix)
    assert err.value.codes == (ErrorCode.OFFER_NOT_EXPIRED,)
    p2 = transition(proposal=p, action="expire", actor=SYSTEM, at=late, matrix=matrix)
    assert p2.state is PlanState.EXPIRED
    # accepting exactly at the expiry instant is still in time
    p3 = transition(proposal=p, action="accept", actor=CUSTOMER, at=expiry, matrix=matrix)
    assert p3.state is PlanState.ACCEPTED


def test_only_the_customer_of_the_offer_accepts(matrix: AuthorityMatrix) -> None:
    p = transition(proposal=endorsed(matrix, small_terms()), action="approve", actor=APPROVER, at=at(10),
                   matrix=matrix)
    p = transition(proposal=p, action="offer", actor=APPROVER, at=at(11), matrix=matrix,
                   expires_at=at(11) + timedelta(days=1))
    codes = [v.code for v in validate(proposal=p, action="accept", actor=Actor("cust-7", "customer"), at=at(20),
                                      matrix=matrix)]
    assert codes == [ErrorCode.WRONG_CUSTOMER]
    codes = [v.code for v in validate(proposal=p, action="accept", actor=COLLECTOR, at=at(20), matrix=matrix)]
    assert ErrorCode.ROLE_NOT_ALLOWED in codes


def test_actions_cannot_go_back_in_time(matrix: AuthorityMatrix) -> None:
    p = endorsed(matrix, small_terms())
    codes = [v.code for v in validate(proposal=p, action="approve", actor=APPROVER, at=at(1), matrix=matrix)]
    assert codes == [ErrorCode.TIME_BEFORE_LAST_EVENT]


def test_every_state_allows_only_its_transitions(matrix: AuthorityMatrix) -> None:
    p = propose(terms=small_terms(), maker=COLLECTOR, at=T0, matrix=matrix)
    assert set(p.allowed_actions()) == {Action.ENDORSE, Action.REJECT}
    for action in (Action.APPROVE, Action.OFFER, Action.ACCEPT, Action.EXPIRE, Action.ESCALATE):
        codes = [v.code for v in validate(proposal=p, action=action, actor=HEAD, at=at(1), matrix=matrix)]
        assert codes == [ErrorCode.INVALID_TRANSITION]
