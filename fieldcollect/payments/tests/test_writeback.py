"""Write-back to core banking: accepted plans become instructions in the outbox (the documented
schema), delivered to the file drop, retried after a failed delivery, acknowledged or refused with a
reason, sent again after a refusal; credit marks; the reconciliation page (bank users only)."""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import DeliveryError, FileAdapter, outbox_dispatch
from fieldcollect.payments import writeback as wb
from fieldcollect.payments.models import CoreInstruction
from fieldcollect.plans import services as plan_services
from fieldcollect.plans.tests.test_services_plans import _to_offered
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
SCHEMA = json.loads((Path(wb.__file__).parent / "core_instruction.schema.json").read_text())
TYPES = {"string": str, "integer": int, "object": dict, "array": list, "null": type(None)}


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """The subset of JSON Schema the instruction's schema uses (type, const, enum, required,
    properties, additionalProperties false, items, minimum)."""
    out: list[str] = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(
            isinstance(value, TYPES[t]) and not (t == "integer" and isinstance(value, bool)) for t in types
        ):
            out.append(f"{where}: {value!r} is not {types}")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        out.append(f"{where}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        out += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            out += [f"{where}: unexpected {k}" for k in value if k not in schema.get("properties", {})]
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                out += conforms(value[k], sub, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += conforms(item, schema["items"], f"{where}[{i}]")
    return out


def accepted_plan(w, kind: str = "term_extension"):
    p, offer = _to_offered(w, kind)
    plan_services.plan_accept(token=offer.token)
    p.refresh_from_db()
    return p


def test_an_accepted_plan_becomes_one_instruction_in_the_documented_schema(plan_world, tmp_path):
    p = accepted_plan(plan_world)
    assert wb.writeback_enqueue() == 1
    assert wb.writeback_enqueue() == 0  # once per plan
    ins = CoreInstruction.objects.get(proposal=p)
    assert ins.kind == "restructure" and ins.status == "pending" and ins.loan_id == p.case.loan_id
    assert conforms(ins.payload, SCHEMA) == []
    assert conforms({**ins.payload, "waiver_fen": -1, "extra": 1}, SCHEMA)  # the checker can fail
    assert ins.payload["instalments"] and all(
        isinstance(i["payment_fen"], int) for i in ins.payload["instalments"]
    )
    message = ins.message
    assert (message.channel, message.kind, json.loads(message.body)) == (
        "core",
        "core.restructure",
        ins.payload,
    )
    assert AuditEntry.objects.filter(action="core_instruction.enqueue", object_id=str(p.case_id)).exists()
    # the text messages' dispatch never sends an instruction
    outbox_dispatch(adapter=FileAdapter(directory=tmp_path))
    assert OutboxMessage.objects.get(pk=message.pk).status == "pending"
    assert not any(json.loads(x.read_text())["channel"] == "core" for x in tmp_path.glob("*.json"))


def test_file_drop_then_acknowledgement_and_credit_mark(plan_world, tmp_path):
    p = accepted_plan(plan_world)
    counts = wb.writeback_dispatch(adapter=wb.FileDropAdapter(directory=tmp_path))
    assert counts["queued"] == 1 and counts["sent"] == 1
    ins = CoreInstruction.objects.get(proposal=p)
    assert ins.status == "sent"
    files = list(tmp_path.glob("*/*.json"))
    assert [json.loads(x.read_text()) for x in files] == [ins.payload]
    rows = list(csv.reader(next(tmp_path.glob("instructions-*.csv")).open()))
    assert (
        rows[0] == list(wb.CSV_COLUMNS)
        and rows[1][0] == str(ins.instruction_id)
        and rows[1][2] == str(p.case.loan_id)
    )
    assert wb.credit_marks(as_of=f.today()) == []  # not acknowledged yet
    wb.core_answer(instruction_id=str(ins.instruction_id), accepted=True)
    assert (
        wb.core_answer(instruction_id=str(ins.instruction_id), accepted=True).status == "acknowledged"
    )  # again
    with pytest.raises(ConflictError):
        wb.core_answer(instruction_id=str(ins.instruction_id), accepted=False, reason="late refusal")
    marks = wb.credit_marks(as_of=f.today())
    assert [(m["loan_id"], m["mark"], m["mark_zh"]) for m in marks] == [
        (p.case.loan_id, "restructured", "重组")
    ]
    out = tmp_path / "marks.csv"
    assert wb.credit_marks_csv(marks, out) == 1
    assert list(csv.reader(out.open()))[1][:3] == [str(p.case.loan_id), "restructured", "重组"]


@dataclass
class Flaky:
    """Fails the first ``failures`` deliveries, then writes to the file drop."""

    drop: wb.FileDropAdapter
    failures: int
    name: str = "flaky"

    def send(self, message: OutboxMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("core banking unavailable")
        self.drop.send(message)


def test_a_failed_delivery_is_retried_and_a_refusal_keeps_its_reason_and_can_be_sent_again(
    plan_world, tmp_path
):
    p = accepted_plan(plan_world)
    adapter = Flaky(drop=wb.FileDropAdapter(directory=tmp_path), failures=1)
    first = wb.writeback_dispatch(adapter=adapter)
    assert first["retry"] == 1 and first["sent"] == 0
    ins = CoreInstruction.objects.get(proposal=p)
    assert ins.status == "pending" and ins.message.attempts == 1 and "unavailable" in ins.message.last_error
    second = wb.writeback_dispatch(adapter=adapter)
    assert second["sent"] == 1
    ins.refresh_from_db()
    assert ins.status == "sent" and ins.message.attempts == 2
    with pytest.raises(ApplicationError):
        wb.core_answer(
            instruction_id=str(ins.instruction_id), accepted=False, reason=" "
        )  # a refusal needs a reason
    with pytest.raises(ApplicationError):
        wb.core_answer(instruction_id=str(uuid.uuid4()), accepted=True)
    wb.core_answer(instruction_id=str(ins.instruction_id), accepted=False, reason="账户冻结 account frozen")
    ins.refresh_from_db()
    assert (ins.status, ins.reason) == ("refused", "账户冻结 account frozen")
    again = wb.instruction_resend(instruction=ins, acting_user=None)
    assert again.attempt == 2 and again.instruction_id != ins.instruction_id and again.status == "pending"
    with pytest.raises(ConflictError):
        wb.instruction_resend(instruction=ins, acting_user=None)  # once
    assert wb.writeback_enqueue() == 0  # the plan has its instruction


def test_answers_from_a_csv_file_refuse_bad_rows_with_their_reason(plan_world, tmp_path):
    p = accepted_plan(plan_world)
    wb.writeback_dispatch(adapter=wb.FileDropAdapter(directory=tmp_path))
    ins = CoreInstruction.objects.get(proposal=p)
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "instruction_id,status,reason\n"
        f"{ins.instruction_id},refused,余额不足 insufficient\n"
        f"{uuid.uuid4()},acknowledged,\n"
        "not-a-uuid,acknowledged,\n"
        f"{ins.instruction_id},maybe,\n",
        encoding="utf-8",
    )
    with translation.override("en"):
        result = wb.core_answers_from_csv(answers)
    assert result.answered == 1
    assert [(r["row"], r["reason"]) for r in result.rejected] == [
        (3, "Unknown instruction."),
        (4, "Unknown instruction."),
        (5, "status must be acknowledged or refused, got 'maybe'"),
    ]
    ins.refresh_from_db()
    assert ins.status == "refused" and ins.reason == "余额不足 insufficient"


def test_demo_core_acknowledges_refuses_and_fails_once(
    plan_world, tmp_path, django_capture_on_commit_callbacks
):
    p = accepted_plan(plan_world)
    demo = wb.DemoCoreBanking(drop=wb.FileDropAdapter(directory=tmp_path))
    with django_capture_on_commit_callbacks(execute=True):
        counts = wb.writeback_dispatch(adapter=demo)
    ins = CoreInstruction.objects.get(proposal=p)
    last = p.case.loan_id % 10
    if last == 3:
        assert counts["retry"] == 1 and ins.status == "pending"
    elif last == 7:
        assert ins.status == "refused" and "frozen" in ins.reason
    else:
        assert ins.status == "acknowledged"
    assert wb.kind_of("settlement") == "settlement" and wb.kind_of("interest_waiver") == "waiver"
    assert wb.kind_of("payment_holiday") == "restructure"


def test_reconciliation_page_for_bank_users_only(plan_world, tmp_path):
    p = accepted_plan(plan_world)
    wb.writeback_dispatch(adapter=wb.FileDropAdapter(directory=tmp_path))
    ins = CoreInstruction.objects.get(proposal=p)
    wb.core_answer(instruction_id=str(ins.instruction_id), accepted=False, reason="loan locked 贷款锁定")
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    client = logged_in(manager)
    page = client.get("/payments/reconciliation/")
    assert page.status_code == 200
    assert (
        "loan locked 贷款锁定" in page.content.decode() and str(ins.instruction_id) in page.content.decode()
    )
    resp = client.post("/payments/reconciliation/resend", {"instruction": ins.pk})
    assert resp.status_code == 302
    assert CoreInstruction.objects.filter(proposal=p, attempt=2).exists()
    assert client.post("/payments/reconciliation/resend", {"instruction": "x"}).status_code == 400
    for role, agency in ((Role.AGENCY_MANAGER, f.make_agency()), (Role.FIELD_COLLECTOR, f.make_agency())):
        other = logged_in(f.make_user(role=role, agency=agency))
        assert other.get("/payments/reconciliation/").status_code == 404
        assert other.post("/payments/reconciliation/resend", {"instruction": ins.pk}).status_code == 404
    auditor = logged_in(f.make_user(role=Role.AUDITOR))
    assert auditor.get("/payments/reconciliation/").status_code == 200
    assert auditor.post("/payments/reconciliation/resend", {"instruction": ins.pk}).status_code == 404
