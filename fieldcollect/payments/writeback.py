"""Write-back to core banking: accepted plans become instructions, delivered through the outbox.

1. :func:`writeback_enqueue` turns each accepted plan without an instruction into one
   :class:`CoreInstruction` (restructure, waiver or settlement; the JSON of ``docs/core-instructions.md``)
   and an outbox message of channel ``core`` in the same transaction;
2. :func:`writeback_dispatch` delivers them with the outbox's own dispatch (attempts, retries, failure
   after ``outbox.services.MAX_ATTEMPTS``) through a core-banking adapter: :class:`FileDropAdapter` (one
   JSON file per instruction and a line in the day's CSV file, the file drop a core batch job reads)
   or :class:`DemoCoreBanking` (answers at once, refusing some, failing some deliveries once);
3. the core answers each instruction, acknowledged or refused with a reason (:func:`core_answer`; from
   a CSV file of answers with :func:`core_answers_from_csv`); a refused instruction may be sent again
   after the cause is fixed (:func:`instruction_resend`);
4. the loans restructured or settled are marked for credit reporting (征信) by :func:`credit_marks`.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.cells import safe_csv_writer
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.home import home_dir
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import DeliveryError, outbox_dispatch
from fieldcollect.payments.errors import PaymentErrorCode
from fieldcollect.payments.models import CoreInstruction
from fieldcollect.plans.models import PlanInstalment, PlanStatus, ProposalState, RestructuringProposal

SCHEMA = "fieldcollect.core-instruction/1"
CHANNEL = "core"
CSV_COLUMNS = (
    "instruction_id",
    "kind",
    "loan_id",
    "plan_id",
    "option",
    "effective_on",
    "waiver_fen",
    "new_principal_fen",
    "total_cost_fen",
    "term_months",
    "annual_rate",
    "instalments",
)
WAIVER_OPTIONS = frozenset({"penalty_waiver", "interest_waiver"})


def kind_of(option: str) -> str:
    if option == "settlement":
        return CoreInstruction.Kind.SETTLEMENT
    if option in WAIVER_OPTIONS:
        return CoreInstruction.Kind.WAIVER
    return CoreInstruction.Kind.RESTRUCTURE


def instruction_payload(p: RestructuringProposal, *, instruction_id: uuid.UUID) -> dict[str, Any]:
    """The instruction's JSON (``docs/core-instructions.md``): amounts in integer fen, dates ISO."""
    accepted = timezone.localtime(p.accepted_at, bank_time_zone()) if p.accepted_at else None
    rows = PlanInstalment.objects.filter(proposal=p).order_by("seq")
    return {
        "schema": SCHEMA,
        "instruction_id": str(instruction_id),
        "kind": kind_of(p.kind),
        "loan_id": p.case.loan_id,
        "case_id": p.case_id,
        "plan_id": p.pk,
        "option": p.kind,
        "accepted_at": accepted.isoformat() if accepted else None,
        "effective_on": (accepted.date() if accepted else p.as_of).isoformat(),
        "waiver_fen": int(p.waiver_fen),
        "new_principal_fen": int(p.new_principal_fen),
        "total_cost_fen": int(p.total_cost_fen),
        "term_months": int(p.term_months),
        "annual_rate": str(p.annual_rate),
        "instalments": [
            {
                "seq": r.seq,
                "due_date": r.due_date.isoformat(),
                "payment_fen": int(r.payment_fen),
                "principal_fen": int(r.principal_fen),
                "interest_fen": int(r.interest_fen),
            }
            for r in rows
        ],
    }


def _enqueue(p: RestructuringProposal, *, attempt: int, acting_user: User | None) -> CoreInstruction:
    instruction_id = uuid.uuid4()
    payload = instruction_payload(p, instruction_id=instruction_id)
    message = OutboxMessage.objects.create(
        channel=CHANNEL,
        to="core-banking",
        kind=f"core.{payload['kind']}",
        body=json.dumps(payload, ensure_ascii=False),
        case_id=p.case_id,
    )
    ins = CoreInstruction.objects.create(
        instruction_id=instruction_id,
        kind=payload["kind"],
        proposal=p,
        case_id=p.case_id,
        loan_id=p.case.loan_id,
        message=message,
        payload=payload,
        attempt=attempt,
    )
    audit_log(
        actor=acting_user,
        action="core_instruction.enqueue",
        object_type="case",
        object_id=p.case_id,
        new={"instruction": str(instruction_id), "kind": payload["kind"], "plan": p.pk, "attempt": attempt},
    )
    return ins


def writeback_enqueue(*, acting_user: User | None = None) -> int:
    """An instruction for each accepted plan that has none yet; returns how many were queued."""
    done = set(CoreInstruction.objects.values_list("proposal_id", flat=True).distinct())
    n = 0
    for p in (
        RestructuringProposal.objects.filter(state=ProposalState.ACCEPTED)
        .exclude(pk__in=done)
        .select_related("case")
        .order_by("pk")
    ):
        with transaction.atomic():
            if CoreInstruction.objects.filter(proposal=p).exists():
                continue
            _enqueue(p, attempt=1, acting_user=acting_user)
            n += 1
    return n


@dataclass
class FileDropAdapter:
    """The file drop: ``<dir>/<YYYYMMDD>/<instruction_id>.json`` and a line in
    ``<dir>/instructions-<YYYYMMDD>.csv`` (default ``$FIELDCOLLECT_HOME/core/outbox``)."""

    directory: Path | None = None
    name: str = "core_file_drop"

    def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.body)
        folder = self.directory or home_dir() / "core" / "outbox"
        day = timezone.localdate(timezone.now(), bank_time_zone()).strftime("%Y%m%d")
        (folder / day).mkdir(parents=True, exist_ok=True)
        path = folder / day / f"{payload['instruction_id']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        sheet = folder / f"instructions-{day}.csv"
        new = not sheet.exists()
        with sheet.open("a", newline="", encoding="utf-8") as fh:
            writer = safe_csv_writer(fh)
            if new:
                writer.writerow(CSV_COLUMNS)
            writer.writerow(
                [len(payload["instalments"]) if c == "instalments" else payload[c] for c in CSV_COLUMNS]
            )


@dataclass
class DemoCoreBanking:
    """A simulated core: the delivery of an instruction of a loan ending in 3 fails once (an outage, then
    retried); an instruction of a loan ending in 7 is refused ("account frozen"); the others are
    acknowledged at once. Keeps a copy in the file drop."""

    drop: FileDropAdapter = field(default_factory=FileDropAdapter)
    name: str = "core_demo"

    def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.body)
        if payload["loan_id"] % 10 == 3 and message.attempts <= 1:
            raise DeliveryError("core banking unavailable (simulated outage)")
        self.drop.send(message)
        transaction.on_commit(lambda: _demo_answer(payload))


def _demo_answer(payload: dict[str, Any]) -> None:
    refused = payload["loan_id"] % 10 == 7
    core_answer(
        instruction_id=payload["instruction_id"],
        accepted=not refused,
        reason="账户冻结，无法变更 / account frozen, no change possible" if refused else "",
    )


def writeback_dispatch(
    *, adapter: Any = None, limit: int = 500, now: datetime | None = None
) -> dict[str, int]:
    """Queue what is new, deliver the pending instructions through the outbox's dispatch, and bring
    the instructions' status up to date with their messages."""
    counts = {"queued": writeback_enqueue()}
    counts |= outbox_dispatch(adapter=adapter or FileDropAdapter(), limit=limit, now=now, channel=CHANNEL)
    sync = {
        OutboxMessage.Status.SENT: CoreInstruction.Status.SENT,
        OutboxMessage.Status.FAILED: CoreInstruction.Status.FAILED,
    }
    for message_status, status in sync.items():
        CoreInstruction.objects.filter(
            status=CoreInstruction.Status.PENDING, message__status=message_status
        ).update(status=status)
    return counts


def core_answer(
    *, instruction_id: str, accepted: bool, reason: str = "", at: datetime | None = None
) -> CoreInstruction:
    """The core's answer to an instruction: acknowledged, or refused with its reason. The same answer
    again changes nothing; another answer to an answered instruction is a conflict."""
    try:
        key = uuid.UUID(str(instruction_id))
    except ValueError:
        raise NotFoundError(_("Unknown instruction."), code=PaymentErrorCode.CORE_INSTRUCTION_NOT_FOUND) from None
    status = CoreInstruction.Status.ACKNOWLEDGED if accepted else CoreInstruction.Status.REFUSED
    if not accepted and not reason.strip():
        raise ApplicationError(_("A refusal needs its reason."), code=PaymentErrorCode.CORE_INSTRUCTION_REASON_MISSING)
    with transaction.atomic():
        ins = CoreInstruction.objects.select_for_update().filter(instruction_id=key).first()
        if ins is None:
            raise NotFoundError(_("Unknown instruction."), code=PaymentErrorCode.CORE_INSTRUCTION_NOT_FOUND)
        if ins.status in (CoreInstruction.Status.ACKNOWLEDGED, CoreInstruction.Status.REFUSED):
            if ins.status == status:
                return ins
            raise ConflictError(
                _("The instruction was answered already."),
                code=PaymentErrorCode.CORE_INSTRUCTION_ANSWERED,
                extra={"status": ins.status},
            )
        ins.status = status
        ins.reason = reason.strip()[:300]
        ins.answered_at = at or timezone.now()
        ins.save(update_fields=["status", "reason", "answered_at"])
        audit_log(
            actor=None,
            actor_label="core-banking",
            action=f"core_instruction.{status}",
            object_type="case",
            object_id=ins.case_id,
            new={"instruction": str(ins.instruction_id), "reason": ins.reason},
        )
    return ins


@dataclass
class AnswersResult:
    answered: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def core_answers_from_csv(path: Path) -> AnswersResult:
    """Read the core's answers: a CSV with ``instruction_id,status,reason`` (status ``acknowledged`` or
    ``refused``); a bad row is refused with its row number and reason, the others applied."""
    result = AnswersResult()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row_no, row in enumerate(csv.DictReader(fh), start=2):
            status = (row.get("status") or "").strip()
            if status not in ("acknowledged", "refused"):
                result.rejected.append(
                    {"row": row_no, "reason": f"status must be acknowledged or refused, got {status!r}"}
                )
                continue
            try:
                core_answer(
                    instruction_id=(row.get("instruction_id") or "").strip(),
                    accepted=status == "acknowledged",
                    reason=row.get("reason") or "",
                )
            except ApplicationError as exc:
                result.rejected.append({"row": row_no, "reason": exc.message})
                continue
            result.answered += 1
    return result


def instruction_resend(*, instruction: CoreInstruction, acting_user: User | None) -> CoreInstruction:
    """Send a refused or undeliverable instruction again (after its cause was fixed): a new instruction
    (new id, next attempt) of the same plan."""
    if instruction.status not in (CoreInstruction.Status.REFUSED, CoreInstruction.Status.FAILED):
        raise ConflictError(
            _("Only a refused or failed instruction is sent again."),
            code=PaymentErrorCode.CORE_INSTRUCTION_NOT_REFUSED,
            extra={"status": instruction.status},
        )
    with transaction.atomic():
        p = RestructuringProposal.objects.select_related("case").get(pk=instruction.proposal_id)
        last = (
            CoreInstruction.objects.filter(proposal=p)
            .order_by("-attempt")
            .values_list("attempt", flat=True)[0]
        )
        if last != instruction.attempt:
            raise ConflictError(_("This instruction was sent again already."), code=PaymentErrorCode.CORE_INSTRUCTION_RESENT)
        return _enqueue(p, attempt=last + 1, acting_user=acting_user)


MARKS = {
    CoreInstruction.Kind.RESTRUCTURE: ("restructured", "重组"),
    CoreInstruction.Kind.WAIVER: ("restructured", "重组"),
    CoreInstruction.Kind.SETTLEMENT: ("settled", "协商结清"),
}
MARK_COLUMNS = ("loan_id", "mark", "mark_zh", "effective_on", "plan_id", "instruction_id")


def credit_marks(*, as_of: date) -> list[dict[str, Any]]:
    """The credit-reporting (征信) marks of loans whose write-back the core acknowledged: ``restructured``
    (重组) for a restructuring or a waiver, ``settled`` (协商结清) once a settlement plan is completed,
    effective from the plan's acceptance, up to ``as_of``."""
    out = []
    for ins in (
        CoreInstruction.objects.filter(status=CoreInstruction.Status.ACKNOWLEDGED)
        .select_related("proposal")
        .order_by("loan_id", "proposal_id")
    ):
        p = ins.proposal
        if ins.kind == CoreInstruction.Kind.SETTLEMENT and p.plan_status != PlanStatus.COMPLETED:
            continue
        effective = date.fromisoformat(ins.payload["effective_on"])
        if effective > as_of:
            continue
        mark, mark_zh = MARKS[CoreInstruction.Kind(ins.kind)]
        out.append(
            {
                "loan_id": ins.loan_id,
                "mark": mark,
                "mark_zh": mark_zh,
                "effective_on": effective.isoformat(),
                "plan_id": p.pk,
                "instruction_id": str(ins.instruction_id),
            }
        )
    return out


def credit_marks_csv(rows: Iterable[dict[str, Any]], out: Path) -> int:
    n = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = safe_csv_writer(fh)
        writer.writerow(MARK_COLUMNS)
        for r in rows:
            writer.writerow([r[c] for c in MARK_COLUMNS])
            n += 1
    return n
