"""Plans services on the database: options, authority matrix, maker-checker, offer and acceptance."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import PromiseToPay, Task
from fieldcollect.core import pdf as core_pdf
from fieldcollect.core.errors import ApplicationError
from fieldcollect.plans import links, selectors, services
from fieldcollect.plans.models import (
    AuthorityLevel,
    PlanAgreement,
    PlanInstalment,
    ProposalState,
    RestructuringProposal,
)
from fieldcollect.plans.options import OptionKind
from fieldcollect.plans.tests.conftest import record_hardship, today

pytestmark = pytest.mark.django_db

KINDS = [k for k in OptionKind if k is not OptionKind.CURRENT]


def _propose(world, kind: str, **kw) -> RestructuringProposal:
    return services.plan_propose(case=world.case, acting_user=world.collector_user, kind=kind, **kw)


def _to_endorsed(world, kind: str) -> RestructuringProposal:
    record_hardship(world)
    p = _propose(world, kind)
    return services.plan_endorse(proposal=p, acting_user=world.manager_a)


def _to_offered(world, kind: str = "term_extension") -> tuple[RestructuringProposal, services.Offer]:
    p = _to_endorsed(world, kind)
    p = services.plan_decide(proposal=p, acting_user=world.approver, decision="approve")
    offer = services.plan_offer(proposal=p, acting_user=world.approver)
    p.refresh_from_db()
    return p, offer


# ---------------------------------------------------------------- position and options


def test_position_follows_the_loan_schedule(plan_world):
    w = plan_world
    hardship = record_hardship(w)
    pos = selectors.case_position(case=w.case, hardship=hardship, as_of=today())
    # principal is preserved: not yet due + overdue principal = the case's outstanding principal
    assert pos.outstanding_principal_fen + pos.arrears_principal_fen == w.case.outstanding_principal_fen
    assert pos.arrears_principal_fen + pos.arrears_interest_fen == w.case.overdue_fen
    assert pos.arrears_interest_fen > 0 and pos.arrears_penalty_fen > 0
    assert pos.remaining_term_months == 24 - 7
    assert pos.disposable_income_fen == 300_000


@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
def test_each_option_is_priced_on_the_server_and_stored(plan_world, kind):
    w = plan_world
    hardship = record_hardship(w)
    p = _propose(w, kind.value)
    _pos, options = selectors.case_options(case=w.case, hardship=hardship, as_of=today())
    expected = options.get(kind)
    assert expected is not None
    assert p.state == ProposalState.PROPOSED and p.kind == kind.value and p.agency_id == w.agency_a.pk
    assert p.total_cost_fen == expected.total_cost_fen
    assert p.bank_loss_pv_fen == expected.bank_loss_pv_fen
    assert p.waiver_fen == expected.waiver_fen and p.waiver_share == expected.waiver_share
    assert p.expected_recovery_fen == expected.expected_recovery_fen and p.expected_recovery_fen > 0
    assert p.total_owed_fen == _pos.total_owed_fen
    # the stored schedule: payments add up, principal amortises the new principal exactly
    assert sum(r["payment_fen"] for r in p.schedule) == p.total_cost_fen
    assert sum(r["principal_fen"] for r in p.schedule) == p.new_principal_fen + sum(r["capitalised_fen"] for r in p.schedule)
    assert p.schedule[-1]["closing_fen"] == 0
    assert all(r["payment_fen"] >= 0 and r["principal_fen"] >= 0 for r in p.schedule)
    if kind is OptionKind.LOWER_INSTALMENT:
        assert p.max_instalment_fen <= 150_000 and p.affordable is True
    if kind is OptionKind.SETTLEMENT:
        assert len(p.schedule) == 1 and p.waiver_fen == p.total_owed_fen - p.total_cost_fen
    if kind in (OptionKind.PENALTY_WAIVER, OptionKind.INTEREST_WAIVER, OptionKind.SETTLEMENT):
        assert p.waiver_fen > 0
    else:
        assert p.waiver_fen == 0
    audit = AuditEntry.objects.get(action="plan.propose", object_id=str(p.pk))
    assert audit.actor == w.collector_user and audit.new["kind"] == kind.value
    assert AuditEntry.objects.filter(action="plan.hardship", object_id=str(w.case.pk)).count() == 1


def test_proposal_needs_hardship_and_the_cases_collector(plan_world):
    w = plan_world
    with pytest.raises(ApplicationError) as exc:
        _propose(w, "term_extension")
    assert exc.value.code == "plan.no_hardship"
    record_hardship(w)
    with pytest.raises(ApplicationError) as exc:
        services.plan_propose(case=w.case, acting_user=w.other_collector_user, kind="term_extension")
    assert exc.value.code == "plan.not_case_collector" and exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        services.plan_propose(case=w.case, acting_user=w.manager_a, kind="term_extension")
    assert exc.value.status_code == 403
    _propose(w, "term_extension")
    with pytest.raises(ApplicationError) as exc:
        _propose(w, "lower_instalment")
    assert exc.value.code == "plan.already_open"


def test_unaffordable_lower_instalment_is_refused(plan_world):
    w = plan_world
    record_hardship(w, income=500_000, expenses=500_000)
    with pytest.raises(ApplicationError) as exc:
        _propose(w, "lower_instalment")
    assert exc.value.code == "plan.option_not_feasible"


# ---------------------------------------------------------------- authority and maker-checker


def test_small_waiver_is_approved_by_the_lowest_level(plan_world):
    w = plan_world
    p = _to_endorsed(w, "interest_waiver")
    assert p.state == ProposalState.ENDORSED and p.endorser == w.manager_a
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="approve", note="ok")
    assert p.state == ProposalState.APPROVED and p.approver == w.approver and p.approver_role == "bank_approver"
    actions = list(p.events.values_list("action", flat=True))
    assert actions == ["propose", "endorse", "approve"]
    assert set(AuditEntry.objects.filter(object_type="plan", object_id=str(p.pk)).values_list("action", flat=True)) \
        == {"plan.propose", "plan.endorse", "plan.approve"}


def test_beyond_limits_requires_escalation_to_the_covering_level(plan_world):
    w = plan_world
    p = _to_endorsed(w, "settlement")  # waives 20 % of everything owed
    assert p.waiver_share > Decimal("0.10")
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    assert exc.value.code == "plan.escalation_required"
    p.refresh_from_db()
    assert p.state == ProposalState.ENDORSED  # nothing changed
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="escalate")
    assert p.state == ProposalState.ESCALATED and p.escalated_to == ["collections_manager"]
    # another approver of the same (too low) level may not decide an escalated plan
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p, acting_user=w.approver2, decision="approve")
    assert exc.value.code == "plan.not_escalation_target"
    p = services.plan_decide(proposal=p, acting_user=w.head, decision="approve")
    assert p.state == ProposalState.APPROVED and p.approver_role == "collections_manager"


def test_escalating_within_limits_is_refused(plan_world):
    w = plan_world
    p = _to_endorsed(w, "term_extension")
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p, acting_user=w.approver, decision="escalate")
    assert exc.value.code == "plan.within_limits"


def test_matrix_edited_by_the_bank_applies_at_once(plan_world):
    w = plan_world
    AuthorityLevel.objects.filter(role="collections_manager").update(max_waiver_share=Decimal("0.15"))
    p = _to_endorsed(w, "settlement")
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p, acting_user=w.approver, decision="escalate")
    assert exc.value.code == "plan.beyond_all_authority"
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="reject", note="too generous")
    assert p.state == ProposalState.REJECTED
    # a raised limit lets the lowest level approve a term extension of 12 months... and not 13
    AuthorityLevel.objects.filter(role="bank_approver").update(max_term_extension_months=11)
    p2 = _propose(w, "term_extension")
    p2 = services.plan_endorse(proposal=p2, acting_user=w.manager_a)
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p2, acting_user=w.approver, decision="approve")
    assert exc.value.code == "plan.escalation_required"


def test_same_person_cannot_make_and_check(plan_world):
    w = plan_world
    p = _to_endorsed(w, "settlement")
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="escalate")
    # the approver who escalated is later given the higher level: still may not check it twice
    from fieldcollect.plans.models import ApproverGrant

    ApproverGrant.objects.create(user=w.approver, level=AuthorityLevel.objects.get(role="collections_manager"))
    with pytest.raises(ApplicationError) as exc:
        services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    assert exc.value.code == "plan.same_person" and exc.value.status_code == 403
    p.refresh_from_db()
    assert p.state == ProposalState.ESCALATED and p.approver is None


def test_endorsement_by_another_agency_or_role_is_refused(plan_world):
    w = plan_world
    record_hardship(w)
    p = _propose(w, "term_extension")
    with pytest.raises(ApplicationError) as exc:
        services.plan_endorse(proposal=p, acting_user=w.manager_b)
    assert exc.value.code == "plan.other_agency" and exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        services.plan_endorse(proposal=p, acting_user=w.collector_user)  # the maker
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:  # a bank approver cannot skip the agency's endorsement
        services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    assert exc.value.code == "plan.invalid_transition"
    with pytest.raises(ApplicationError) as exc:  # an agency manager has no approval authority
        services.plan_decide(proposal=p, acting_user=w.manager_a, decision="approve")
    assert exc.value.code == "plan.no_authority"
    p.refresh_from_db()
    assert p.state == ProposalState.PROPOSED and p.version == 1


def test_stale_version_is_a_conflict(plan_world):
    w = plan_world
    record_hardship(w)
    p = _propose(w, "term_extension")
    with pytest.raises(ApplicationError) as exc:
        services.plan_endorse(proposal=p, acting_user=w.manager_a, expected_version=p.version + 1)
    assert exc.value.status_code == 409


# ---------------------------------------------------------------- offer and acceptance


def test_acceptance_amends_the_schedule_and_restructures_the_case(plan_world):
    w = plan_world
    p, offer = _to_offered(w, "lower_instalment")
    assert p.state == ProposalState.OFFERED
    agreement = offer.agreement
    assert agreement.sha256 == hashlib.sha256(bytes(agreement.pdf)).hexdigest()
    assert agreement.expires_at - agreement.issued_at == timedelta(days=7)
    accepted = services.plan_accept(token=offer.token, client_ip="10.0.0.1")
    assert accepted.state == ProposalState.ACCEPTED and accepted.plan_status == "performing"
    rows = list(PlanInstalment.objects.filter(proposal=p).order_by("seq"))
    assert [(r.seq, r.due_date.isoformat(), r.payment_fen) for r in rows] == [
        (r["seq"], r["due_date"], r["payment_fen"]) for r in p.schedule
    ]
    assert sum(r.principal_fen for r in rows) == p.new_principal_fen
    assert all(r.loan_id == w.case.loan_id for r in rows)
    w.case.refresh_from_db()
    assert w.case.status == CaseStatus.RESTRUCTURED
    agreement.refresh_from_db()
    assert agreement.accepted_at is not None
    assert AuditEntry.objects.filter(action="plan.accept", object_id=str(p.pk)).exists()
    assert AuditEntry.objects.filter(action="plan.amend_schedule", object_id=str(w.case.loan_id)).exists()
    assert AuditEntry.objects.filter(action="case.transition", object_id=str(w.case.pk),
                                     new__status="restructured").exists()
    # the link cannot be used twice
    with pytest.raises(ApplicationError) as exc:
        services.plan_accept(token=offer.token)
    assert exc.value.code == "plan.already_answered"


def test_expired_or_tampered_links_are_refused(plan_world):
    w = plan_world
    p, offer = _to_offered(w)
    later = offer.agreement.expires_at + timedelta(seconds=5)
    with pytest.raises(links.LinkExpired):
        services.plan_accept(token=offer.token, now=later)
    tampered = offer.token[:-3] + ("AAA" if offer.token[-3:] != "AAA" else "BBB")
    with pytest.raises(links.LinkInvalid):
        services.plan_accept(token=tampered)
    # a token for another agreement id, signed with another salt, is not accepted either
    from django.core import signing

    forged = signing.TimestampSigner(salt="other").sign_object({"a": offer.agreement.pk, "n": "x", "e": 4102444800})
    with pytest.raises(links.LinkInvalid):
        services.plan_accept(token=forged)
    # a genuine token with the wrong nonce (e.g. a superseded agreement) is refused
    stale = links.make_link_token(agreement_id=offer.agreement.pk, nonce="old",
                                  expires_at=offer.agreement.expires_at)
    with pytest.raises(links.LinkInvalid):
        services.plan_accept(token=stale)
    p.refresh_from_db()
    w.case.refresh_from_db()
    assert p.state == ProposalState.OFFERED and w.case.status != CaseStatus.RESTRUCTURED
    assert not PlanInstalment.objects.filter(proposal=p).exists()
    # the expiry job closes it
    assert services.plans_expire(now=later) == 1
    p.refresh_from_db()
    assert p.state == ProposalState.EXPIRED


def test_customer_declines(plan_world):
    w = plan_world
    p, offer = _to_offered(w)
    p = services.plan_decline(token=offer.token, reason="想一次性还清")
    assert p.state == ProposalState.DECLINED
    assert PlanAgreement.objects.get(pk=offer.agreement.pk).declined_at is not None
    task = Task.objects.get(case=w.case, kind=Task.Kind.CALL_BACK)
    assert task.assignee == w.collector_user
    with pytest.raises(ApplicationError):
        services.plan_accept(token=offer.token)
    # a new proposal may follow
    assert _propose(w, "lower_instalment").state == ProposalState.PROPOSED


def test_offer_needs_an_approved_plan_and_authority(plan_world):
    w = plan_world
    p = _to_endorsed(w, "term_extension")
    with pytest.raises(ApplicationError) as exc:
        services.plan_offer(proposal=p, acting_user=w.approver)
    assert exc.value.code == "plan.invalid_transition"
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    with pytest.raises(ApplicationError) as exc:
        services.plan_offer(proposal=p, acting_user=w.manager_a)
    assert exc.value.code == "plan.no_authority"
    assert services.plan_offer(proposal=p, acting_user=None).agreement.proposal_id == p.pk  # the system


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_real_agreement_pdf_is_bilingual(plan_world):
    w = plan_world
    services.set_pdf_renderer(None)
    try:
        core_pdf.find_cjk_font()
    except core_pdf.FontNotFound:
        pytest.skip("no CJK font")
    _p, offer = _to_offered(w, "term_extension")
    pdf = bytes(offer.agreement.pdf)
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "还款计划调整协议" in text and "Repayment Plan Restructuring Agreement" in text
    assert offer.agreement.agreement_no in text and "延长期限" in text and "Term extension" in text


# ---------------------------------------------------------------- the plan watch


def test_first_missed_instalment_breaks_the_plan(plan_world):
    w = plan_world
    from fieldcollect.cases import services as case_services

    p, offer = _to_offered(w, "term_extension")
    services.plan_accept(token=offer.token)
    rows = list(PlanInstalment.objects.filter(proposal=p).order_by("seq"))
    first, second = rows[0], rows[1]
    case_services.payment_record(case=w.case, amount_fen=first.payment_fen, paid_on=first.due_date, acting_user=None)
    # performing while the second instalment is within its grace period
    res = services.plans_watch(as_of=second.due_date + timedelta(days=5), grace_days=5)
    assert res.checked == 1 and res.broken == 0
    p.refresh_from_db()
    assert p.plan_status == "performing"
    # a partial payment does not meet it
    case_services.payment_record(case=w.case, amount_fen=second.payment_fen - 1, paid_on=second.due_date,
                                 acting_user=None)
    res = services.plans_watch(as_of=second.due_date + timedelta(days=6), grace_days=5)
    assert res.broken == 1 and res.broken_ids == (p.pk,)
    p.refresh_from_db()
    assert p.plan_status == "broken" and p.broken_seq == 2
    assert p.broken_on == second.due_date + timedelta(days=6)
    w.case.refresh_from_db()
    assert w.case.status == CaseStatus.IN_PROGRESS
    task = Task.objects.get(case=w.case, kind=Task.Kind.FOLLOW_UP, title__contains="2")
    assert task.assignee == w.collector_user and task.status == Task.Status.OPEN
    assert AuditEntry.objects.filter(action="plan.broken", object_id=str(p.pk)).exists()
    # watched once: a second run changes nothing
    assert services.plans_watch(as_of=second.due_date + timedelta(days=30), grace_days=5).checked == 0


def test_fully_paid_plan_completes(plan_world):
    w = plan_world
    from fieldcollect.cases import services as case_services

    record_hardship(w)
    p = _propose(w, "settlement")
    p = services.plan_endorse(proposal=p, acting_user=w.manager_a)
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="escalate")
    p = services.plan_decide(proposal=p, acting_user=w.head, decision="approve")
    offer = services.plan_offer(proposal=p, acting_user=w.head)
    services.plan_accept(token=offer.token)
    case_services.payment_record(case=w.case, amount_fen=p.total_cost_fen, paid_on=today(), acting_user=None)
    res = services.plans_watch(as_of=today() + timedelta(days=1))
    assert res.completed == 1
    p.refresh_from_db()
    assert p.plan_status == "completed"


# ---------------------------------------------------------------- promises to pay


def test_promises_kept_partial_broken_and_kept_rates(plan_world):
    w = plan_world
    from fieldcollect.cases import services as case_services
    from fieldcollect.plans.tests.conftest import make_plan_case

    d0 = today()
    due = d0 + timedelta(days=10)
    cases = [w.case] + [make_plan_case(agency=w.agency_a, manager=w.manager_a, collector=w.collector,
                                       cm=w.approver) for _ in range(3)]
    kept, late_kept, partial, broken = (
        case_services.promise_record(case=c, acting_user=w.collector_user, amount_fen=100_000, due_on=due)
        for c in cases
    )
    pb = case_services.promise_record(case=w.case_b, acting_user=w.collector_user_b, amount_fen=50_000, due_on=due)
    case_services.payment_record(case=cases[0], amount_fen=60_000, paid_on=d0 + timedelta(days=2), acting_user=None)
    case_services.payment_record(case=cases[0], amount_fen=40_000, paid_on=d0 + timedelta(days=9), acting_user=None)
    case_services.payment_record(case=cases[1], amount_fen=100_000, paid_on=due + timedelta(days=2), acting_user=None)
    case_services.payment_record(case=cases[2], amount_fen=30_000, paid_on=due, acting_user=None)
    # before the deadline (due + 3 days grace): kept ones are kept, the others still pending
    counts = services.promises_watch(as_of=due + timedelta(days=3), grace_days=3)
    assert counts == {"kept": 2, "broken": 0, "pending": 3}
    counts = services.promises_watch(as_of=due + timedelta(days=4), grace_days=3)
    assert counts == {"kept": 0, "broken": 3, "pending": 0}
    status = {p.pk: (p.status, p.paid_fen) for p in PromiseToPay.objects.all()}
    assert status[kept.pk] == ("kept", 100_000)
    assert status[late_kept.pk] == ("kept", 100_000)  # paid within the grace period
    assert status[partial.pk] == ("broken", 30_000)
    assert status[broken.pk] == ("broken", 0) and status[pb.pk] == ("broken", 0)
    cases[3].refresh_from_db()
    assert cases[3].status == CaseStatus.IN_PROGRESS
    assert Task.objects.filter(case=cases[3], kind=Task.Kind.FOLLOW_UP, assignee=w.collector_user).count() == 1
    assert AuditEntry.objects.filter(action="promise.broken").count() == 3
    # the kept ones were decided together (set-based), each with its audit row and resolution day
    kept_rows = AuditEntry.objects.filter(action="promise.kept").order_by("pk")
    assert sorted(e.new["promise"] for e in kept_rows) == sorted([kept.pk, late_kept.pk])
    assert all(e.object_id == str(e.new and PromiseToPay.objects.get(pk=e.new["promise"]).case_id) for e in kept_rows)
    assert PromiseToPay.objects.get(pk=late_kept.pk).resolved_on == due + timedelta(days=2)

    rates = selectors.promise_kept_rates(as_of=due + timedelta(days=4), grace_days=3)
    a = rates.by_agency[str(w.agency_a.pk)]
    assert (a.kept, a.partial, a.broken) == (2, 1, 1) and a.rate == Decimal("0.5000")
    assert rates.by_agency[str(w.agency_b.pk)].rate == Decimal("0")
    assert rates.by_collector[str(w.collector.pk)].rate == Decimal("0.5000")
    assert rates.overall.resolved == 5 and rates.overall.kept == 2
    assert a.amount_rate == Decimal("0.5750")  # (100k + 100k + 30k + 0) / 400k


def test_hardship_validation(plan_world):
    w = plan_world
    with pytest.raises(ApplicationError):
        services.hardship_record(case=w.case, acting_user=w.collector_user, reason="bored",
                                 monthly_income_fen=1, monthly_expenses_fen=1)
    with pytest.raises(ApplicationError):
        services.hardship_record(case=w.case, acting_user=w.collector_user, reason="job_loss",
                                 monthly_income_fen=-1, monthly_expenses_fen=1)
    with pytest.raises(ApplicationError):  # an auditor may not write
        from fieldcollect.core.models import Role
        from fieldcollect.testing import factories as f

        services.hardship_record(case=w.case, acting_user=f.make_user(role=Role.AUDITOR), reason="job_loss",
                                 monthly_income_fen=1, monthly_expenses_fen=1)
    assert timezone.now()


def test_position_keeps_principal_when_the_loan_has_matured(plan_world):
    w = plan_world
    from fieldcollect.plans.tests.conftest import make_plan_case

    case = make_plan_case(agency=w.agency_a, manager=w.manager_a, collector=w.collector, cm=w.approver,
                          principal_fen=1_200_000, term=6, months_ago=8, unpaid=3)
    hardship = record_hardship(w, case=case)
    pos = selectors.case_position(case=case, hardship=hardship, as_of=today())
    assert pos.outstanding_principal_fen == 0 and pos.remaining_term_months == 0
    assert pos.arrears_principal_fen == case.outstanding_principal_fen
    assert pos.arrears_principal_fen + pos.arrears_interest_fen == case.overdue_fen
    p = services.plan_propose(case=case, acting_user=w.collector_user, kind="term_extension")
    assert sum(r["principal_fen"] for r in p.schedule) == pos.total_owed_fen == p.total_owed_fen


def test_after_nightly_runs_every_watch(plan_world):
    w = plan_world
    _p, offer = _to_offered(w)
    counts = services.plans_after_nightly(as_of=today(), now=offer.agreement.expires_at + timedelta(seconds=1))
    assert counts["offers_expired"] == 1 and counts["plans_checked"] == 0 and counts["promises_kept"] == 0
