"""The demo's agency operations: a day of work results imported, a breach counted, a row refused, the
second import all duplicates; debtors not yet sent the notice before outsourcing are not called."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.cases import services
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.core.models import Role
from fieldcollect.demodata.ops import demo_agency_operations
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_demo_agency_operations():
    agency = f.make_agency()
    f.make_contract(agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    for i in range(4):
        case = f.make_case()
        services.case_place(case=case, agency=agency, acting_user=cm, starts_on=f.today() - timedelta(days=5))
        if i < 3:  # the debtor was sent the notice before outsourcing long before; the fourth was not
            f.notice_sent(case, agency=agency)
    unnoticed = case
    out = demo_agency_operations(now=timezone.now())
    first, second = out["first"], out["second"]
    assert out["agency_id"] == agency.pk
    assert first["applied"] == 7 and first["breaches"] == 1 and len(first["rejected"]) == 1
    assert first["rejected"][0]["reason"] == "unknown_case"
    assert second["applied"] == 0 and second["duplicates"] == 7
    # the debtor not sent the notice is not called (no breach of the notice rule in the demo's file)
    assert not ContactAttempt.objects.filter(case=unnoticed).exists()
