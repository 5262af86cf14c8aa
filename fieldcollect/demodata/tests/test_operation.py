"""The demo plays a working department (issue 19, item 7): a small book over a few weeks, twice.

Every kind of record the pages and dashboards show exists after the run, made through the services
(hard negatives: refused contacts are stored as blocked attempts, never as contacts; the critical
complaint paused contact and the pause was lifted), and two runs with the same seed give the same
book (a digest of the key tables).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.cases.models import ContactAttempt, Payment, Placement, PromiseToPay
from fieldcollect.complaints.models import Complaint
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag
from fieldcollect.demodata.demo import build_demo
from fieldcollect.demodata.operation import SimClock, book_digests, business_days, photo_file, recording_file
from fieldcollect.plans.models import PlanAgreement, RestructuringProposal
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.settlement.models import Statement
from fieldcollect.testing import factories as f
from fieldcollect.visits.evidence import sniff
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, FeedbackRequest, RoutePlan, VisitReport

AS_OF = date(2026, 12, 4)  # a Friday: the period crosses the end of November (monthly statements)
DAYS = 16


def _fresh() -> None:
    """The database as the migrations left it (its one seeded table, the authority matrix), with every
    id sequence where a new database has it (PostgreSQL's sequences do not roll back with the earlier
    tests' transactions). Not ``serialized_rollback``: the flush of an earlier transactional test
    recreates the content types under other ids, and restoring the serialized ones then collides."""
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    f.ensure_default_levels()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def _run(lines: list[str]) -> dict[str, str]:
    build_demo(loans=1500, seed=7, business=AS_OF, days=DAYS, say=lines.append)
    return book_digests()


@pytest.mark.django_db(transaction=True)
def test_the_demo_lives_the_operation_and_is_reproducible(fc_home, monkeypatch):
    _fresh()
    lines: list[str] = []
    first = _run(lines)

    # nightly runs on every business day of the period
    period = business_days(AS_OF, DAYS)
    assert sorted(DailyRun.objects.filter(cases_synced=True).values_list("as_of", flat=True)) == period
    # every kind of record exists
    assert Placement.objects.filter(retained_count__gt=0).exists()
    assert Placement.objects.filter(status=Placement.Status.RECALLED).exists()
    for channel in ("phone", "sms", "visit"):
        assert ContactAttempt.objects.filter(channel=channel).exists(), channel
    refused = list(BlockedAttempt.objects.filter(channel="sms").values_list("case_id", "at"))
    assert refused  # texts late in the evening are refused: blocked attempts...
    for case_id, at in refused:  # ...never contacts
        assert not ContactAttempt.objects.filter(case_id=case_id, channel="sms", at=at).exists()
    assert PromiseToPay.objects.exists()
    assert PromiseToPay.objects.filter(status=PromiseToPay.Status.KEPT).exists()
    assert Payment.objects.filter(case__promises__isnull=False).exists()
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert {Appointment.Status.CONFIRMED, Appointment.Status.DECLINED} <= statuses
    assert Appointment.objects.filter(chosen_by_customer=True).exists()  # moved by the customer
    assert CheckIn.objects.filter(accepted=True).exists()
    assert CheckIn.objects.filter(accepted=False).exclude(flags=[]).exists()  # spoofing signs
    # phones report GCJ-02 or BD-09; at the door the position is accepted all the same (stored in WGS-84)
    assert CheckIn.objects.filter(reported_system__in=["gcj02", "bd09"], accepted=True).exists()
    assert VisitReport.objects.filter(status=VisitReport.Status.CLOSED).exclude(outcome="").exists()
    kinds = set(Evidence.objects.values_list("kind", flat=True))
    assert {"audio", "photo"} <= kinds
    assert RoutePlan.objects.exists()
    assert FeedbackRequest.objects.filter(rating__lte=2).exists()  # some negative
    assert FeedbackRequest.objects.filter(rating__gte=4).exists()
    critical = Complaint.objects.get(severity="critical")
    assert critical.pause_flag_id is not None and critical.pause_lifted_at is not None
    assert critical.status == "resolved"
    assert DebtorFlag.objects.filter(pk=critical.pause_flag_id).exists()
    assert Complaint.objects.count() > 1
    assert RestructuringProposal.objects.exists()
    assert PlanAgreement.objects.exists()
    assert RestructuringProposal.objects.filter(state__in=["accepted", "declined", "offered"]).exists()
    assert Statement.objects.filter(status=Statement.Status.ISSUED, month=date(2026, 11, 1)).exists()
    assert CaseStory.objects.exists()
    # the time of each stage is printed
    assert any(line.startswith("time by stage") and "nightly" in line and "operation" in line for line in lines)

    # same seed, same book: the database as the migrations left it, a new data home, and again
    _fresh()
    second_home = fc_home.parent / "home2"
    second_home.mkdir()
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(second_home))
    assert _run([]) == first


def test_generated_evidence_is_recognised_and_distinct():
    audio, photo = sniff(recording_file(1)), sniff(photo_file(1))
    assert audio is not None and audio.kind == "audio"
    assert photo is not None and photo.kind == "photo"
    assert recording_file(1) != recording_file(2) and photo_file(1) != photo_file(2)
    assert recording_file(3) == recording_file(3)


def test_business_days_and_the_clock():
    days = business_days(date(2026, 12, 6), 6)  # a Sunday: the period ends on the Friday before
    assert days == [date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2),
                    date(2026, 12, 3), date(2026, 12, 4)]
    from django.utils import timezone

    clock = SimClock()
    real = timezone.now
    with clock.running():
        moment = clock.set(timezone.make_aware(timezone.datetime(2026, 9, 1, 10, 0)))
        assert timezone.now() == moment and timezone.localdate() == date(2026, 9, 1)
    assert timezone.now is real
