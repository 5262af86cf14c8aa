"""The portfolio overview shows the latest published run with its charts, to bank users only."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from fieldcollect.core.models import Role, User
from fieldcollect.testing.demo_book import publish_demo_book

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)


@pytest.fixture
def published(fc_home, tmp_path):
    return publish_demo_book(tmp_path / "export", n_loans=800, seed=2, as_of=AS_OF)


def login(client, role):
    user = User.objects.create_user(username=f"u-{role}", password="pw-123456789", role=role)
    client.force_login(user)
    return user


def test_overview_shows_kpis_and_charts(client, published):
    login(client, Role.COLLECTIONS_MANAGER)
    resp = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200
    html = resp.content.decode()
    charts = re.findall(r'<script type="application/json" data-chart="chart-(\w+)">(.*?)</script>', html, re.S)
    assert {name for name, _ in charts} == {"buckets", "roll", "vintages", "trend"}
    for _, body in charts:
        fig = json.loads(body)
        assert fig["data"], "every chart has data"
    assert f'{published.summary["open_loans"]}' in html
    assert "vendor/plotly/plotly.min.js" in html
    assert html.count("<tr>") >= 1 + 8  # header + one row per bucket


def test_static_plotly_bundle_is_served(client, published):
    login(client, Role.COLLECTIONS_MANAGER)
    resp = client.get("/static/vendor/plotly/plotly.min.js")
    assert resp.status_code == 200


def test_agency_users_are_sent_to_their_cases(client, published):
    login(client, Role.FIELD_COLLECTOR)
    resp = client.get("/")
    assert resp.status_code == 302 and "/cases" in resp["Location"]


def test_no_run_yet(client, fc_home):
    login(client, Role.RISK_ANALYST)
    resp = client.get("/")
    assert resp.status_code == 200 and "run-daily" in resp.content.decode()


def test_loan_history_from_the_store(published):
    import polars as pl

    from fieldcollect.daily.cycle import read_published
    from fieldcollect.portfolio.store import loan_history

    status = read_published(AS_OF, "loan_status").filter(pl.col("dpd") > 0).row(0, named=True)
    hist = loan_history(status["loan_id"])
    assert hist is not None and hist["installments"]
    paid = sum(i["amount_paid_fen"] for i in hist["installments"])
    assert paid == min(status["paid_total_fen"], sum(i["amount_due_fen"] for i in hist["installments"]))
    overdue = sum(i["amount_due_fen"] - i["amount_paid_fen"] for i in hist["installments"] if i["due_on"] < AS_OF)
    assert overdue >= status["overdue_fen"]  # payments after as_of may also be in the store
    assert loan_history(10**12) is None
