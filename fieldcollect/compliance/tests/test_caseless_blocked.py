"""Refused messages without a case (early-warning reminders) are reported under the pack of the
customer's loan, not a default one."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from fieldcollect.compliance import selectors
from fieldcollect.compliance.engine import zone
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_a_caseless_refusal_counts_under_the_customers_pack(db):
    us_case = f.make_case()
    us_case.loan.jurisdiction = "US"
    us_case.loan.save(update_fields=["jurisdiction"])
    customer = us_case.customer
    customer.timezone = "America/New_York"
    customer.save(update_fields=["timezone"])
    day = f.today()
    BlockedAttempt.objects.create(at=datetime.combine(day, time(22, 30), tzinfo=zone("America/New_York")),
                                  customer=customer, case=None, channel="sms", party="debtor",
                                  path="ew_reminder", rule_ids=["US-HOURS"], pack="US@2026.1")
    report = selectors.daily_report(day=day)
    assert [r.pack.split("@")[0] for r in report.reports] == ["US"]
    assert report.blocked_by_rule == {"US-HOURS": 1} and len(report.blocked) == 1
