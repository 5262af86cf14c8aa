"""Two writers on one case at the same time: one wins, the other gets a conflict (never a silent
overwrite). Real threads and real row locks, so PostgreSQL only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from fieldcollect.cases import services
from fieldcollect.cases.models import Case, PromiseToPay
from fieldcollect.core.errors import ConflictError
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_simultaneous_promises_one_conflict(world):
    case_id = world.case_a1.pk
    version = Case.objects.get(pk=case_id).version

    def writer(user, amount):
        due_on = f.today() + timedelta(days=3)
        return (lambda: Case.objects.get(pk=case_id),
                lambda case: services.promise_record(case=case, acting_user=user, amount_fen=amount,
                                                     due_on=due_on, expected_version=version))

    outcomes = at_once([writer(world.collector_user_a1, 100), writer(world.manager_a, 200)],
                       refused=ConflictError, refusal="conflict")
    assert outcomes == ["conflict", "ok"]
    assert PromiseToPay.objects.filter(case_id=case_id).count() == 1
    assert Case.objects.get(pk=case_id).version == version + 1
