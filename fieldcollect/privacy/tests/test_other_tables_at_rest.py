"""Personal data outside the customer table is encrypted at rest too: the outbox (the SMS number and
text, also used by the early-warning reminders), complaints (contact phone, description, responses,
investigation notes), visit reports (how the debtor's identity was confirmed included) and evidence file names, feedback comments, declined appointments and plans (hardship
detail, the customer's reason for declining). The rows are written through the product's own code,
then every text column of every table is read raw and, on SQLite, the database file's bytes scanned.
The outbox sender still receives the number in clear."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from fieldcollect.complaints.models import Category, Complaint, Source
from fieldcollect.complaints.services import complaint_add_entry, complaint_create
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import FileAdapter, outbox_dispatch, outbox_enqueue
from fieldcollect.plans.models import Hardship
from fieldcollect.testing import factories as f
from fieldcollect.visits.models import Appointment, Evidence, FeedbackRequest, VisitReport

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_PHONE = "13987654321"
SECRETS = {
    "description": "邻居王小明家门口被贴了催收单",
    "entry": "调查记录：催收员李四承认拨打了公司座机",
    "visit_notes": "客户住在锦绣花园12栋",
    "situation": "客户妻子住院，月收入减半",
    "comment": "催收员态度恶劣，在小区大声喧哗",
    "decline": "下周三我在医院陪护",
    "hardship": "在杭州第一人民医院化疗",
    "file_name": "客户家门口锦绣花园12栋.jpg",
    "identity_check": "核对身份证310101199001011234",
}


def _raw_text_values() -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value of every table, read without the model layer."""
    out: list[tuple[str, str, str]] = []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for col in connection.introspection.get_table_description(cursor, table):
                cursor.execute(f"SELECT {qn(col.name)} FROM {qn(table)}")
                for (value,) in cursor.fetchall():
                    if isinstance(value, str):
                        out.append((table, col.name, value))
                    elif isinstance(value, (bytes, memoryview)):
                        out.append((table, col.name, bytes(value).decode("utf-8", "replace")))
    return out


def test_outbox_complaints_visits_plans_hold_no_plaintext(fc_home: Path, tmp_path: Path) -> None:
    agency = f.make_agency()
    f.make_contract(agency=agency)
    _, collector = f.make_collector_user(agency=agency)
    staff = f.make_user(role=Role.COMPLIANCE_OFFICER)
    case = f.make_case()
    customer = case.customer
    mobile = customer.mobile
    now = timezone.now()

    # the outbox: an SMS to the customer (the early-warning reminder and the visit links go this way)
    message = outbox_enqueue(to=mobile, body=f"{customer.name}您好，请确认拜访时间", kind="reminder", case_id=case.pk)
    # a complaint with another contact number (its acknowledgement SMS goes to that number); a fees
    # complaint does not pause contact, so the reminder above may still go
    complaint = complaint_create(source=Source.HOTLINE, customer=customer, category=Category.FEES,
                                 description=SECRETS["description"], acting_user=staff, case=case,
                                 contact_phone=OTHER_PHONE)
    complaint_add_entry(complaint=complaint, acting_user=staff, note=SECRETS["entry"])
    report = VisitReport.objects.create(case=case, collector=collector, notes=SECRETS["visit_notes"],
                                        customer_situation=SECRETS["situation"], met="debtor",
                                        identity_check=SECRETS["identity_check"])
    Evidence.objects.create(report=report, kind=Evidence.Kind.PHOTO, sha256="0" * 64, size=10,
                            original_name=SECRETS["file_name"])
    FeedbackRequest.objects.create(case=case, collector=collector, agency=agency, expires_at=now + timedelta(days=3),
                                   comment=SECRETS["comment"], rating=1, responded_at=now)
    Appointment.objects.create(case=case, collector=collector, expires_at=now + timedelta(days=1),
                               status=Appointment.Status.DECLINED, decline_reason=SECRETS["decline"])
    Hardship.objects.create(case=case, reason="illness", detail=SECRETS["hardship"], monthly_income_fen=300_000,
                            monthly_expenses_fen=250_000, recorded_at=now)

    # the application reads everything back in clear
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.contact_phone == OTHER_PHONE and complaint.description == SECRETS["description"]
    assert OutboxMessage.objects.get(pk=message.pk).to == mobile
    assert VisitReport.objects.get(pk=report.pk).identity_check == SECRETS["identity_check"]
    sms_to_complainant = OutboxMessage.objects.get(kind="complaint", case_id=case.pk)
    assert sms_to_complainant.to == OTHER_PHONE and complaint.reference in sms_to_complainant.body

    needles = {"mobile": mobile, "contact_phone": OTHER_PHONE, "name": customer.name, **SECRETS}
    found = [(t, c, kind) for t, c, v in _raw_text_values() for kind, n in needles.items() if n in v]
    assert not found, f"plaintext personal data in the database: {found}"
    stored = [v for t, c, v in _raw_text_values() if t == "visits_outboxmessage" and c == "to"]
    assert stored and all(v.startswith("fc2$") for v in stored)

    if connection.vendor == "sqlite":  # the bytes of the database file, free pages included
        copy = tmp_path / "copy.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(copy)])
        data = copy.read_bytes()
        assert len(data) > 10_000
        for kind, n in needles.items():
            assert n.encode() not in data, f"plaintext {kind} in the SQLite file"

    # the sender still gets the number and the text in clear
    sent = tmp_path / "sent"
    counts = outbox_dispatch(adapter=FileAdapter(directory=sent), now=f.in_hours())
    assert counts["sent"] == 2
    payloads = {json.loads(p.read_text())["to"] for p in sent.glob("*.json")}
    assert payloads == {mobile, OTHER_PHONE}
