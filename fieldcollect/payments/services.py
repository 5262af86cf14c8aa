"""Same-day payments: post payment lines (a signed API request or a file), apply them at once.

One path for both entries, :func:`payments_post`, in batches:

1. each line is checked (:mod:`fieldcollect.payments.lines`); a bad line is refused with its line
   number and reason, the good ones go on;
2. idempotency: the channel's reference names one payment (a unique constraint on channel and
   reference); a line already recorded (in an earlier post or earlier in the same file) with the same
   loan, amount and time is a *duplicate* and changes nothing, with something else it is refused;
3. the batch is written in one transaction: one :class:`PaymentEvent` per line, and for a loan with
   an open case one ``cases.Payment`` (reference ``<channel>:<reference>``) attributed to the agency's
   placement covering its date by the one rule of :mod:`fieldcollect.settlement.attribution` (the
   commission), and one audit row per payment;
4. the effects, at once (:func:`payments_take_effect`): promises kept and plan instalments paid by the
   plans' own watch (:func:`fieldcollect.plans.services.promises_watch` / ``plans_watch``, limited to
   the cases paid), and when the payments since the last nightly cycle cover the case's overdue
   amount, the agency's visits are cancelled and the case's stops leave the route plans
   (:func:`fieldcollect.visits.fieldwork.field_work_end`, reason ``paid``).

The nightly reconciliation with the export is :mod:`fieldcollect.payments.reconcile`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import Case, Payment
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.models import User
from fieldcollect.payments.channels import active_channels
from fieldcollect.payments.lines import LineError, PaymentLine, parse_line, parse_object
from fieldcollect.payments.models import PaymentEvent
from fieldcollect.plans.services import plans_watch, promises_watch
from fieldcollect.portfolio.models import Loan
from fieldcollect.settlement.attribution import attribute
from fieldcollect.settlement.selectors import covers_for
from fieldcollect.visits.fieldwork import field_work_end
from fieldcollect.visits.models import Appointment, RouteStop

BATCH = 5_000
AUDIT_ACTION = "payment.same_day"


@dataclass
class PostResult:
    applied: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The answer of the API and of ``payments post --json``."""
        return {"applied": self.applied, "duplicates": self.duplicates, "rejected": self.rejected}

    def add_effects(self, more: dict[str, int]) -> None:
        for k, v in more.items():
            self.effects[k] = self.effects.get(k, 0) + v


def payment_reference(channel: str, reference: str) -> str:
    """The reference of the case payment of a channel's payment (unique per loan)."""
    return f"{channel}:{reference}"


def _same(event: tuple[int, int, datetime], line: PaymentLine) -> bool:
    loan_id, amount, paid_at = event
    return (loan_id, amount) == (line.loan_id, line.amount_fen) and paid_at == line.paid_at


def payments_post(*, lines: Iterable[tuple[int, Any]], acting_user: User | None = None,
                  actor_label: str = "", channel: str | None = None, now: datetime | None = None,
                  batch: int = BATCH) -> PostResult:
    """Post payment lines ``(line number, raw line)``; a raw line is the text of one JSON line (a file)
    or the decoded object (the API). ``channel``: the channel that signed the request; its lines must
    name it. Returns the counts and the refused lines with their reasons."""
    now = now or timezone.now()
    zone = bank_time_zone()
    allowed = {channel} if channel is not None else active_channels()
    result = PostResult()
    seen: dict[tuple[str, str], tuple[int, tuple[int, int, datetime]]] = {}
    pending: list[tuple[int, PaymentLine]] = []
    for number, raw in lines:
        try:
            line = (parse_line(raw, bank_zone=zone, now=now) if isinstance(raw, str | bytes)
                    else parse_object(raw, bank_zone=zone, now=now))
        except LineError as exc:
            result.rejected.append({"line": number, "reason": str(exc)})
            continue
        if line.channel not in allowed:
            reason = (f"channel {line.channel!r} is not the channel that signed the request" if channel is not None
                      else f"unknown channel {line.channel!r}")
            result.rejected.append({"line": number, "reason": reason})
            continue
        key = (line.channel, line.reference)
        if key in seen:
            first, event = seen[key]
            if _same(event, line):
                result.duplicates += 1
            else:
                result.rejected.append({"line": number, "reason": f"reference {line.reference!r} of channel "
                                        f"{line.channel!r} is used by line {first} for another payment"})
            continue
        seen[key] = (number, (line.loan_id, line.amount_fen, line.paid_at))
        pending.append((number, line))
        if len(pending) >= batch:
            _post_batch(pending, result=result, acting_user=acting_user, actor_label=actor_label, now=now)
            pending = []
    if pending:
        _post_batch(pending, result=result, acting_user=acting_user, actor_label=actor_label, now=now)
    return result


def _post_batch(pending: list[tuple[int, PaymentLine]], *, result: PostResult, acting_user: User | None,
                actor_label: str, now: datetime) -> None:
    try:
        applied, case_ids = _write_batch(pending, result=result, acting_user=acting_user, actor_label=actor_label,
                                         now=now)
    except IntegrityError:
        # another post wrote one of these references meanwhile: line by line, each seeing the others
        for item in pending:
            _post_batch([item], result=result, acting_user=acting_user, actor_label=actor_label, now=now)
        return
    result.applied += applied
    if case_ids:
        result.add_effects(payments_take_effect(case_ids=case_ids, now=now, acting_user=acting_user))


def _chunks(values: list[Any], size: int = 5_000) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _write_batch(pending: list[tuple[int, PaymentLine]], *, result: PostResult, acting_user: User | None,
                 actor_label: str, now: datetime) -> tuple[int, set[int]]:
    """Write one batch in one transaction; returns how many were applied and the cases paid. The
    refused and duplicate lines are counted in ``result`` only when the transaction commits."""
    rejected: list[dict[str, Any]] = []
    duplicates = 0
    loan_ids = list({line.loan_id for _n, line in pending})
    known = set(Loan.objects.filter(pk__in=loan_ids).values_list("pk", flat=True))
    existing: dict[tuple[str, str], tuple[int, int, datetime]] = {}
    for channel in {line.channel for _n, line in pending}:
        refs = [line.reference for _n, line in pending if line.channel == channel]
        for ref, loan_id, amount, paid_at in PaymentEvent.objects.filter(channel=channel, reference__in=refs) \
                .values_list("reference", "loan_id", "amount_fen", "paid_at"):
            existing[(channel, ref)] = (loan_id, amount, paid_at)
    todo: list[tuple[int, PaymentLine]] = []
    for number, line in pending:
        before = existing.get((line.channel, line.reference))
        if before is not None:
            if _same(before, line):
                duplicates += 1
            else:
                rejected.append({"line": number, "reason": f"reference {line.reference!r} of channel "
                                 f"{line.channel!r} is already recorded for another payment"})
        elif line.loan_id not in known:
            rejected.append({"line": number, "reason": f"unknown loan {line.loan_id}"})
        else:
            todo.append((number, line))
    case_of: dict[int, tuple[int, int | None]] = {
        loan_id: (case_id, agency_id) for loan_id, case_id, agency_id in
        Case.objects.filter(loan_id__in=[line.loan_id for _n, line in todo], closed_on__isnull=True)
        .values_list("loan_id", "pk", "agency_id")}
    with_case = [(i, line) for i, (_n, line) in enumerate(todo) if line.loan_id in case_of]
    covers = covers_for(case_ids=[case_of[line.loan_id][0] for _i, line in with_case])
    placement_of = {i: c.placement_id for i, c in attribute(
        payments=[(i, case_of[line.loan_id][0], line.paid_on) for i, line in with_case], covers=covers).items()}
    refs = [payment_reference(line.channel, line.reference) for _i, line in with_case]
    already: dict[tuple[int, str], int] = {}
    for chunk in _chunks(refs):
        for pk, loan_id, ref in Payment.objects.filter(reference__in=chunk).values_list("pk", "loan_id", "reference"):
            already[(loan_id, ref)] = pk
    label = actor_label or (acting_user.get_username() if acting_user is not None else "system")
    with transaction.atomic():
        new_payments = {i: Payment(loan_id=line.loan_id, case_id=case_of[line.loan_id][0],
                                   placement_id=placement_of.get(i), paid_on=line.paid_on, amount_fen=line.amount_fen,
                                   channel=line.channel, reference=payment_reference(line.channel, line.reference))
                        for i, line in with_case
                        if (line.loan_id, payment_reference(line.channel, line.reference)) not in already}
        Payment.objects.bulk_create(list(new_payments.values()), batch_size=2_000)
        payment_of = {i: p.pk for i, p in new_payments.items()}
        for i, line in with_case:
            payment_of.setdefault(i, already.get((line.loan_id, payment_reference(line.channel, line.reference)), 0))
        events = [PaymentEvent(
            channel=line.channel, reference=line.reference, loan_id=line.loan_id,
            case_id=case_of[line.loan_id][0] if line.loan_id in case_of else None,
            payment_id=payment_of.get(i) or None, amount_fen=line.amount_fen, paid_at=line.paid_at,
            paid_on=line.paid_on, received_at=now,
            status=PaymentEvent.Status.APPLIED if line.loan_id in case_of else PaymentEvent.Status.NO_CASE,
        ) for i, (_n, line) in enumerate(todo)]
        PaymentEvent.objects.bulk_create(events, batch_size=2_000)
        AuditEntry.objects.bulk_create([AuditEntry(
            actor=acting_user, actor_label=label, action=AUDIT_ACTION,
            object_type="case" if e.case_id is not None else "loan",
            object_id=str(e.case_id if e.case_id is not None else e.loan_id),
            new={"event": e.pk, "payment": e.payment_id, "channel": e.channel, "reference": e.reference,
                 "amount_fen": e.amount_fen, "paid_on": e.paid_on.isoformat(),
                 "placement": placement_of.get(i)}) for i, e in enumerate(events)], batch_size=2_000)
    result.rejected.extend(rejected)
    result.duplicates += duplicates
    return len(events), {case_of[line.loan_id][0] for _i, line in with_case}


def payments_take_effect(*, case_ids: Iterable[int], now: datetime | None = None,
                         acting_user: User | None = None) -> dict[str, int]:
    """What a payment changes at once on its cases: promises kept, plan instalments paid and plans
    completed (the plans' own watch on today's business date, without breaking anything: breaking
    stays with the nightly watch), and, when the payments since the last nightly cycle cover the case's
    overdue amount, the agency's field work on it ends (visits cancelled, stops out of the route plans)."""
    now = now or timezone.now()
    today = timezone.localdate(now, timezone=bank_time_zone())
    ids = sorted(set(case_ids))
    counts = {"promises_kept": 0, "plans_completed": 0, "visits_cancelled": 0, "route_plans_changed": 0}
    for chunk in _chunks(ids):
        counts["promises_kept"] += promises_watch(as_of=today, case_ids=chunk, may_break=False)["kept"]
        counts["plans_completed"] += plans_watch(as_of=today, case_ids=chunk, may_break=False).completed
        for case in _cases_paid_up(chunk, today=today):
            with transaction.atomic():
                done = field_work_end(case=case, agency_id=case.agency_id, reason=Appointment.CancelReason.PAID,
                                      acting_user=acting_user, on=today, now=now)
            counts["visits_cancelled"] += len(done["appointments_cancelled"])
            counts["route_plans_changed"] += len(done["route_plans_changed"])
    return counts


def _cases_paid_up(case_ids: list[int], *, today: date) -> list[Case]:
    """The cases (placed with an agency, with field work planned) whose payments since their last
    nightly cycle cover their overdue amount."""
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids, agency__isnull=False, overdue_fen__gt=0)}
    if not cases:
        return []
    busy = set(Appointment.objects.filter(case_id__in=list(cases), status__in=(
        Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED)).values_list("case_id", flat=True))
    busy |= set(RouteStop.objects.filter(case_id__in=list(cases), plan__date__gte=today)
                .values_list("case_id", flat=True))
    out = []
    for case_id in sorted(busy):
        case = cases[case_id]
        since = case.last_cycle_on or case.opened_on
        paid = Payment.objects.filter(case_id=case_id, paid_on__gt=since).aggregate(t=Sum("amount_fen"))["t"] or 0
        if paid >= case.overdue_fen:
            out.append(case)
    return out
