"""Two agencies call the same debtor at the same moment for the last connected call the cap allows:
one is recorded, the other refused (the customer row is locked during the check). Real threads and
real row locks, so PostgreSQL only."""

from __future__ import annotations

import pytest
from django.db import connection

from fieldcollect.cases import services
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import ContactBlockedError
from fieldcollect.compliance.tests.test_contact_check import second_case_for, sh
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_last_call_of_the_cap_taken_once_across_agencies(world):
    case_a = world.case_a1
    case_b = second_case_for(case_a, world=world, agency=world.agency_b, manager=world.manager_b,
                             collector=world.collector_b)
    day = f.today()
    for h in (9, 10):
        services.contact_record(case=case_a, acting_user=world.collector_user_a1, channel="phone",
                                outcome="callback", connected=True, at=sh(day, h))

    def caller(case_id, user):
        return (lambda: Case.objects.get(pk=case_id),
                lambda case: services.contact_record(case=case, acting_user=user, channel="phone",
                                                     outcome="callback", connected=True, at=sh(day, 11)))

    outcomes = at_once([caller(case_a.pk, world.collector_user_a1), caller(case_b.pk, world.collector_user_b)],
                       refused=ContactBlockedError, refusal="blocked")
    assert outcomes == ["blocked", "ok"]
    assert ContactAttempt.objects.filter(case__customer_id=case_a.customer_id, connected=True).count() == 3
    assert BlockedAttempt.objects.get().rule_ids == ["CN-CONNECTED-CAP"]
