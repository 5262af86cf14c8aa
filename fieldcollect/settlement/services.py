"""Commission settlement: build, issue and dispute monthly statements (audited, keyword-only)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Placement
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.settlement import selectors
from fieldcollect.settlement.errors import SettlementErrorCode
from fieldcollect.settlement.models import Statement, StatementLine


def commission_rate_for(*, placement: Placement) -> Decimal:
    """The tiered rate for the placement's bucket at placement, from the contract it was placed under
    (or, without one, the terms in force on its first day)."""
    tiers: dict[str, object] = {}
    if placement.contract is not None:
        tiers = dict(placement.contract.commission_tiers or {})
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
    statement.save(update_fields=["payments_fen", "commission_fen", "disputed_commission_fen", "line_count"])


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
        old = {"commission_fen": statement.commission_fen, "lines": statement.line_count}
        statement.lines.all().delete()
        rates: dict[int, Decimal] = {}
        lines = []
        for row in selectors.attributed_payments(agency_id=agency.pk, start=start, end=end):
            pl = row.placement
            if pl.pk not in rates:
                rates[pl.pk] = commission_rate_for(placement=pl)
            rate = rates[pl.pk]
            lines.append(StatementLine(
                statement=statement, payment=row.payment, placement=pl, case_id=pl.case_id,
                paid_on=row.payment.paid_on, amount_fen=row.payment.amount_fen, bucket=pl.bucket_at_placement,
                rate=rate, commission_fen=commission_fen(amount_fen=row.payment.amount_fen, rate=rate),
            ))
        StatementLine.objects.bulk_create(lines, batch_size=2000)
        _refresh_totals(statement)
        audit_log(actor=acting_user, action="settlement.generate", object_type="statement", object_id=statement.pk,
                  old=None if created else old,
                  new={"agency": agency.pk, "month": start.isoformat(), "lines": statement.line_count,
                       "payments_fen": statement.payments_fen, "commission_fen": statement.commission_fen})
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
        if not _may_dispute(acting_user, locked.statement):
            raise PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED)
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
