"""Notice before outsourcing, as shipped (CN pack: on, 3 waiting days; US pack: none): a placement queues
the text naming the agency (once per debtor and agency), the outbox sends it after its own check and its
sent time is what the rule reads; the agency's contacts are refused until it was sent and the waiting
days (the debtor's local days) passed; the bank's own contacts are not; a notice naming agency A does
not open the debtor to agency B; the visit check-in and the field app refuse as well."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.cases import services
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.compliance.errors import ComplianceErrorCode
from fieldcollect.compliance.models import BlockedAttempt, OutsourcingNotice
from fieldcollect.compliance.selectors import pack_for
from fieldcollect.compliance.services import ContactBlockedError
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import outbox_dispatch
from fieldcollect.portfolio.models import Loan
from fieldcollect.testing import factories as f
from fieldcollect.visits import services as visit_services

pytestmark = pytest.mark.django_db
RULE = "CN-OUTSOURCING-NOTICE"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def setup(db):
    agency, other = f.make_agency(), f.make_agency()
    f.make_contract(agency=agency)
    f.make_contract(agency=other)
    return {
        "agency": agency,
        "other": other,
        "cm": f.make_user(role=Role.COLLECTIONS_MANAGER),
        "manager": f.make_user(role=Role.AGENCY_MANAGER, agency=agency),
        "manager_other": f.make_user(role=Role.AGENCY_MANAGER, agency=other),
    }


def call(case, user, at):
    return services.contact_record(case=case, acting_user=user, channel="phone", outcome="no_answer", at=at)


def refused(case, user, at) -> dict:
    with pytest.raises(ContactBlockedError) as err:
        call(case, user, at)
    assert err.value.code == ComplianceErrorCode.BLOCKED
    return err.value.extra


def test_the_shipped_cn_pack_enforces_the_notice_and_the_us_pack_has_none():
    rule = pack_for("CN").rule(RULE)
    assert rule.enabled and rule.waiting_days == 3
    assert not [r for r in pack_for("US").active_rules if r.kind == "outsourcing_notice"]


def test_placement_queues_one_notice_per_debtor_and_agency(setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    notice = OutsourcingNotice.objects.get()
    assert (notice.customer_id, notice.agency_id) == (case.customer_id, setup["agency"].pk)
    message = notice.message
    assert message.kind == "outsourcing_notice" and message.status == OutboxMessage.Status.PENDING
    assert message.to == case.customer.mobile and setup["agency"].name in message.body
    # another loan of the same customer with the same agency: no second notice; another agency: one more
    loan2 = Loan.objects.create(
        loan_id=case.loan_id + 500_000,
        customer=case.customer,
        product="消费贷",
        principal_fen=1_000_000,
        annual_rate=case.loan.annual_rate,
        term_months=12,
        method=case.loan.method,
        disbursed_on=case.loan.disbursed_on,
    )
    second = f.make_case(loan=loan2, customer=case.customer)
    services.case_place(case=second, agency=setup["agency"], acting_user=setup["cm"])
    assert OutsourcingNotice.objects.count() == 1
    services.case_recall(case=second, reason="test", acting_user=setup["cm"])
    second.refresh_from_db()
    services.case_place(case=second, agency=setup["other"], acting_user=setup["cm"],
                        override_reason="test: a second agency for one of the customer's loans")
    assert OutsourcingNotice.objects.filter(agency=setup["other"]).count() == 1


def test_bulk_placements_queue_the_notices_too(setup):
    cases = [f.make_case(), f.make_case()]
    services.cases_place_bulk(placements=[(c, setup["agency"]) for c in cases], starts_on=f.today(), acting_user=None)
    assert set(OutsourcingNotice.objects.values_list("customer_id", flat=True)) == {c.customer_id for c in cases}


def test_agency_contacts_wait_for_the_notice_and_the_waiting_days(setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    day0 = f.today() - timedelta(days=6)
    extra = refused(case, setup["manager"], f.in_hours(10, day0))  # no notice sent
    assert extra["rule_ids"] == [RULE] and extra["next_allowed_at"] is None
    assert BlockedAttempt.objects.filter(rule_ids=[RULE]).count() == 1
    assert not ContactAttempt.objects.exists()
    # the bank's own contact is not limited
    call(case, setup["cm"], f.in_hours(10, day0))
    sent = f.in_hours(9, day0)
    OutboxMessage.objects.filter(kind="outsourcing_notice").update(status="sent", sent_at=sent)
    # the day of sending does not count: day0+1..day0+3 are the three waiting days, even at their end
    for days, hour in ((1, 10), (3, 21)):
        extra = refused(case, setup["manager"], f.in_hours(hour, day0 + timedelta(days=days)))
        assert extra["rule_ids"] == [RULE]
        # next allowed: the fourth day's first contact hour (the rule frees it at 00:00, the hours at 08:00)
        assert extra["next_allowed_at"] == f.in_hours(8, day0 + timedelta(days=4)).isoformat()
    call(case, setup["manager"], f.in_hours(8, day0 + timedelta(days=4)))
    assert ContactAttempt.objects.filter(agency=setup["agency"]).count() == 1
    # another agency: A's notice does not count for B, whose own was not sent
    services.case_recall(case=case, reason="test", acting_user=setup["cm"])
    case.refresh_from_db()
    services.case_place(case=case, agency=setup["other"], acting_user=setup["cm"])
    extra = refused(case, setup["manager_other"], f.in_hours(10, f.today() - timedelta(days=1)))
    assert extra["rule_ids"] == [RULE]
    assert not ContactAttempt.objects.filter(agency=setup["other"]).exists()


def test_the_waiting_days_are_the_debtors_local_days(setup):
    """Two debtors sent the notice at the same instant, 23:30 in Urumqi (01:30 the next day in
    Shanghai): four days later at 09:00 Urumqi time the Urumqi debtor's waiting days have passed, the
    Shanghai debtor's have not."""
    urumqi = f.make_case()
    urumqi.customer.timezone = "Asia/Urumqi"
    urumqi.customer.save(update_fields=["timezone"])
    shanghai = f.make_case()
    day = f.today() - timedelta(days=8)
    sent = datetime.combine(day, time(23, 30), tzinfo=ZoneInfo("Asia/Urumqi"))
    for case in (urumqi, shanghai):
        f.place(case, agency=setup["agency"], cm=setup["cm"], notice=sent)
    at = datetime.combine(day + timedelta(days=4), time(9), tzinfo=ZoneInfo("Asia/Urumqi"))  # 11:00 in Shanghai
    call(urumqi, setup["manager"], at)
    extra = refused(shanghai, setup["manager"], at)
    assert extra["rule_ids"] == [RULE]
    assert extra["next_allowed_at"] == datetime.combine(day + timedelta(days=5), time(8), tzinfo=SH).isoformat()


def test_the_outbox_sends_the_notice_after_its_own_check_and_its_time_counts(setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    night = f.in_hours(23)
    assert outbox_dispatch(now=night)["held"] == 1  # contact hours in the debtor's local time: held
    assert BlockedAttempt.objects.filter(path="outbox:outsourcing_notice").count() == 1
    morning = f.in_hours(9) + timedelta(days=1)
    assert outbox_dispatch(now=morning)["sent"] == 1
    message = OutsourcingNotice.objects.get().message
    assert message.status == OutboxMessage.Status.SENT and message.sent_at == morning
    refused(case, setup["manager"], f.in_hours(10) + timedelta(days=4))
    call(case, setup["manager"], f.in_hours(10) + timedelta(days=5))


def test_us_placements_queue_no_notice_and_do_not_wait(setup):
    case = f.make_case()
    Loan.objects.filter(pk=case.loan_id).update(jurisdiction="US")
    case.customer.timezone = "America/New_York"
    case.customer.save(update_fields=["timezone"])
    case.refresh_from_db()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    assert not OutsourcingNotice.objects.exists() and not OutboxMessage.objects.exists()
    call(case, setup["manager"], datetime.combine(f.today(), time(11), tzinfo=ZoneInfo("America/New_York")))


def test_the_field_check_in_is_refused_before_the_notice(setup):
    """At the door (check-in without a permit) and through a permit synced from the phone, the agency's
    visit before the notice is refused with the common compliance error; after it, the check-in is
    accepted. The bank is not an agency: nothing changes for it (a hard negative above)."""
    agency = setup["agency"]
    user, collector = f.make_collector_user(agency=agency)
    case = f.make_case()
    case.customer.lat, case.customer.lon = 31.2400, 121.4900
    case.customer.save(update_fields=["lat", "lon"])
    f.place(case, agency=agency, cm=setup["cm"], collector=collector, manager=setup["manager"], notice=False)
    at = f.in_hours(10)
    with pytest.raises(ContactBlockedError) as err:
        visit_services.checkin_record(case=case, acting_user=user, lat=31.2400, lon=121.4900, accuracy_m=10, at=at)
    assert err.value.code == ComplianceErrorCode.BLOCKED and RULE in err.value.extra["rule_ids"]
    assert [RULE in b.rule_ids for b in BlockedAttempt.objects.filter(path="checkin")] == [True]
    f.notice_sent(case, agency=agency)
    checkin = visit_services.checkin_record(case=case, acting_user=user, lat=31.2400, lon=121.4900, accuracy_m=10,
                                            at=at)
    assert checkin.accepted
