from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from fieldcollect.agencies.models import Agency
from fieldcollect.allocation import selectors, services
from fieldcollect.allocation.models import AllocationDecision, AllocationRun
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}


@dataclass
class Market:
    a: Agency
    b: Agency
    c: Agency
    manager: User
    returned: Case  # just returned by B
    outside: Case  # city nobody serves
    ineligible: Case  # bucket nobody takes
    too_big: Case  # above A's and B's amount limit


@pytest.fixture
def market(db: None) -> Market:
    a = f.make_agency(max_amount_fen=1_000_000)
    b = f.make_agency(max_amount_fen=1_000_000)
    c = f.make_agency()
    f.make_contract(agency=a, regions=["上海"], eligible_buckets=["M1", "M2", "M3"], capacity=3,
                    commission_tiers={"M2": "0.10", "M3": "0.15"}, **FAR)
    f.make_contract(agency=b, regions=["上海"], eligible_buckets=["M2"], capacity=5,
                    commission_tiers={"M2": "0.20"}, **FAR)
    f.make_contract(agency=c, regions=["北京"], eligible_buckets=["M2", "M3"], capacity=10, **FAR)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    held = f.make_case(bucket="M2")
    cs.case_place(case=held, agency=a, acting_user=manager)  # A has 2 places left
    for k in range(6):
        f.make_case(bucket="M2", overdue_fen=100_000 + 10_000 * k)
    f.make_case(bucket="M3", overdue_fen=300_000)
    f.make_case(city="北京", bucket="M2")
    returned = f.make_case(bucket="M2", overdue_fen=900_000)
    cs.case_place(case=returned, agency=b, acting_user=manager)
    cs.case_recall(case=returned, reason="manual", acting_user=manager)
    return Market(a=a, b=b, c=c, manager=manager, returned=returned,
                  outside=f.make_case(city="广州"), ineligible=f.make_case(bucket="M5"),
                  too_big=f.make_case(bucket="M2", overdue_fen=2_000_000))


def test_run_respects_every_constraint(market):
    m = market
    run = services.allocation_run_create(as_of=f.today(), acting_user=m.manager)
    decisions = list(AllocationDecision.objects.filter(run=run).select_related("case"))
    counts = Counter(d.agency_id for d in decisions)
    assert counts[m.a.pk] <= 2 and counts[m.b.pk] <= 5 and counts[m.c.pk] <= 10  # capacity minus load
    for d in decisions:
        city = {m.a.pk: "上海", m.b.pk: "上海", m.c.pk: "北京"}[d.agency_id]
        assert d.case.city == city  # region
        assert d.case.bucket in {m.a.pk: ["M1", "M2", "M3"], m.b.pk: ["M2"], m.c.pk: ["M2", "M3"]}[d.agency_id]
    by_case = {d.case_id: d for d in decisions}
    assert m.outside.pk not in by_case and m.ineligible.pk not in by_case
    assert m.too_big.pk not in by_case or by_case[m.too_big.pk].agency_id == m.c.pk
    assert by_case[m.returned.pk].agency_id == m.a.pk  # never back to B, which just returned it
    assert run.n_excluded == 1
    assert len(by_case) == len(decisions) == run.n_placed
    assert run.objective_fen == sum(d.value_fen for d in decisions)
    assert run.certified_optimal and run.objective_fen >= run.greedy_objective_fen
    assert AuditEntry.objects.filter(action="allocation.run", object_id=str(run.pk)).exists()


def test_pair_values_use_commission_and_cost():
    rate = selectors.commission_rate(None, "M2")
    assert rate == 0
    # 0.25 × 100,000 = 25,000; less 10 % commission = 22,500; less cost 3,000
    from decimal import Decimal

    assert selectors.pair_value_fen(p=0.25, overdue_fen=100_000, rate=Decimal("0.10"), cost_fen=3_000) == 19_500


def test_holdout_reproducible_by_seed(market):
    m = market
    runs = [services.allocation_run_create(as_of=f.today(), acting_user=m.manager, holdout_share=0.5, seed=s)
            for s in (7, 7)]
    rows = [list(AllocationDecision.objects.filter(run=r).order_by("case_id")
                 .values_list("case_id", "agency_id", "holdout")) for r in runs]
    assert rows[0] == rows[1]
    assert runs[0].n_holdout == runs[1].n_holdout and runs[0].n_holdout > 0
    assert sum(h for _c, _a, h in rows[0]) == runs[0].n_holdout


def test_apply_places_through_case_management(market):
    m = market
    run = services.allocation_run_create(as_of=f.today(), acting_user=m.manager, holdout_share=0.2, seed=3)
    with pytest.raises(PermissionDeniedError):
        services.allocation_run_apply(run=run, acting_user=f.make_user(role=Role.AUDITOR))
    placed = services.allocation_run_apply(run=run, acting_user=m.manager)
    run.refresh_from_db()
    assert placed == run.n_placed == run.n_applied and run.status == AllocationRun.Status.APPLIED
    for d in AllocationDecision.objects.filter(run=run).select_related("placement", "case"):
        assert d.placement is not None and d.placement.agency_id == d.agency_id
        assert d.placement.status == Placement.Status.ACTIVE and d.case.agency_id == d.agency_id
    with pytest.raises(ApplicationError):
        services.allocation_run_apply(run=run, acting_user=m.manager)


def test_run_allocation_hook(market):
    run = services.run_allocation(as_of=f.today(), holdout_share=0.1, seed=1, apply=True)
    assert run.status == AllocationRun.Status.APPLIED and run.n_applied == run.n_placed > 0
    decided = dict(AllocationDecision.objects.filter(run=run).values_list("case_id", "agency_id"))
    assert dict(Case.objects.filter(pk__in=list(decided)).values_list("pk", "agency_id")) == decided
    # 上海 has 7 free places (A 2, B 5) for 8 eligible cases; 北京 one case for C
    assert run.n_placed >= 7


def test_recovery_model_shrinks_small_histories(market):
    m = market
    start = f.today() - timedelta(days=100)
    # A: 2 of 2 recovered; B: 3 of 20 recovered (finished placements in M2)
    for agency, n, k in ((m.a, 2, 2), (m.b, 20, 3)):
        for i in range(n):
            case = f.make_case(bucket="M2", overdue_fen=50_000)
            cs.case_place(case=case, agency=agency, acting_user=None, starts_on=start, check_capacity=False)
            if i < k:
                cs.payment_record(case=case, amount_fen=50_000, paid_on=start + timedelta(days=5), acting_user=None)
            cs.case_recall(case=case, reason="test", acting_user=None, on=start + timedelta(days=30))
    model = selectors.recovery_model(as_of=f.today())
    assert model.counts[(m.a.pk, "M2")] == (2, 2) and model.counts[(m.b.pk, "M2")] == (20, 3)
    ra, rb = model.rate(agency_id=m.a.pk, bucket="M2"), model.rate(agency_id=m.b.pk, bucket="M2")
    mean = model.expected(bucket="M2")
    assert rb < mean < ra < 1.0  # A's perfect record is pulled toward the mean
    assert model.rate(agency_id=m.c.pk, bucket="M2") == mean  # no history: the bucket mean


def test_pages(market):
    m = market
    mgr = logged_in(m.manager)
    assert mgr.get("/allocation/").status_code == 200
    resp = mgr.post("/allocation/run", {"as_of": f.today().isoformat(), "holdout_share": "0.2", "seed": "5"})
    run = AllocationRun.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/allocation/{run.pk}/"
    body = mgr.get(f"/allocation/{run.pk}/").content.decode()
    assert 'id="kpi-uplift"' in body and 'id="apply-form"' in body
    d = AllocationDecision.objects.filter(run=run, holdout=False).first()
    assert d is not None and f'href="/cases/{d.case_id}/"' in body
    auditor = logged_in(f.make_user(role=Role.AUDITOR))
    assert 'id="apply-form"' not in auditor.get(f"/allocation/{run.pk}/").content.decode()
    assert auditor.post(f"/allocation/{run.pk}/apply").status_code == 403
    agency_mgr = logged_in(f.make_user(role=Role.AGENCY_MANAGER, agency=m.a))
    assert agency_mgr.get("/allocation/").status_code == 404
    assert agency_mgr.get(f"/allocation/{run.pk}/").status_code == 404
    assert mgr.post(f"/allocation/{run.pk}/apply").status_code == 302
    assert AllocationRun.objects.get().status == AllocationRun.Status.APPLIED
