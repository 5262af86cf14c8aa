"""Commission settlement: build, issue and dispute monthly statements (audited, keyword-only)."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.agencies.selectors import contract_terms, contract_version_terms
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Payment, Placement
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import Role, User
from fieldcollect.settlement import selectors
from fieldcollect.settlement.claims import StatementEntry, compare, parse_claim_file
from fieldcollect.settlement.errors import SettlementErrorCode
from fieldcollect.settlement.models import (
    Adjustment,
    ClaimReconciliation,
    Invoice,
    PaymentReversal,
    Statement,
    StatementLine,
)
from fieldcollect.settlement.penalties import PenaltyEvent, penalty_fen, penalty_sources


def commission_rate_for(*, placement: Placement, on: date | None = None) -> Decimal:
    """The tiered rate for the placement's bucket at placement, from the contract it was placed under
    as in force on ``on`` (the payment's date; the version in force that day, see
    :func:`fieldcollect.agencies.selectors.contract_version_terms`), or, without a contract, the
    agency's terms in force on the placement's first day."""
    day = on or placement.starts_on
    tiers: dict[str, object] = {}
    if placement.contract is not None:
        tiers = dict(contract_version_terms(contract=placement.contract, on=day).commission_tiers)
    else:
        terms = contract_terms(agency=placement.agency, on=placement.starts_on)
        if terms is not None:
            tiers = dict(terms.commission_tiers)
    raw = tiers.get(placement.bucket_at_placement)
    return Decimal(str(raw)) if raw not in (None, "") else Decimal(0)


def commission_fen(*, amount_fen: int, rate: Decimal) -> int:
    """Commission on one payment, rounded half up to the fen."""
    return int((Decimal(amount_fen) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _refresh_totals(statement: Statement) -> None:
    agg = statement.lines.aggregate(p=Sum("amount_fen"), c=Sum("commission_fen"))
    disputed = statement.lines.filter(disputed=True).aggregate(c=Sum("commission_fen"))["c"] or 0
    statement.payments_fen = agg["p"] or 0
    statement.commission_fen = agg["c"] or 0
    statement.disputed_commission_fen = disputed
    statement.line_count = statement.lines.count()
    adj = dict(statement.adjustments.order_by().values("kind").annotate(t=Sum("amount_fen")).values_list("kind", "t"))
    statement.penalties_fen = adj.get(Adjustment.Kind.PENALTY, 0) or 0
    statement.clawbacks_fen = adj.get(Adjustment.Kind.CLAWBACK, 0) or 0
    statement.save(update_fields=["payments_fen", "commission_fen", "disputed_commission_fen", "line_count",
                                  "penalties_fen", "clawbacks_fen"])


def _clawbacks(statement: Statement, end: date) -> list[Adjustment]:
    """Reversals dated on or before ``end`` of payments whose commission another statement of the
    agency carries (an undisputed line), not yet clawed back: the line's commission comes back."""
    charged = set(Adjustment.objects.filter(kind=Adjustment.Kind.CLAWBACK, source="payment_reversal")
                  .exclude(statement=statement).values_list("source_ref", flat=True))
    out = []
    for rev_id, payment_id, reversed_on, reason in PaymentReversal.objects.filter(
            reversed_on__lte=end).values_list("pk", "payment_id", "reversed_on", "reason"):
        if str(payment_id) in charged:
            continue
        line = (StatementLine.objects.filter(payment_id=payment_id, disputed=False,
                                             statement__agency_id=statement.agency_id)
                .exclude(statement=statement).first())
        if line is None or line.commission_fen <= 0:
            continue
        out.append(Adjustment(statement=statement, kind=Adjustment.Kind.CLAWBACK, source="payment_reversal",
                              source_ref=str(payment_id), term="commission", case_id=line.case_id,
                              occurred_on=reversed_on, amount_fen=line.commission_fen,
                              detail=f"reversal {rev_id}, statement line {line.pk}: {reason}"[:300]))
    return out


def _penalties(statement: Statement, agency: Agency, end: date) -> list[Adjustment]:
    """Events of every penalty source up to ``end`` not charged on another statement, priced by the
    contract version in force on each event's date, capped by ``monthly_cap`` (terms at ``end``)."""
    events: list[PenaltyEvent] = []
    for source in penalty_sources():
        charged = set(Adjustment.objects.filter(kind=Adjustment.Kind.PENALTY, source=source.name)
                      .exclude(statement=statement).values_list("source_ref", flat=True))
        # a month still running is charged up to today (days late are not counted ahead)
        until = min(end, timezone.localdate())
        events.extend(e for e in source.events(agency_id=agency.pk, until=until) if e.ref not in charged)
    events.sort(key=lambda e: (e.occurred_on, e.source, e.ref))
    at_end = contract_terms(agency=agency, on=end)
    cap = (at_end.penalty_terms.get("monthly_cap") if at_end is not None else None) or None
    out: list[Adjustment] = []
    total = 0
    terms_on: dict[date, dict[str, Any]] = {}
    for e in events:
        if e.occurred_on not in terms_on:
            t = contract_terms(agency=agency, on=e.occurred_on)
            terms_on[e.occurred_on] = t.penalty_terms if t is not None else {}
        amount = penalty_fen(terms_on[e.occurred_on], e)
        if amount <= 0:
            continue
        detail = e.detail
        if cap is not None and total + amount > int(cap):
            amount = max(0, int(cap) - total)
            detail = f"{detail} (monthly cap)"
        total += amount
        out.append(Adjustment(statement=statement, kind=Adjustment.Kind.PENALTY, source=e.source, source_ref=e.ref,
                              term=e.kind, case_id=e.case_id, occurred_on=e.occurred_on, amount_fen=amount,
                              detail=detail[:300]))
    return out


def statement_generate(*, agency: Agency, month: date, acting_user: User | None) -> Statement:
    """Build (or rebuild, while a draft) the agency's statement for the month of ``month``."""
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    start, end = selectors.month_bounds(month)
    with transaction.atomic():
        statement, created = Statement.objects.select_for_update().get_or_create(
            agency=agency, month=start, defaults={"created_by": acting_user})
        if statement.status != Statement.Status.DRAFT:
            raise ApplicationError(_("An issued statement cannot be rebuilt."), code=SettlementErrorCode.ISSUED)
        old = {"commission_fen": statement.commission_fen, "lines": statement.line_count,
               "penalties_fen": statement.penalties_fen, "clawbacks_fen": statement.clawbacks_fen}
        statement.lines.all().delete()
        statement.adjustments.all().delete()
        rates: dict[tuple[int, date], Decimal] = {}
        lines = []
        reversed_ids = set(PaymentReversal.objects.filter(reversed_on__lte=end).values_list("payment_id", flat=True))
        for row in selectors.attributed_payments(agency_id=agency.pk, start=start, end=end):
            if row.payment.pk in reversed_ids:
                continue  # reversed within the month it was paid in: it never earned commission
            pl = row.placement
            key = (pl.pk, row.payment.paid_on)
            if key not in rates:
                rates[key] = commission_rate_for(placement=pl, on=row.payment.paid_on)
            rate = rates[key]
            lines.append(StatementLine(
                statement=statement, payment=row.payment, placement=pl, case_id=pl.case_id,
                paid_on=row.payment.paid_on, amount_fen=row.payment.amount_fen, bucket=pl.bucket_at_placement,
                rate=rate, commission_fen=commission_fen(amount_fen=row.payment.amount_fen, rate=rate),
            ))
        StatementLine.objects.bulk_create(lines, batch_size=2000)
        Adjustment.objects.bulk_create(_clawbacks(statement, end) + _penalties(statement, agency, end))
        _refresh_totals(statement)
        audit_log(actor=acting_user, action="settlement.generate", object_type="statement", object_id=statement.pk,
                  old=None if created else old,
                  new={"agency": agency.pk, "month": start.isoformat(), "lines": statement.line_count,
                       "payments_fen": statement.payments_fen, "commission_fen": statement.commission_fen,
                       "penalties_fen": statement.penalties_fen, "clawbacks_fen": statement.clawbacks_fen,
                       "payable_fen": statement.payable_fen})
    return statement


def statement_issue(*, statement: Statement, acting_user: User | None) -> Statement:
    """Freeze the statement (its lines can still be disputed)."""
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != Statement.Status.DRAFT:
            raise ApplicationError(_("The statement is already issued."), code=SettlementErrorCode.ISSUED)
        locked.status = Statement.Status.ISSUED
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "issued_at"])
        audit_log(actor=acting_user, action="settlement.issue", object_type="statement", object_id=locked.pk,
                  old={"status": Statement.Status.DRAFT}, new={"status": Statement.Status.ISSUED,
                                                             "commission_fen": locked.commission_fen})
    statement.refresh_from_db()
    return statement


def _may_dispute(user: User, statement: Statement) -> bool:
    if user.is_superuser or user.role == Role.COLLECTIONS_MANAGER:
        return True
    return user.role == Role.AGENCY_MANAGER and user.agency_id == statement.agency_id


def line_dispute(*, line: StatementLine, reason: str, acting_user: User) -> StatementLine:
    """Mark a line disputed (the agency's manager or the bank's collections manager), with a reason."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason for the dispute."), code=SettlementErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        locked = StatementLine.objects.select_for_update().select_related("statement").get(pk=line.pk)
        require_role(_may_dispute(acting_user, locked.statement))
        old = {"disputed": locked.disputed, "dispute_reason": locked.dispute_reason}
        locked.disputed = True
        locked.dispute_reason = reason[:300]
        locked.disputed_by = acting_user
        locked.save(update_fields=["disputed", "dispute_reason", "disputed_by"])
        _refresh_totals(locked.statement)
        audit_log(actor=acting_user, action="settlement.dispute", object_type="statement_line", object_id=locked.pk,
                  old=old, new={"disputed": True, "dispute_reason": locked.dispute_reason})
    line.refresh_from_db()
    return line


def line_resolve(*, line: StatementLine, acting_user: User, note: str = "") -> StatementLine:
    """Close a dispute (the bank's collections manager): the line counts again."""
    require_capability(acting_user, "case.place")
    with transaction.atomic():
        locked = StatementLine.objects.select_for_update().select_related("statement").get(pk=line.pk)
        old = {"disputed": locked.disputed, "dispute_reason": locked.dispute_reason}
        locked.disputed = False
        locked.dispute_reason = ""
        locked.save(update_fields=["disputed", "dispute_reason"])
        _refresh_totals(locked.statement)
        audit_log(actor=acting_user, action="settlement.resolve", object_type="statement_line", object_id=locked.pk,
                  old=old, new={"disputed": False, "note": note[:300]})
    line.refresh_from_db()
    return line


# ---------------------------------------------------------------- reversals (clawbacks)

def payment_reverse(*, payment: Payment, reversed_on: date, reason: str, acting_user: User | None) -> PaymentReversal:
    """Record that ``payment`` was reversed on ``reversed_on``: it earns no commission on a statement
    still to be built for its month, and the commission an earlier statement carried on it is clawed
    back on the agency's next statement (see :func:`statement_generate`)."""
    if acting_user is not None:
        require_capability(acting_user, "payment.record")
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason for the reversal."), code=SettlementErrorCode.REASON_REQUIRED)
    if reversed_on < payment.paid_on:
        raise ApplicationError(_("A payment cannot be reversed before it was paid."),
                               code=SettlementErrorCode.REVERSAL_INVALID,
                               extra={"paid_on": payment.paid_on.isoformat()})
    with transaction.atomic():
        if PaymentReversal.objects.select_for_update().filter(payment=payment).exists():
            raise ConflictError(_("The payment is already reversed."), code=SettlementErrorCode.REVERSAL_INVALID)
        rev = PaymentReversal.objects.create(payment=payment, reversed_on=reversed_on, reason=reason[:300],
                                             recorded_by=acting_user)
        line = StatementLine.objects.filter(payment=payment).values_list("statement_id", "commission_fen").first()
        audit_log(actor=acting_user, action="payment.reverse", object_type="case", object_id=payment.case_id,
                  new={"payment": payment.pk, "amount_fen": payment.amount_fen, "reversed_on": reversed_on.isoformat(),
                       "reason": rev.reason, "statement": line[0] if line else None,
                       "commission_fen": line[1] if line else 0})
    return rev


# ---------------------------------------------------------------- invoices

def _may_issue_invoice(user: User, statement: Statement) -> bool:
    if user.is_superuser or user.role == Role.COLLECTIONS_MANAGER:
        return True
    return user.role == Role.AGENCY_MANAGER and user.agency_id == statement.agency_id


INVOICE_TRANSITIONS: dict[tuple[str, str], str] = {
    (Invoice.Status.ISSUED, "dispute"): Invoice.Status.DISPUTED,
    (Invoice.Status.DISPUTED, "reissue"): Invoice.Status.ISSUED,
    (Invoice.Status.ISSUED, "pay"): Invoice.Status.PAID,
}


def invoice_issue(*, statement: Statement, acting_user: User, issued_on: date | None = None) -> Invoice:
    """The agency's invoice for an issued statement, for its payable amount (the agency's manager, or
    the bank's collections manager on its behalf)."""
    require_role(_may_issue_invoice(acting_user, statement))
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != Statement.Status.ISSUED:
            raise ApplicationError(_("Issue the statement before invoicing it."), code=SettlementErrorCode.NOT_ISSUED)
        if Invoice.objects.filter(statement=locked).exists():
            raise ConflictError(_("The statement is already invoiced."), code=SettlementErrorCode.INVOICE_STATE)
        inv = Invoice.objects.create(statement=locked, number=f"INV-{locked.agency_id}-{locked.month:%Y%m}",
                                     amount_fen=locked.payable_fen, issued_on=issued_on or timezone.localdate(),
                                     issued_by=acting_user)
        audit_log(actor=acting_user, action="invoice.issue", object_type="invoice", object_id=inv.pk,
                  new={"statement": locked.pk, "number": inv.number, "amount_fen": inv.amount_fen,
                       "status": inv.status})
    return inv


def invoice_transition(*, invoice: Invoice, action: str, acting_user: User, reason: str = "",
                       paid_on: date | None = None, payment_reference: str = "") -> Invoice:
    """Move an invoice: ``dispute`` (the bank, with a reason), ``reissue`` (the agency or the bank,
    after the dispute is settled: the amount is the statement's payable amount again) or ``pay`` (the
    bank, with the date paid). Audited."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().select_related("statement").get(pk=invoice.pk)
        target = INVOICE_TRANSITIONS.get((locked.status, action))
        if target is None:
            raise ConflictError(_("An invoice that is %(status)s cannot be moved that way.")
                                % {"status": locked.get_status_display()}, code=SettlementErrorCode.INVOICE_STATE,
                                extra={"status": locked.status, "action": action})
        bank = acting_user.is_superuser or acting_user.role == Role.COLLECTIONS_MANAGER
        allowed = bank if action in ("dispute", "pay") else _may_issue_invoice(acting_user, locked.statement)
        require_role(allowed)
        old = {"status": locked.status, "amount_fen": locked.amount_fen, "dispute_reason": locked.dispute_reason}
        fields = ["status", "updated_at"]
        if action == "dispute":
            if not reason.strip():
                raise ApplicationError(_("Give a reason for the dispute."), code=SettlementErrorCode.REASON_REQUIRED)
            locked.dispute_reason = reason.strip()[:300]
            fields.append("dispute_reason")
        elif action == "reissue":
            locked.statement.refresh_from_db()
            locked.amount_fen = locked.statement.payable_fen
            locked.dispute_reason = ""
            fields += ["amount_fen", "dispute_reason"]
        else:
            locked.paid_on = paid_on or timezone.localdate()
            locked.payment_reference = payment_reference.strip()[:64]
            fields += ["paid_on", "payment_reference"]
        locked.status = target
        locked.save(update_fields=fields)
        audit_log(actor=acting_user, action=f"invoice.{action}", object_type="invoice", object_id=locked.pk,
                  old=old, new={"status": locked.status, "amount_fen": locked.amount_fen,
                                "dispute_reason": locked.dispute_reason,
                                "paid_on": locked.paid_on.isoformat() if locked.paid_on else None,
                                "payment_reference": locked.payment_reference})
    invoice.refresh_from_db()
    return invoice


# ---------------------------------------------------------------- the agency's claim file

def claim_file_reconcile(*, statement: Statement, file_name: str, data: bytes,
                         acting_user: User) -> ClaimReconciliation:
    """Compare the agency's claim file with ``statement`` line by line and keep the result (audited).
    Rows that cannot be read are listed with file, row, field and reason; the others are compared.
    The agency's manager (its own statements) or the bank's collections manager."""
    require_role(_may_dispute(acting_user, statement))
    name = (file_name or "claim.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]
    rows, errors = parse_claim_file(name, data)
    if not rows and errors and errors[0].row <= 1:
        # the file as a whole cannot be read: refused, nothing stored
        raise ApplicationError(str(errors[0]), code=SettlementErrorCode.CLAIM_FILE_INVALID,
                               extra={"errors": [e.as_dict() for e in errors]})
    entries = [StatementEntry(payment_id=p, case_id=c, paid_on=d, amount_fen=a, commission_fen=k, disputed=x)
               for p, c, d, a, k, x in statement.lines.values_list(
                   "payment_id", "case_id", "paid_on", "amount_fen", "commission_fen", "disputed")]
    matched, diffs = compare(rows, entries)
    with transaction.atomic():
        rec = ClaimReconciliation.objects.create(
            statement=statement, file_name=name, sha256=hashlib.sha256(data).hexdigest(), rows=len(rows) + len(errors),
            matched=matched, differences=[d.as_dict() for d in diffs], errors=[e.as_dict() for e in errors],
            claimed_fen=sum(r.commission_fen for r in rows),
            statement_fen=sum(e.commission_fen for e in entries if not e.disputed), uploaded_by=acting_user)
        audit_log(actor=acting_user, action="settlement.claim_reconcile", object_type="statement",
                  object_id=statement.pk,
                  new={"reconciliation": rec.pk, "file": name, "sha256": rec.sha256, "rows": rec.rows,
                       "matched": matched, "differences": len(diffs), "errors": len(errors),
                       "claimed_fen": rec.claimed_fen, "statement_fen": rec.statement_fen})
    return rec
