"""The pre-contact check wired into case management: services, API, pages, stored refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.compliance import selectors
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import ContactBlockedError, contact_check, flag_add, flag_lift
from fieldcollect.core.models import Role
from fieldcollect.portfolio.models import Loan
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
sh = f.at  # a day at an hour in Shanghai


def second_case_for(case: Case, *, world, agency, manager, collector) -> Case:
    """Another loan of the same debtor, placed with ``agency`` (its notice before outsourcing sent long
    before) and assigned to ``collector``."""
    last = Loan.objects.order_by("-loan_id").first()
    assert last is not None
    n = last.loan_id + 1
    loan = Loan.objects.create(loan_id=n, customer=case.customer, product="信用卡", principal_fen=1_000_000,
                               annual_rate=Decimal("0.18"), term_months=12, method=Loan.Method.EQUAL_INSTALMENT,
                               disbursed_on=f.today() - timedelta(days=200))
    other = Case.objects.create(loan=loan, customer=case.customer, opened_on=f.today(), dpd=40, max_dpd=40,
                                bucket="M2", overdue_fen=1000, city="上海")
    services.case_place(case=other, agency=agency, acting_user=world.bank[Role.COLLECTIONS_MANAGER],
                        override_reason="test: the debtor's loans sit with two agencies")
    f.notice_sent(other, agency=agency)  # the debtor was told long before (notice before outsourcing)
    services.case_assign(case=other, collector=collector, acting_user=manager)
    other.refresh_from_db()
    return other


def call(case, user, at, **kw):
    kw.setdefault("outcome", "no_answer")
    return services.contact_record(case=case, acting_user=user, channel=kw.pop("channel", "phone"), at=at, **kw)


# ---------------------------------------------------------------- services

def test_hours_in_the_debtors_local_time(world):
    day = f.today()
    case = world.case_a1
    # 23:00 in Shanghai is 10:00 in New York: a New York debtor may be called, a Shanghai one not
    with pytest.raises(ContactBlockedError) as exc:
        call(case, world.collector_user_a1, sh(day, 23))
    assert exc.value.extra["rule_ids"] == ["CN-HOURS"]
    nxt = datetime.fromisoformat(exc.value.extra["next_allowed_at"])
    assert nxt == sh(day + timedelta(days=1), 8)
    case.customer.timezone = "America/New_York"
    case.customer.save(update_fields=["timezone"])
    contact = call(case, world.collector_user_a1, sh(day, 23))
    assert contact.pk is not None


def test_connected_call_cap_counts_every_agency(world):
    case_a = world.case_a1
    case_b = second_case_for(case_a, world=world, agency=world.agency_b, manager=world.manager_b,
                             collector=world.collector_b)
    day = f.today()
    for h in (9, 10, 11):
        call(case_a, world.collector_user_a1, sh(day, h), outcome="callback", connected=True)
    with pytest.raises(ContactBlockedError) as exc:
        call(case_b, world.collector_user_b, sh(day, 15), outcome="callback")
    assert exc.value.status_code == 422 and exc.value.code == "compliance.blocked"
    assert exc.value.extra["rule_ids"] == ["CN-CONNECTED-CAP"]
    assert datetime.fromisoformat(exc.value.extra["next_allowed_at"]) == sh(day + timedelta(days=1), 8)
    assert ContactAttempt.objects.filter(case=case_b).count() == 0
    blocked = BlockedAttempt.objects.get()
    assert (blocked.agency_id, blocked.case_id, blocked.user_id, blocked.channel) == (
        world.agency_b.pk, case_b.pk, world.collector_user_b.pk, "phone")
    assert blocked.rule_ids == ["CN-CONNECTED-CAP"] and "3" in blocked.explanation and blocked.explanation_zh
    assert AuditEntry.objects.filter(action="compliance.blocked", object_id=str(case_b.pk)).count() == 1
    # a letter is not a call: allowed
    call(case_b, world.collector_user_b, sh(day, 15), channel="letter")


def test_an_attempt_logged_after_the_fact_reads_a_bounded_ledger(world):
    """A call logged afterwards is judged on the history known at its time (the day's later calls do
    not count against it, the engine's semantics), and the ledger read for it stops a lookback ahead:
    attempts further away are not read, numbers outside the per-number window are not decrypted."""
    case = world.case_a1
    day = f.today() - timedelta(days=20)
    u = world.collector_user_a1
    for h in (14, 15, 16):
        call(case, u, sh(day, h), outcome="callback", connected=True)
    call(case, u, sh(day, 9, 30), outcome="callback", connected=True)  # before the three: allowed
    with pytest.raises(ContactBlockedError) as exc:
        call(case, u, sh(day, 17), outcome="callback", connected=True)
    assert exc.value.extra["rule_ids"] == ["CN-CONNECTED-CAP"]
    far = sh(day - timedelta(days=80), 10)
    assert selectors.debtor_ledger(customer_id=case.customer_id, since=far - timedelta(days=40),
                                   until=far + timedelta(days=40)) == []
    ledger = selectors.debtor_ledger(customer_id=case.customer_id, since=sh(day, 0),
                                     until=sh(day, 23), numbers_since=sh(day, 0), numbers_until=sh(day, 15))
    assert [bool(e.phone) for e in sorted(ledger, key=lambda e: e.at)] == [True, True, False, False]


def test_unanswered_cap_is_per_number(world):
    case = world.case_a1
    day = f.today()
    u = world.collector_user_a1
    for m in range(6):
        call(case, u, sh(day, 9, m), number="138-0000-0001")
    with pytest.raises(ContactBlockedError) as exc:
        call(case, u, sh(day, 10), number="13800000001")
    assert exc.value.extra["rule_ids"] == ["CN-UNANSWERED-CAP"]
    call(case, u, sh(day, 10), number="13800000002")  # another number of the debtor


def test_us_loan_uses_regulation_f_in_the_debtors_zone(world):
    case = world.case_a1
    Loan.objects.filter(pk=case.loan_id).update(jurisdiction="US")
    case.customer.timezone = "America/Chicago"
    case.customer.save(update_fields=["timezone"])
    ct = ZoneInfo("America/Chicago")
    start = datetime(2026, 3, 2, 10, 0, tzinfo=ct)
    u = world.collector_user_a1
    for d in range(7):  # seven unanswered calls on seven days
        call(case, u, start + timedelta(days=d))
    with pytest.raises(ContactBlockedError) as exc:
        call(case, u, start + timedelta(days=6, hours=2))
    assert exc.value.extra["rule_ids"] == ["US-7IN7"] and exc.value.extra["pack"].startswith("US@")
    # the oldest call leaves the 7-day window at local midnight (Chicago moves to daylight time on 8 March)
    assert datetime.fromisoformat(exc.value.extra["next_allowed_at"]) == datetime(2026, 3, 9, 8, 0, tzinfo=ct)


def test_pause_flag_blocks_until_lifted(world):
    officer = world.bank[Role.COMPLIANCE_OFFICER]
    case = world.case_a1
    day = f.today()
    flag = flag_add(customer=case.customer, flag="complaint", starts_at=sh(day, 9), reason="complaint 1",
                    acting_user=None, source="complaint:1")
    with pytest.raises(ContactBlockedError) as exc:
        call(case, world.collector_user_a1, sh(day, 10), channel="sms")
    assert exc.value.extra["rule_ids"] == ["CN-PAUSE-COMPLAINT"] and exc.value.extra["next_allowed_at"] is None
    flag_lift(flag=flag, acting_user=officer, reason="resolved", at=sh(day, 11))
    call(case, world.collector_user_a1, sh(day, 12), channel="sms")


def test_third_party_only_after_lost_contact_and_never_after_stop(world):
    case = world.case_a1
    day = f.today()
    u = world.collector_user_a1
    with pytest.raises(ContactBlockedError) as exc:
        call(case, u, sh(day, 9), party="relative", number="139 0000 1111")
    assert exc.value.extra["rule_ids"] == ["CN-THIRD-PARTY-LOST-CONTACT"]
    for m in (10, 11, 12):
        call(case, u, sh(day, 9, m))  # three failed calls to the debtor
    call(case, u, sh(day, 10), party="relative", number="139 0000 1111")
    flag_add(customer=case.customer, flag="third_party_cease", phone="13900001111", starts_at=sh(day, 10, 30),
             reason="relative asked to stop", acting_user=u)
    with pytest.raises(ContactBlockedError) as exc:
        call(case, u, sh(day, 11), party="relative", number="13900001111")
    assert "CN-THIRD-PARTY-CEASE" in exc.value.extra["rule_ids"]
    # another third party is still allowed (contact is still lost)
    call(case, u, sh(day, 11), party="employer", number="021-5555 0000")


def test_no_valid_number_flag_opens_third_parties(world):
    case = world.case_a1
    day = f.today()
    flag_add(customer=case.customer, flag="no_valid_number", starts_at=sh(day, 8), reason="all numbers dead",
             acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    call(case, world.collector_user_a1, sh(day, 9), party="employer", number="02155550000")


def test_visit_logged_by_hand_needs_the_visit_facts(world):
    day = f.today()
    with pytest.raises(ContactBlockedError) as exc:
        call(world.case_a1, world.collector_user_a1, sh(day, 10), channel="visit", outcome="not_home")
    assert set(exc.value.extra["rule_ids"]) == {"CN-VISIT-TEAM", "CN-VISIT-RECORDING", "CN-VISIT-APPOINTMENT"}


def test_contact_check_stores_nothing(world):
    day = f.today()
    verdict = contact_check(case=world.case_a1, acting_user=world.collector_user_a1, channel="phone",
                            at=sh(day, 7, 59))
    assert not verdict.allowed and verdict.rule_ids == ["CN-HOURS"] and verdict.next_allowed_at == sh(day, 8)
    assert contact_check(case=world.case_a1, acting_user=world.collector_user_a1, channel="phone",
                         at=sh(day, 8)).allowed
    assert not BlockedAttempt.objects.exists()


def test_contact_record_query_budget(world, django_assert_max_num_queries):
    case = world.case_a1
    day = f.today()
    for h in (9, 10):
        call(case, world.collector_user_a1, sh(day, h))
    case = Case.objects.get(pk=case.pk)
    # lock (case+customer+loan), ledger, flags, the notice before outsourcing naming the agency (an
    # agency's contact only), insert contact, update case, audit row (the audit hash chain adds a read
    # and an update of its head), savepoint and release of the test's transaction
    with django_assert_max_num_queries(11) as ctx:
        call(case, world.collector_user_a1, sh(day, 11), connected=True, outcome="callback")
    selects = [q["sql"] for q in ctx.captured_queries
               if q["sql"].lstrip().upper().startswith("SELECT") and "core_audit" not in q["sql"]]
    assert len(selects) == 4, selects
    assert sum('FROM "cases_case"' in s for s in selects) == 1
    assert sum('FROM "compliance_outsourcingnotice"' in s for s in selects) == 1
    assert not any("agencies_" in q["sql"].split(" FROM ")[-1][:40] for q in ctx.captured_queries)
    # the bank's own contact does not read the notices: the three reads as before
    case = Case.objects.get(pk=case.pk)
    with django_assert_max_num_queries(10) as ctx:
        call(case, world.bank[Role.COLLECTIONS_MANAGER], sh(day, 12))
    selects = [q["sql"] for q in ctx.captured_queries
               if q["sql"].lstrip().upper().startswith("SELECT") and "core_audit" not in q["sql"]]
    assert len(selects) == 3, selects


# ---------------------------------------------------------------- API

def api_client(user, lang: str) -> Client:
    _, secret = token_create(user=user)
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": lang})


@pytest.mark.parametrize(("lang", "needle"), [("zh-Hans", "禁止任何形式"), ("en", "No collection contact")])
def test_api_refuses_with_explanation_in_the_callers_language(world, lang, needle):
    case = world.case_a1
    c = api_client(world.collector_user_a1, lang)
    at = sh(f.today(), 22, 30).isoformat()
    resp = c.post(f"/api/v1/cases/{case.pk}/contacts", {"channel": "phone", "outcome": "no_answer", "at": at},
                  content_type="application/json")
    assert resp.status_code == 422, resp.content
    err = resp.json()["error"]
    assert err["code"] == "compliance.blocked" and err["extra"]["rule_ids"] == ["CN-HOURS"]
    assert needle in err["message"] and needle in err["extra"]["explanations"][0]
    assert err["extra"]["next_allowed_at"].startswith((f.today() + timedelta(days=1)).isoformat() + "T08:00")
    assert BlockedAttempt.objects.get().path == "api"
    check = c.post(f"/api/v1/cases/{case.pk}/contact-check", {"channel": "phone", "at": at},
                   content_type="application/json")
    assert check.status_code == 200
    body = check.json()
    assert body["allowed"] is False and body["rule_ids"] == ["CN-HOURS"] and needle in body["explanations"][0]
    assert body["pack"].startswith("CN@")
    ok = c.post(f"/api/v1/cases/{case.pk}/contact-check", {"channel": "phone", "at": sh(f.today(), 9).isoformat()},
                content_type="application/json").json()
    assert ok["allowed"] is True and ok["rule_ids"] == []
    assert BlockedAttempt.objects.count() == 1


def test_api_contact_check_needs_access(world):
    c = api_client(world.collector_user_b, "en")
    resp = c.post(f"/api/v1/cases/{world.case_a1.pk}/contact-check", {"channel": "phone"},
                  content_type="application/json")
    assert resp.status_code == 404


# ---------------------------------------------------------------- pages

@pytest.mark.parametrize(("lang", "needle"), [(None, "投诉处理期间暂停催收联系"), ("en", "open complaint")])
def test_page_refuses_with_explanation(world, lang, needle):
    case = world.case_a1
    flag_add(customer=case.customer, flag="complaint", starts_at=sh(f.today(), 0) - timedelta(days=1),
             reason="x", acting_user=None)
    c = logged_in(world.collector_user_a1, language=lang)
    resp = c.post(reverse("cases:contact", args=[case.pk]),
                  {"channel": "phone", "party": "debtor", "outcome": "no_answer", "version": case.version},
                  follow=True)
    assert resp.status_code == 200
    assert needle in resp.content.decode() and "CN-PAUSE-COMPLAINT" in resp.content.decode()
    assert not ContactAttempt.objects.filter(case=case).exists()
    assert BlockedAttempt.objects.get().path == "page"


def test_flags_page_for_bank_roles(world):
    case = world.case_a1
    officer = logged_in(world.bank[Role.COMPLIANCE_OFFICER], language="en")
    resp = officer.post(reverse("compliance:flag_add", args=[case.pk]),
                        {"flag": "dispute", "reason": "debtor disputes the amount"}, follow=True)
    assert resp.status_code == 200 and "Flag added." in resp.content.decode()
    flag = case.customer.compliance_flags.get()
    assert flag.flag == "dispute" and flag.source == f"page:case:{case.pk}"
    page = officer.get(reverse("compliance:case_flags", args=[case.pk])).content.decode()
    assert "debtor disputes the amount" in page and "Lift" in page
    resp = officer.post(reverse("compliance:flag_lift", args=[case.pk, flag.pk]), {"reason": "verified"},
                        follow=True)
    flag.refresh_from_db()
    assert flag.lifted_at is not None and flag.lift_reason == "verified"
    # another agency does not see the case's flags
    assert logged_in(world.manager_b).get(reverse("compliance:case_flags", args=[case.pk])).status_code == 404


def test_flags_page_for_the_agency_holding_the_case(world):
    case = world.case_a1
    url = reverse("compliance:case_flags", args=[case.pk])
    flag_add(customer=case.customer, flag="third_party_cease", phone="13912345678", starts_at=sh(f.today(), 0),
             reason="employer asked to stop", acting_user=None)
    # a refused contact of the other agency (an earlier placement) stays out of this agency's page
    BlockedAttempt.objects.create(at=sh(f.today(), 9), agency=world.agency_b, case=case, customer=case.customer,
                                  channel="phone", party="debtor", rule_ids=["CN-HOURS"], explanation="other agency")
    collector = logged_in(world.collector_user_a1, language="en")
    page = collector.get(url).content.decode()
    assert "employer asked to stop" in page and "139****5678" in page and "13912345678" not in page
    assert "other agency" not in page
    assert 'value="consent_hours"' not in page and 'value="complaint"' in page  # restrictive flags only
    assert "/lift" not in page  # no lifting
    resp = collector.post(reverse("compliance:flag_add", args=[case.pk]),
                          {"flag": "cease", "reason": "asked us to stop calling"}, follow=True)
    assert "Flag added." in resp.content.decode()
    added = case.customer.compliance_flags.get(flag="cease")
    assert added.created_by == world.collector_user_a1 and added.source == f"page:case:{case.pk}"
    refused = collector.post(reverse("compliance:flag_add", args=[case.pk]),
                             {"flag": "consent_hours", "reason": "said ok"}, follow=True)
    assert not case.customer.compliance_flags.filter(flag="consent_hours").exists()
    assert refused.status_code == 200
    lift = logged_in(world.manager_a, language="en").post(reverse("compliance:flag_lift", args=[case.pk, added.pk]),
                                                   {"reason": "x"}, follow=True)
    added.refresh_from_db()
    assert added.lifted_at is None and "may not" in lift.content.decode()
    # the case page links to it for agency users too
    assert url in logged_in(world.collector_user_a1).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert logged_in(world.collector_user_a2).get(url).status_code == 404


# ---------------------------------------------------------------- report

def _blocked_day(world):
    day = f.today()
    u = world.collector_user_a1
    case = world.case_a1
    for h in (9, 10, 11):
        call(case, u, sh(day, h), outcome="callback", connected=True)
    with pytest.raises(ContactBlockedError):
        call(case, u, sh(day, 12))
    with pytest.raises(ContactBlockedError):
        call(case, u, sh(day, 23))
    call(world.case_b, world.collector_user_b, sh(day, 21, 55))  # near miss: 5 minutes before 22:00
    return day


def test_daily_report_counts_blocked_by_rule_and_near_misses(world):
    day = _blocked_day(world)
    rep = selectors.daily_report(day=day)
    by_agency = {d.agency_id: d for d in rep.days}
    a, b = str(world.agency_a.pk), str(world.agency_b.pk)
    assert by_agency[a].blocked_by_rule == {"CN-CONNECTED-CAP": 2, "CN-HOURS": 1}
    assert by_agency[a].contacts == 3 and by_agency[b].contacts == 1
    assert by_agency[b].near_misses_by_rule.get("CN-HOURS") == 1
    assert rep.blocked_by_rule == {"CN-CONNECTED-CAP": 2, "CN-HOURS": 1}
    only_b = selectors.daily_report(day=day, agency_id=world.agency_b.pk)
    assert {d.agency_id for d in only_b.days} == {b} and not only_b.blocked


def test_report_pages_and_csv_by_role(world):
    day = _blocked_day(world)
    officer = logged_in(world.bank[Role.COMPLIANCE_OFFICER], language="en")
    page = officer.get(reverse("compliance:report"), {"day": day.isoformat()}).content.decode()
    assert "CN-CONNECTED-CAP: 2" in page and str(world.agency_b.pk) in page
    csv = officer.get(reverse("compliance:report_csv"), {"day": day.isoformat()})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "day,agency_id,section,rule_id,count,detail"
    assert f"{day.isoformat()},{world.agency_a.pk},blocked,CN-CONNECTED-CAP,2," in lines
    assert f"{day.isoformat()},{world.agency_b.pk},near_miss,CN-HOURS,1," in lines
    zh = logged_in(world.bank[Role.COMPLIANCE_OFFICER]).get(reverse("compliance:report"), {"day": day.isoformat()})
    assert zh.status_code == 200 and "每日合规报告" in zh.content.decode() and "按规则统计的拦截" in zh.content.decode()
    flags_zh = logged_in(world.bank[Role.COMPLIANCE_OFFICER]).get(reverse("compliance:case_flags",
                                                                            args=[world.case_a1.pk]))
    assert flags_zh.status_code == 200 and "本案件被拦截的联系" in flags_zh.content.decode()
    assert "禁止任何形式" in flags_zh.content.decode()  # the 23:00 refusal, explained in Chinese
    # an agency manager sees their own agency only, whatever they ask for
    mgr_b = logged_in(world.manager_b, language="en")
    csv_b = mgr_b.get(reverse("compliance:report_csv"), {"day": day.isoformat(), "agency": world.agency_a.pk})
    rows = csv_b.content.decode().splitlines()[1:]
    assert rows and all(r.split(",")[1] == str(world.agency_b.pk) for r in rows)
    assert logged_in(world.collector_user_a1).get(reverse("compliance:report")).status_code == 403
