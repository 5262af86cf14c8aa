"""Treatment choice for the open cases: capacities and compliance honoured, result page in both languages."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from fieldcollect.earlywarning.models import StrategyAssignment
from fieldcollect.earlywarning.services import strategy_run
from fieldcollect.earlywarning.tests.factories import AS_OF, make_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(book, db):
    from fieldcollect.cases.models import Case
    from fieldcollect.daily.services import run_daily

    make_customers(book, list(range(1, 601)))
    run_daily(as_of=AS_OF, progress=False)
    return list(Case.objects.filter(closed_on__isnull=True))


def test_capacities_and_flags_are_honoured(cases):
    from fieldcollect.agencies.models import Collector
    from fieldcollect.compliance.models import DebtorFlag
    from fieldcollect.testing import factories as f

    assert len(cases) > 20
    agency = f.make_agency()
    city = cases[0].city
    f.make_collector(agency=agency, city=city)
    assert Collector.objects.filter(active=True, city=city).exists()
    paused = cases[1]
    DebtorFlag.objects.create(customer_id=paused.customer_id, flag="dispute",
                              starts_at=timezone.now() - timedelta(days=1), reason="disputes the debt")
    run = strategy_run(as_of=AS_OF, actor=None, visits_per_city=2, calls=5, restructures=3, legal=1)
    rows = list(StrategyAssignment.objects.filter(run=run))
    assert len(rows) == run.cases == len([c for c in cases if c.overdue_fen > 0])
    by = {t: [r for r in rows if r.treatment == t] for t in ("visit", "call", "restructure", "legal")}
    assert len(by["call"]) <= 5 and len(by["restructure"]) <= 3 and len(by["legal"]) <= 1
    assert len(by["visit"]) <= 2 and all(r.city == city for r in by["visit"])  # field team in one city only
    assert all(r.bucket not in ("M1",) for r in by["restructure"])
    assert next(r for r in rows if r.case_id == paused.pk).treatment == "none"  # paused debtor: no contact
    assert run.expected_uplift_fen >= 0 and sum(run.summary["mix"].values()) == run.cases
    assert all(r.text_en and r.text_zh for r in rows)
    used = {(u["treatment"], u["city"]): u for u in run.summary["usage"]}
    assert used[("visit", city)]["used"] <= used[("visit", city)]["limit"] == 2
    assert np.all([0 <= r.probability <= 1 for r in rows])


@pytest.mark.parametrize(("lang", "word"), [("en", "Treatment strategy"), ("zh-hans", "处置策略")])
def test_strategy_page(bank_client, cases, lang, word):
    from django.conf import settings

    bank_client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    assert "no-strategy" in bank_client.get("/earlywarning/strategy/").content.decode()
    strategy_run(as_of=AS_OF, actor=None, calls=10)
    html = bank_client.get("/earlywarning/strategy/").content.decode()
    assert word in html and 'data-chart="chart-mix"' in html and "assignments" in html
    assert bank_client.get("/earlywarning/strategy/", {"treatment": "call"}).status_code == 200


def test_run_from_the_page(bank_client, cases):
    from fieldcollect.earlywarning.models import StrategyRun

    resp = bank_client.post("/earlywarning/strategy/")
    assert resp.status_code == 302 and StrategyRun.objects.count() == 1
    assert StrategyRun.objects.get().as_of == AS_OF  # the newest synced business date


def test_auditor_may_look_but_not_run(client, cases):
    from fieldcollect.core.models import Role, User

    client.force_login(User.objects.create_user(username="aud", password="pw-123456789", role=Role.AUDITOR))
    assert client.get("/earlywarning/strategy/").status_code == 200
    assert client.post("/earlywarning/strategy/").status_code == 403
