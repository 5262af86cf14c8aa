"""Legal referrals (recall with the deletion attestation, costs, dashboard), letters (compliance check,
counted contact, delivery, PDF text in Chinese) and skip tracing (sources, masking and the audited
clear read, third-party limits, vendor file import)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.models import ContactAttempt, Payment, Placement
from fieldcollect.compliance import services as compliance
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import ContactBlockedError
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.legal import selectors, services
from fieldcollect.legal.models import AltContact, LegalReferral, Letter
from fieldcollect.privacy.models import AttestationItem
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def w(db):
    agency = f.make_agency()
    f.make_contract(agency=agency)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    agency_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    case = f.make_case(bucket="M2", overdue_fen=1_234_567, dpd=45)
    cs.case_place(case=case, agency=agency, acting_user=manager)
    case.refresh_from_db()

    class W:
        pass

    x = W()
    x.agency, x.manager, x.agency_manager, x.case = agency, manager, agency_manager, case
    return x


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


# ---------------------------------------------------------------- referrals


def test_referral_recalls_the_case_with_its_deletion_attestation(w):
    assert cases_visible_to(w.agency_manager).filter(pk=w.case.pk).exists()
    r = services.referral_create(
        case=w.case,
        kind="litigation",
        forum="上海市浦东新区人民法院",
        claim_fen=1_234_567,
        law_firm="上海明理律师事务所",
        acting_user=w.manager,
    )
    w.case.refresh_from_db()
    assert w.case.agency_id is None and w.case.status == "recalled"
    placement = Placement.objects.get(case=w.case)
    assert placement.status == "recalled" and placement.recall_reason == services.RECALL_REASON
    assert r.placement_id == placement.pk
    assert AttestationItem.objects.filter(placement=placement, attestation__agency=w.agency).exists()
    assert not cases_visible_to(w.agency_manager).filter(pk=w.case.pk).exists()
    assert AuditEntry.objects.filter(action="legal.refer", object_id=str(r.pk)).exists()
    # one active referral per case; a referral of a case held by nobody recalls nothing
    with pytest.raises(ConflictError):
        services.referral_create(
            case=w.case, kind="mediation", forum="调解中心", claim_fen=1, acting_user=w.manager
        )
    other = f.make_case()
    r2 = services.referral_create(
        case=other, kind="arbitration", forum="上海仲裁委员会", claim_fen=10_000, acting_user=w.manager
    )
    assert r2.placement_id is None


def test_referral_inputs_and_roles(w):
    for bad in ({"kind": "duel"}, {"forum": " "}, {"claim_fen": -5}, {"claim_fen": 0}, {"claim_fen": 1.5}):
        args = {"kind": "litigation", "forum": "法院", "claim_fen": 100} | bad
        with pytest.raises(ApplicationError):
            services.referral_create(case=w.case, acting_user=w.manager, **args)
    with pytest.raises(PermissionDeniedError):
        services.referral_create(
            case=w.case, kind="litigation", forum="法院", claim_fen=100, acting_user=w.agency_manager
        )
    assert not LegalReferral.objects.exists()
    assert Placement.objects.get(case=w.case).status == "active"  # nothing recalled by a refused referral


def test_dashboard_cost_against_recovered(w):
    r = services.referral_create(
        case=w.case,
        kind="litigation",
        forum="法院",
        claim_fen=1_000_000,
        acting_user=w.manager,
        referred_on=f.today() - timedelta(days=10),
    )
    services.cost_add(referral=r, kind="court_fee", amount_fen=35_000, acting_user=w.manager)
    services.cost_add(referral=r, kind="lawyer_fee", amount_fen=100_000, acting_user=w.manager)
    with pytest.raises(ApplicationError):
        services.cost_add(referral=r, kind="court_fee", amount_fen=-1, acting_user=w.manager)
    Payment.objects.create(
        loan=w.case.loan, case=w.case, paid_on=f.today() - timedelta(days=20), amount_fen=7_000
    )
    Payment.objects.create(
        loan=w.case.loan, case=w.case, paid_on=f.today() - timedelta(days=2), amount_fen=400_000
    )
    services.referral_update(
        referral=r,
        acting_user=w.manager,
        outcome="won",
        judgement_fen=900_000,
        forum_case_number="(2026)沪0115民初1234号",
    )
    services.referral_update(referral=r, acting_user=w.manager, enforcement="applied")
    r.refresh_from_db()
    assert r.status == "enforcing" and r.outcome_on is not None
    services.hearing_add(
        referral=r, at=timezone.now() + timedelta(days=7), place="第3法庭", acting_user=w.manager
    )
    d = selectors.legal_dashboard()
    lit = next(x for x in d["rows"] if x.key == "litigation")
    assert (lit.referrals, lit.cost_fen, lit.recovered_fen, lit.judgement_fen) == (
        1,
        135_000,
        400_000,
        900_000,
    )
    assert lit.net_fen == 265_000 and d["total"].cost_fen == 135_000


# ---------------------------------------------------------------- letters


def test_letter_is_a_checked_and_counted_contact(w):
    at = f.in_hours(10)
    letter = services.letter_send(
        case=w.case, kind="demand", acting_user=w.manager, at=at, tracking_number="SF123"
    )
    contact = ContactAttempt.objects.get(pk=letter.contact_id)
    assert contact.channel == "letter" and contact.outcome == "letter_sent" and contact.at == at
    assert len(letter.sha256) == 64 and letter.facts["overdue_fen"] == 1_234_567
    # at night in the debtor's local time: refused by the pack's contact hours, stored, nothing sent
    night = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=23)
    with pytest.raises(ContactBlockedError) as exc:
        services.letter_send(case=w.case, kind="demand", acting_user=w.manager, at=night)
    assert "CN-HOURS" in exc.value.extra["rule_ids"]
    assert BlockedAttempt.objects.filter(case=w.case, channel="letter", path="letter").count() == 1
    # a complaint pause stops letters too
    compliance.flag_add(
        customer=w.case.customer,
        flag="complaint",
        reason="投诉",
        acting_user=None,
        starts_at=at + timedelta(minutes=5),
    )
    with pytest.raises(ContactBlockedError):
        services.letter_send(case=w.case, kind="demand", acting_user=w.manager, at=at + timedelta(hours=1))
    assert Letter.objects.filter(case=w.case).count() == 1
    assert ContactAttempt.objects.filter(case=w.case, channel="letter").count() == 1


def test_letter_delivery_tracking(w):
    letter = services.letter_send(case=w.case, kind="demand", acting_user=w.manager, at=f.in_hours(10))
    with pytest.raises(ApplicationError):
        services.letter_track(letter=letter, status="returned", acting_user=w.manager)  # no reason
    services.letter_track(letter=letter, status="returned", reason="查无此人", acting_user=w.manager)
    assert letter.status == "returned" and letter.return_reason == "查无此人"
    with pytest.raises(ConflictError):
        services.letter_track(letter=letter, status="delivered", acting_user=w.manager)
    queue = selectors.repair_queue(user=w.manager, today=f.today())
    assert [(r["case"].pk, r["reasons"]) for r in queue] == [(w.case.pk, ["letter_returned"])]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_letter_pdfs_in_chinese_and_english(w):
    demand = services.letter_send(case=w.case, kind="demand", acting_user=w.manager, at=f.in_hours(10))
    text = _pdf_text(services.letter_pdf(letter=demand, user=w.manager))
    assert "催收函" in text and "Demand for Payment" in text and "12,345.67" in text
    assert w.case.customer.name in text and "逾期 45 天" in text
    assert AuditEntry.objects.filter(action="pii.unmask", new__letter=demand.pk).exists()
    with pytest.raises(PermissionDeniedError):
        services.letter_pdf(letter=demand, user=w.agency_manager)
    # the lawyer's letter: signed by the partner firm, the bank's manager only
    with pytest.raises(ApplicationError):
        services.letter_send(case=w.case, kind="lawyer", acting_user=w.manager, at=f.in_hours(11))
    with pytest.raises(PermissionDeniedError):
        services.letter_send(
            case=w.case,
            kind="lawyer",
            law_firm="上海明理律师事务所",
            acting_user=w.agency_manager,
            at=f.in_hours(11),
        )
    lawyer = services.letter_send(
        case=w.case,
        kind="lawyer",
        law_firm="上海明理律师事务所",
        lawyer="王律师",
        acting_user=w.manager,
        at=f.in_hours(11),
    )
    text = _pdf_text(services.letter_pdf(letter=lawyer, user=w.manager))
    assert "律师函" in text and "上海明理律师事务所" in text and "王律师" in text
    # the validation notice only for US loans
    with pytest.raises(ApplicationError):
        services.letter_send(case=w.case, kind="validation", acting_user=w.manager, at=f.in_hours(12))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_validation_notice_itemization(w):
    w.case.loan.jurisdiction = "US"
    w.case.loan.save(update_fields=["jurisdiction"])
    items = {
        "itemization_date": (f.today() - timedelta(days=60)).isoformat(),
        "amount_on_itemization_fen": 100_000,
        "interest_fen": 2_500,
        "fees_fen": 1_000,
        "payments_credits_fen": 3_500,
    }
    letter = services.letter_send(
        case=w.case, kind="validation", acting_user=w.manager, at=f.in_hours(10), itemization=items
    )
    assert letter.facts["itemization"]["amount_now_fen"] == 100_000
    text = " ".join(_pdf_text(services.letter_pdf(letter=letter, user=w.manager)).split())
    for line in (
        "you owed: 1,000.00",
        "in interest: + 25.00",
        "in fees: + 10.00",
        "toward the debt: - 35.00",
        "Total amount of the debt now: 1,000.00",
        "债务核实通知",
        "dispute",
    ):
        assert line in text, line
    with pytest.raises(ApplicationError):
        services.letter_send(
            case=w.case,
            kind="validation",
            acting_user=w.manager,
            at=f.in_hours(11),
            itemization={"amount_on_itemization_fen": 5},
        )


# ---------------------------------------------------------------- skip tracing


def test_alt_contact_sources_masking_and_audited_clear_read(w):
    c = services.alt_contact_add(
        case=w.case,
        kind="phone",
        value="13912345678",
        source="customer",
        acting_user=w.agency_manager,
        consent="given",
    )
    assert c.value == "13912345678"
    with connection.cursor() as cur:
        cur.execute(f"SELECT value FROM {AltContact._meta.db_table} WHERE id = %s", [c.pk])
        raw = cur.fetchone()[0]
    assert "13912345678" not in str(raw) and "5678" not in str(raw)  # encrypted at rest
    rows = selectors.alt_contacts_of_case(case=w.case)
    assert rows[0]["masked"] == "139****5678"
    with pytest.raises(ConflictError):
        services.alt_contact_add(
            case=w.case, kind="phone", value="139 1234 5678", source="visit", acting_user=w.manager
        )
    for bad in ({"kind": "fax"}, {"source": "rumour"}, {"value": "12"}, {"party": "neighbour_cat"}):
        with pytest.raises(ApplicationError):
            services.alt_contact_add(
                **(
                    {
                        "case": w.case,
                        "kind": "phone",
                        "value": "13812345678",
                        "source": "customer",
                        "acting_user": w.manager,
                    }
                    | bad
                )
            )
    with pytest.raises(PermissionDeniedError):
        services.alt_contact_reveal(contact=c, user=w.agency_manager, purpose="call the customer today")
    with pytest.raises(ApplicationError):
        services.alt_contact_reveal(contact=c, user=w.manager, purpose="why")
    assert (
        services.alt_contact_reveal(contact=c, user=w.manager, purpose="verify the new number")
        == "13912345678"
    )
    assert AuditEntry.objects.filter(action="pii.unmask", new__alt_contact=c.pk).count() == 1


def test_third_party_contact_only_to_locate_under_the_pack(w):
    employer = services.alt_contact_add(
        case=w.case,
        kind="phone",
        value="02161234567",
        party="employer",
        label="单位总机",
        source="customer",
        acting_user=w.manager,
    )
    at = f.in_hours(14)
    advice = services.alt_contact_check(contact=employer, at=at)
    assert not advice.allowed and "CN-THIRD-PARTY-LOST-CONTACT" in advice.rule_ids
    assert advice.third_party and advice.purpose == "locate" and not advice.may_discuss_debt
    # the debtor becomes unreachable: three failed calls
    for k in range(3):
        cs.contact_record(
            case=w.case,
            acting_user=w.manager,
            channel="phone",
            outcome="no_answer",
            at=at - timedelta(hours=3 - k),
        )
    advice = services.alt_contact_check(contact=employer, at=at)
    assert advice.allowed and not advice.may_discuss_debt  # CN: never discuss the debt with them
    # the debtor's own new number is checked as the debtor
    own = services.alt_contact_add(
        case=w.case, kind="phone", value="13700001111", source="visit", acting_user=w.manager
    )
    assert services.alt_contact_check(contact=own, at=at).purpose == "collect"
    services.alt_contact_verify(contact=employer, verification="invalid", acting_user=w.manager)
    assert not services.alt_contact_check(contact=employer, at=at).allowed


def test_vendor_file_import_refuses_bad_rows_and_loses_nothing(w):
    loan = w.case.loan.loan_id
    bad = (
        "loan_id,kind,value,party,label,consent,lawful_basis\n"
        f"{loan},phone,13611112222,debtor,新号,unknown,合同授权\n"
        f"{loan},pager,123,debtor,,unknown,合同授权\n"
        f"99999999,phone,13611113333,debtor,,unknown,合同授权\n"
        f"{loan},address,上海市徐汇区漕溪北路1号,debtor,,maybe,\n"
    ).encode()
    report = services.vendor_import(content=bad, name="vendor-2026-12.csv", acting_user=w.manager)
    assert not report.ok and report.added == 0 and not AltContact.objects.exists()
    got = {(e["row"], e["field"]) for e in report.errors}
    assert got == {(3, "kind"), (4, "loan_id"), (5, "consent"), (5, "lawful_basis")}
    assert all(e["file"] == "vendor-2026-12.csv" and e["reason"] for e in report.errors)
    good = (
        "loan_id,kind,value,party,label,consent,lawful_basis\n"
        f"{loan},phone,13611112222,debtor,新号,unknown,合同授权\n"
        f"{loan},phone,136-1111-2222,debtor,重复,unknown,合同授权\n"
        f"{loan},employer,上海某某科技有限公司,employer,,unknown,合同授权\n"
    ).encode()
    report = services.vendor_import(content=good, name="vendor-2026-12b.csv", acting_user=w.manager)
    assert report.ok and report.rows == 3 and report.added == 2 and len(report.duplicates) == 1
    assert report.rows == report.added + len(report.duplicates)
    assert set(AltContact.objects.values_list("source", flat=True)) == {"vendor"}
    assert services.vendor_import(content=b"\xff\xfe", name="x.csv", acting_user=w.manager).errors[0][
        "reason"
    ]
    with pytest.raises(PermissionDeniedError):
        services.vendor_import(content=good, name="v.csv", acting_user=w.agency_manager)
