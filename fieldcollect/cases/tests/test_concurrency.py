"""Two writers on one case at the same time: one wins, the other gets a conflict (never a silent
overwrite). Real threads and real row locks, so PostgreSQL only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from fieldcollect.cases import services
from fieldcollect.cases.models import Case, PromiseToPay
from fieldcollect.core.errors import ConflictError
from fieldcollect.testing import factories as f

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_simultaneous_promises_one_conflict(world):
    case_id = world.case_a1.pk
    version = Case.objects.get(pk=case_id).version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(user, amount):
        try:
            case = Case.objects.get(pk=case_id)
            barrier.wait(timeout=10)
            services.promise_record(case=case, acting_user=user, amount_fen=amount,
                                    due_on=f.today() + timedelta(days=3), expected_version=version)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(world.collector_user_a1, 100)),
               threading.Thread(target=writer, args=(world.manager_a, 200))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert PromiseToPay.objects.filter(case_id=case_id).count() == 1
    assert Case.objects.get(pk=case_id).version == version + 1
