"""The demo's agency operations: a day of work results imported, a breach counted, a row refused, the
second import all duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.cases import services
from fieldcollect.core.models import Role
from fieldcollect.demodata.ops import demo_agency_operations
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_demo_agency_operations():
    agency = f.make_agency()
    f.make_contract(agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    for _ in range(3):
        services.case_place(
            case=f.make_case(), agency=agency, acting_user=cm, starts_on=f.today() - timedelta(days=5)
        )
    out = demo_agency_operations(now=timezone.now())
    first, second = out["first"], out["second"]
    assert out["agency_id"] == agency.pk
    assert first["applied"] == 7 and first["breaches"] == 1 and len(first["rejected"]) == 1
    assert first["rejected"][0]["reason"] == "unknown_case"
    assert second["applied"] == 0 and second["duplicates"] == 7
