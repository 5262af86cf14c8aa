"""Notice before outsourcing: a placement queues the text naming the agency (once per debtor and
agency), the agency's contacts are refused until it was sent and the pack's waiting days passed, the
bank's own contacts are not; with the shipped pack (rule disabled) nothing changes."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import timedelta

import pytest

from fieldcollect.cases import services
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.compliance import selectors
from fieldcollect.compliance.models import BlockedAttempt, OutsourcingNotice
from fieldcollect.compliance.packs import PACKS_DIR, parse_pack
from fieldcollect.compliance.services import ContactBlockedError
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import outbox_dispatch
from fieldcollect.portfolio.models import Loan
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice_on(monkeypatch):
    """CN with the notice rule enabled (3 waiting days)."""
    pack = parse_pack(data=tomllib.loads((PACKS_DIR / "cn.toml").read_text(encoding="utf-8")))
    rule = replace(pack.rule("CN-OUTSOURCING-NOTICE"), enabled=True)
    on = replace(pack, rules=tuple(rule if r.id == rule.id else r for r in pack.rules))
    monkeypatch.setattr(selectors, "versions_of", lambda jurisdiction: (on,))
    return rule


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
    }


def test_placement_queues_one_notice_per_debtor_and_agency(notice_on, setup):
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
    # the customer's first loan is still with the agency: another agency needs a bank user's override
    services.case_place(case=second, agency=setup["other"], acting_user=setup["cm"],
                        override_reason="another agency for this loan")
    assert OutsourcingNotice.objects.filter(agency=setup["other"]).count() == 1


def test_agency_contacts_wait_for_the_notice_and_the_waiting_days(notice_on, setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    day0 = f.today() - timedelta(days=6)
    with pytest.raises(ContactBlockedError) as err:
        services.contact_record(
            case=case,
            acting_user=setup["manager"],
            channel="phone",
            outcome="no_answer",
            at=f.in_hours(10, day0),
        )
    assert (
        err.value.extra["rule_ids"] == ["CN-OUTSOURCING-NOTICE"]
        and err.value.extra["next_allowed_at"] is None
    )
    assert BlockedAttempt.objects.filter(rule_ids=["CN-OUTSOURCING-NOTICE"]).count() == 1
    # the bank's own contact is not limited
    services.contact_record(
        case=case, acting_user=setup["cm"], channel="phone", outcome="no_answer", at=f.in_hours(10, day0)
    )
    sent = f.in_hours(9, day0)
    OutboxMessage.objects.filter(kind="outsourcing_notice").update(status="sent", sent_at=sent)
    with pytest.raises(ContactBlockedError) as err:  # one day after: two more to wait
        services.contact_record(
            case=case,
            acting_user=setup["manager"],
            channel="phone",
            outcome="no_answer",
            at=f.in_hours(10, day0 + timedelta(days=1)),
        )
    assert err.value.extra["next_allowed_at"] == (sent + timedelta(days=notice_on.waiting_days)).isoformat()
    services.contact_record(
        case=case,
        acting_user=setup["manager"],
        channel="phone",
        outcome="no_answer",
        at=sent + timedelta(days=notice_on.waiting_days),
    )
    assert ContactAttempt.objects.filter(agency=setup["agency"]).count() == 1
    # another agency's notice does not count for this one
    other = f.make_user(role=Role.AGENCY_MANAGER, agency=setup["other"])
    services.case_recall(case=case, reason="test", acting_user=setup["cm"])
    case.refresh_from_db()
    services.case_place(case=case, agency=setup["other"], acting_user=setup["cm"])
    with pytest.raises(ContactBlockedError):
        services.contact_record(
            case=case,
            acting_user=other,
            channel="phone",
            outcome="no_answer",
            at=f.in_hours(10, f.today() - timedelta(days=1)),
        )


def test_the_outbox_sends_the_notice_after_its_own_check(notice_on, setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    night = f.in_hours(23)
    assert outbox_dispatch(now=night)["held"] == 1  # contact hours: held
    assert outbox_dispatch(now=f.in_hours(10) + timedelta(days=1))["sent"] == 1
    assert OutsourcingNotice.objects.get().message.status == OutboxMessage.Status.SENT


def test_shipped_pack_sends_no_notice_and_does_not_wait(setup):
    case = f.make_case()
    services.case_place(case=case, agency=setup["agency"], acting_user=setup["cm"])
    assert not OutsourcingNotice.objects.exists() and not OutboxMessage.objects.exists()
    services.contact_record(
        case=case, acting_user=setup["manager"], channel="phone", outcome="no_answer", at=f.in_hours(10)
    )
