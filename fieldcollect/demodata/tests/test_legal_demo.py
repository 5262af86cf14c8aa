"""The demo's letters, legal matter and repaired contact (fieldcollect.demodata.legal.demo_legal)."""

from __future__ import annotations

import pytest

from fieldcollect.cases import services as cs
from fieldcollect.core.models import Role
from fieldcollect.demodata.legal import demo_legal
from fieldcollect.legal.models import AltContact, LegalReferral, Letter
from fieldcollect.testing import factories as f


@pytest.mark.django_db
def test_demo_legal_sends_letters_refers_a_case_and_repairs_a_contact():
    agency = f.make_agency()
    f.make_contract(agency=agency)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    cases = [f.make_case(dpd=40 + k) for k in range(4)]
    for case in cases:
        cs.case_place(case=case, agency=agency, acting_user=manager)
    done = demo_legal(day=f.today(), seed=1)
    assert done == {"letters": 2, "referrals": 1, "contacts": 1, "refused": 0}
    assert set(Letter.objects.values_list("kind", flat=True)) == {"demand", "lawyer"}
    referral = LegalReferral.objects.get()
    assert (
        referral.placement.status == "recalled"
        and referral.costs.count() == 2
        and referral.hearings.count() == 1
    )
    assert AltContact.objects.get().verification == "verified"
