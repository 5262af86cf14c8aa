from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fieldcollect.agencies.models import Agency
from fieldcollect.allocation.models import AllocationDecision, AllocationRun
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import ContactAttempt, Placement, PromiseToPay
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.scorecards import hooks, selectors, services
from fieldcollect.scorecards.models import StatusChange
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}
MARCH = date(2025, 3, 1)


def _file(**kw):
    base = {"years_in_business": 5, "licensed_staff_share": "0.8", "trained_staff_share": "0.9",
            "recovery_rate_m1_m2": "0.3", "recovery_rate_m3_m4": "0.2", "recovery_rate_m5_plus": "0.05",
            "complaints_per_10k_contacts": 3, "inspection_score": 80, "fee_rate": "0.15"}
    base.update(kw)
    return base


def test_ranking_with_contributions_and_editable_weights():
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    a, b, c = f.make_agency(status=Agency.Status.CANDIDATE), f.make_agency(), f.make_agency()
    services.candidate_save(agency=a, values=_file(years_in_business=12, fee_rate="0.25"), acting_user=cm)
    services.candidate_save(agency=b, values=_file(complaints_per_10k_contacts=1, fee_rate="0.10"), acting_user=cm)
    services.candidate_save(agency=c, values=_file(years_in_business=1, complaints_per_10k_contacts=9), acting_user=cm)
    ranked = selectors.ranking()
    assert [r.agency.pk for r in ranked][-1] == c.pk
    for r in ranked:  # weighted score: contributions add up to the score
        assert abs(sum(float(x["contribution"]) for x in r.contributions) - r.score) < 1e-9
    # only years in business counts: the oldest agency wins
    services.weights_update(weights=dict.fromkeys(selectors.CRITERIA_NAMES, 0) | {"years_in_business": 1},
                            acting_user=cm)
    assert selectors.ranking()[0].agency.pk == a.pk
    assert selectors.ranking(method="topsis")[0].agency.pk == a.pk
    with pytest.raises(ApplicationError):
        services.weights_update(weights=dict.fromkeys(selectors.CRITERIA_NAMES, 0), acting_user=cm)
    with pytest.raises(PermissionDeniedError):
        services.weights_update(weights={"fee_rate": 1}, acting_user=f.make_user(role=Role.AUDITOR))
    with pytest.raises(ApplicationError):
        services.candidate_save(agency=a, values={"fee_rate": "1.5"}, acting_user=cm)
    assert AuditEntry.objects.filter(action="selection.weights").count() == 1


def test_approve_suspend_exit_and_inspection():
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    agency = f.make_agency(status=Agency.Status.CANDIDATE)
    f.make_contract(agency=agency, **FAR)
    case = f.make_case()
    with pytest.raises(ApplicationError):
        cs.case_place(case=case, agency=agency, acting_user=cm)  # a candidate gets no cases
    services.agency_set_status(agency=agency, target=Agency.Status.APPROVED, reason="selected", acting_user=cm)
    cs.case_place(case=case, agency=agency, acting_user=cm)
    services.agency_set_status(agency=agency, target=Agency.Status.SUSPENDED, reason="complaints", acting_user=cm)
    with pytest.raises(ApplicationError):
        cs.case_place(case=f.make_case(), agency=agency, acting_user=cm)
    with pytest.raises(ApplicationError):
        services.agency_set_status(agency=agency, target=Agency.Status.CANDIDATE, reason="x", acting_user=cm)
    services.inspection_record(agency=agency, year=2025, inspected_on=date(2025, 5, 1), score="72.5", passed=False,
                               findings="recordings missing", acting_user=cm)
    assert agency.candidate_file.inspection_score == pytest.approx(72.5)
    with pytest.raises(ApplicationError):
        services.inspection_record(agency=agency, year=2025, inspected_on=date(2025, 6, 1), score=80, passed=True,
                                   findings="", acting_user=cm)
    services.agency_set_status(agency=agency, target=Agency.Status.EXITED, reason="contract ended", acting_user=cm)
    case.refresh_from_db()
    assert agency.status == Agency.Status.EXITED and case.agency_id is None  # exit recalls its cases
    assert [c.new_status for c in StatusChange.objects.filter(agency=agency).order_by("id")] == [
        "approved", "suspended", "exited"]
    assert AuditEntry.objects.filter(action="agency.exited", object_id=str(agency.pk)).exists()


@pytest.fixture
def month_of_work(db: None):
    """Agency A in March 2025: two M2 placements finished (one recovered), promises, contacts."""
    a, b = f.make_agency(), f.make_agency()
    f.make_contract(agency=a, **FAR)
    f.make_contract(agency=b, **FAR)
    won, lost = f.make_case(bucket="M2", overdue_fen=100_000), f.make_case(bucket="M2", overdue_fen=80_000)
    for case in (won, lost):
        cs.case_place(case=case, agency=a, acting_user=None, starts_on=date(2025, 2, 20))
    cs.payment_record(case=won, amount_fen=100_000, paid_on=date(2025, 3, 5), acting_user=None)
    cs.payment_record(case=lost, amount_fen=10_000, paid_on=date(2025, 3, 6), acting_user=None)
    for case in (won, lost):
        cs.case_recall(case=case, reason="test", acting_user=None, on=date(2025, 3, 15))
    for status in (PromiseToPay.Status.KEPT, PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN):
        PromiseToPay.objects.create(case=won, agency=a, amount_fen=1000, due_on=date(2025, 3, 3),
                                    promised_on=date(2025, 3, 1), status=status, resolved_on=date(2025, 3, 4))
    at = datetime(2025, 3, 2, 3, tzinfo=UTC)
    ContactAttempt.objects.bulk_create([
        ContactAttempt(case=won, agency=a, channel="phone", outcome="no_answer", at=at + timedelta(minutes=i))
        for i in range(400)])
    return a, b


def test_monthly_scorecard_is_risk_adjusted(month_of_work):
    a, _b = month_of_work
    hooks.register("complaints", lambda *, agency_id, start, end: 2 if agency_id == a.pk else 0)
    try:
        card = selectors.monthly_scorecard(agency=a, month=MARCH)
    finally:
        hooks.unregister("complaints")
    [m2] = card.buckets
    assert (m2.cases, m2.recovered, m2.rate) == (2, 1, 0.5)
    assert m2.expected_rate == pytest.approx(0.28)  # no history before March: the default M2 rate
    assert card.ae_index == pytest.approx(1 / 0.56)
    assert card.recovered_fen == 110_000 and card.commission_fen == 13_200  # 12 % tier on M2
    assert str(card.cost_per_yuan) == "0.1200"
    assert card.promise_kept_rate == pytest.approx(2 / 3)
    assert card.contacts == 400 and card.complaints == 2 and str(card.complaints_per_10k) == "50.00"
    assert card.compliance_blocks == 0 and card.feedback_score is None
    assert selectors.monthly_scorecard(agency=a, month=date(2025, 4, 1)).finished_cases == 0
    assert card.holdout_cases == 0 and card.holdout_ae_index is None


def test_holdout_cases_get_their_own_index(month_of_work):
    a, _b = month_of_work
    won = Placement.objects.filter(agency=a).order_by("id").first()
    run = AllocationRun.objects.create(as_of=won.starts_on, holdout_share="0.5")
    AllocationDecision.objects.create(run=run, case_id=won.case_id, agency=a, value_fen=1, holdout=True,
                                      placement=won)
    card = selectors.monthly_scorecard(agency=a, month=MARCH)
    assert card.holdout_cases == 1 and card.holdout_ae_index == pytest.approx(1 / 0.28)


def test_pages_and_access(month_of_work):
    a, b = month_of_work
    cm = logged_in(f.make_user(role=Role.COLLECTIONS_MANAGER))
    services.candidate_save(agency=a, values=_file(), acting_user=None)
    services.candidate_save(agency=b, values=_file(years_in_business=9), acting_user=None)
    body = cm.get("/selection/").content.decode()
    assert 'id="ranking"' in body and 'data-chart="chart-contrib"' in body and 'id="weights-form"' in body
    assert cm.get(f"/selection/agencies/{a.pk}/").status_code == 200
    body = cm.get("/scorecards/?month=2025-03").content.decode()
    assert f"/scorecards/{a.pk}/" in body and f"/scorecards/{b.pk}/" in body
    page = cm.get(f"/scorecards/{a.pk}/?month=2025-03").content.decode()
    assert 'data-chart="chart-buckets"' in page and 'data-chart="chart-trend"' in page and "1.79" in page
    # auditor: read-only
    auditor = logged_in(f.make_user(role=Role.AUDITOR))
    assert 'id="weights-form"' in auditor.get("/selection/").content.decode()
    assert auditor.post("/selection/weights", {"fee_rate": "1"}).status_code == 403
    # agency manager: its own scorecard only, no selection pages
    mgr_a = logged_in(f.make_user(role=Role.AGENCY_MANAGER, agency=a))
    assert mgr_a.get(f"/scorecards/{a.pk}/?month=2025-03").status_code == 200
    assert mgr_a.get(f"/scorecards/{b.pk}/").status_code == 404
    assert mgr_a.get("/scorecards/")["Location"] == f"/scorecards/{a.pk}/"
    assert mgr_a.get("/selection/").status_code == 404
    assert mgr_a.get(f"/selection/agencies/{a.pk}/").status_code == 404
    collector = logged_in(f.make_user(role=Role.FIELD_COLLECTOR, agency=a))
    assert collector.get(f"/scorecards/{a.pk}/").status_code == 404


def test_demo_candidate_files_fill_the_comparison():
    from fieldcollect.demodata.candidates import demo_candidate_files

    a = f.make_agency(founded_year=2010)
    f.make_contract(agency=a, commission_tiers={"M1": "0.10", "M2": "0.20"}, **FAR)
    f.make_agency()
    assert demo_candidate_files(as_of=date(2025, 3, 1), seed=1) == 2
    assert demo_candidate_files(as_of=date(2025, 3, 1), seed=1) == 0
    file = a.candidate_file
    assert file.years_in_business == 15 and str(file.fee_rate) == "0.1500"
    assert len(selectors.ranking()) == 2
