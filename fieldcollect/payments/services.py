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
   commission), and one audit row for the batch (the events are the record of each payment);
4. the effects, at once (:func:`payments_take_effect`): promises kept and plan instalments paid by the
   plans' own watch (:func:`fieldcollect.plans.services.promises_watch` / ``plans_watch``, limited to
   the cases paid), and when the payments since the last nightly cycle cover the case's overdue
   amount, the agency's visits are cancelled and the case's stops leave the route plans
   (:func:`fieldcollect.visits.fieldwork.field_work_end`, reason ``paid``).

The nightly reconciliation with the export is :mod:`fieldcollect.payments.reconcile`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import Case, Payment
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.models import User
from fieldcollect.core.rawsql import copy_rows, table
from fieldcollect.payments.channels import active_channels
from fieldcollect.payments.lines import LineError, PaymentLine, parse_line, parse_object
from fieldcollect.payments.models import PaymentEvent
from fieldcollect.plans.services import plans_watch, promises_watch
from fieldcollect.portfolio.models import Loan
from fieldcollect.settlement.attribution import attribute
from fieldcollect.settlement.selectors import covers_for
from fieldcollect.visits.fieldwork import field_work_end
from fieldcollect.visits.models import Appointment, RouteStop

BATCH = 10_000
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


def payments_post(
    *,
    lines: Iterable[tuple[int, Any]],
    acting_user: User | None = None,
    actor_label: str = "",
    channel: str | None = None,
    now: datetime | None = None,
    batch: int = BATCH,
) -> PostResult:
    """Post payment lines ``(line number, raw line)``; a raw line is the text of one JSON line (a file)
    or the decoded object (the API). ``channel``: the channel that signed the request; its lines must
    name it. Returns the counts and the refused lines with their reasons. The effects
    (:func:`payments_take_effect`) follow once all the lines are written."""
    now = now or timezone.now()
    zone = bank_time_zone()
    allowed = {channel} if channel is not None else active_channels()
    result = PostResult()
    seen: dict[tuple[str, str], tuple[int, tuple[int, int, datetime]]] = {}
    pending: list[tuple[int, PaymentLine]] = []
    paid_cases: set[int] = set()
    for number, raw in lines:
        try:
            line = (
                parse_line(raw, bank_zone=zone, now=now)
                if isinstance(raw, str | bytes)
                else parse_object(raw, bank_zone=zone, now=now)
            )
        except LineError as exc:
            result.rejected.append({"line": number, "reason": str(exc)})
            continue
        if line.channel not in allowed:
            reason = (
                f"channel {line.channel!r} is not the channel that signed the request"
                if channel is not None
                else f"unknown channel {line.channel!r}"
            )
            result.rejected.append({"line": number, "reason": reason})
            continue
        key = (line.channel, line.reference)
        if key in seen:
            first, event = seen[key]
            if _same(event, line):
                result.duplicates += 1
            else:
                result.rejected.append(
                    {
                        "line": number,
                        "reason": f"reference {line.reference!r} of channel "
                        f"{line.channel!r} is used by line {first} for another payment",
                    }
                )
            continue
        seen[key] = (number, (line.loan_id, line.amount_fen, line.paid_at))
        pending.append((number, line))
        if len(pending) >= batch:
            paid_cases |= _post_batch(
                pending, result=result, acting_user=acting_user, actor_label=actor_label, now=now
            )
            pending = []
    if pending:
        paid_cases |= _post_batch(
            pending, result=result, acting_user=acting_user, actor_label=actor_label, now=now
        )
    result.rejected.sort(key=lambda r: r["line"])
    if paid_cases:
        result.add_effects(payments_take_effect(case_ids=paid_cases, now=now, acting_user=acting_user))
    return result


def _post_batch(
    pending: list[tuple[int, PaymentLine]],
    *,
    result: PostResult,
    acting_user: User | None,
    actor_label: str,
    now: datetime,
) -> set[int]:
    """Write one batch; returns the cases paid."""
    try:
        applied, case_ids = _write_batch(
            pending, result=result, acting_user=acting_user, actor_label=actor_label, now=now
        )
    except IntegrityError:
        # another post wrote one of these references meanwhile: line by line, each seeing the others
        if len(pending) == 1:
            raise
        case_ids = set()
        for item in pending:
            case_ids |= _post_batch(
                [item], result=result, acting_user=acting_user, actor_label=actor_label, now=now
            )
        return case_ids
    result.applied += applied
    return case_ids


def _chunks(values: list[Any], size: int = 5_000) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


PAYMENT_COLUMNS = (
    "loan_id",
    "case_id",
    "placement_id",
    "paid_on",
    "amount_fen",
    "channel",
    "reference",
    "created_at",
)
EVENT_COLUMNS = (
    "channel",
    "reference",
    "loan_id",
    "case_id",
    "payment_id",
    "amount_fen",
    "paid_at",
    "paid_on",
    "received_at",
    "status",
)


def _insert(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in the order of the attribute names ``columns``): on PostgreSQL by
    ``COPY`` (:func:`fieldcollect.core.rawsql.copy_rows`, the fast path of a 100,000-line file), else
    through the ORM's ``bulk_create``; the rows land the same (``payments/tests/test_payments.py``)."""
    if not rows:
        return
    if FAST_INSERT and connection.vendor == "postgresql":
        names = [str(model._meta.get_field(c).column) for c in columns]  # type: ignore[union-attr]
        with (
            connection.wrap_database_errors
        ):  # a unique violation is Django's IntegrityError, as with the ORM
            copy_rows(table(model), names, rows)
    else:
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, r, strict=True))) for r in rows], batch_size=2_000
        )


FAST_INSERT = True


def _write_batch(
    pending: list[tuple[int, PaymentLine]],
    *,
    result: PostResult,
    acting_user: User | None,
    actor_label: str,
    now: datetime,
) -> tuple[int, set[int]]:
    """Write one batch in one transaction; returns how many were applied and the cases paid. The
    refused and duplicate lines are counted in ``result`` only when the transaction commits."""
    rejected: list[dict[str, Any]] = []
    duplicates = 0
    loan_ids = list({line.loan_id for _n, line in pending})
    case_of: dict[int, int] = {}
    for chunk in _chunks(loan_ids):
        case_of.update(
            Case.objects.filter(loan_id__in=chunk, closed_on__isnull=True).values_list("loan_id", "pk")
        )
    known = set(case_of) | set(
        Loan.objects.filter(pk__in=[i for i in loan_ids if i not in case_of]).values_list("pk", flat=True)
    )
    existing: dict[tuple[str, str], tuple[int, int, datetime]] = {}
    for channel in {line.channel for _n, line in pending}:
        refs = [line.reference for _n, line in pending if line.channel == channel]
        for chunk in _chunks(refs):
            for ref, loan_id, amount, paid_at in PaymentEvent.objects.filter(
                channel=channel, reference__in=chunk
            ).values_list("reference", "loan_id", "amount_fen", "paid_at"):
                existing[(channel, ref)] = (loan_id, amount, paid_at)
    todo: list[PaymentLine] = []
    for number, line in pending:
        before = existing.get((line.channel, line.reference))
        if before is not None:
            if _same(before, line):
                duplicates += 1
            else:
                rejected.append(
                    {
                        "line": number,
                        "reason": f"reference {line.reference!r} of channel "
                        f"{line.channel!r} is already recorded for another payment",
                    }
                )
        elif line.loan_id not in known:
            rejected.append({"line": number, "reason": f"unknown loan {line.loan_id}"})
        else:
            todo.append(line)
    with_case = [(i, line) for i, line in enumerate(todo) if line.loan_id in case_of]
    covers = covers_for(case_ids=[case_of[line.loan_id] for _i, line in with_case])
    placement_of = {
        i: c.placement_id
        for i, c in attribute(
            payments=[(i, case_of[line.loan_id], line.paid_on) for i, line in with_case], covers=covers
        ).items()
    }
    ref_of = {i: payment_reference(line.channel, line.reference) for i, line in with_case}
    case_loans = list({line.loan_id for _i, line in with_case})
    # a case payment with the channel's reference recorded by hand before (payment_record) is the same
    # payment: looked up when a single line is written (a batch meeting one fails on the unique
    # constraint and is written again line by line)
    payment_of: dict[tuple[int, str], int] = {}
    if len(pending) == 1 and with_case:
        payment_of.update(
            {
                (loan, ref): pk
                for pk, loan, ref in Payment.objects.filter(
                    loan_id__in=case_loans, reference__in=list(ref_of.values())
                ).values_list("pk", "loan_id", "reference")
            }
        )
    label = actor_label or (acting_user.get_username() if acting_user is not None else "system")
    with transaction.atomic():
        _insert(
            Payment,
            PAYMENT_COLUMNS,
            [
                (
                    line.loan_id,
                    case_of[line.loan_id],
                    placement_of.get(i),
                    line.paid_on,
                    line.amount_fen,
                    line.channel,
                    ref_of[i],
                    now,
                )
                for i, line in with_case
                if (line.loan_id, ref_of[i]) not in payment_of
            ],
        )
        wanted = {(line.loan_id, ref_of[i]) for i, line in with_case}
        since = min((line.paid_on for _i, line in with_case), default=None)
        for chunk in _chunks(case_loans):
            payment_of.update(
                {
                    (loan, ref): pk
                    for pk, loan, ref in Payment.objects.filter(
                        loan_id__in=chunk,
                        paid_on__gte=since,
                        channel__in={line.channel for _i, line in with_case},
                    ).values_list("pk", "loan_id", "reference")
                    if (loan, ref) in wanted
                }
            )
        _insert(
            PaymentEvent,
            EVENT_COLUMNS,
            [
                (
                    line.channel,
                    line.reference,
                    line.loan_id,
                    case_of.get(line.loan_id),
                    payment_of.get((line.loan_id, ref_of[i])) if i in ref_of else None,
                    line.amount_fen,
                    line.paid_at,
                    line.paid_on,
                    now,
                    PaymentEvent.Status.APPLIED.value
                    if line.loan_id in case_of
                    else PaymentEvent.Status.NO_CASE.value,
                )
                for i, line in enumerate(todo)
            ],
        )
        if todo:
            # one audit row per batch: the events themselves are the record of each payment (who sent it
            # is their channel, when is their received_at)
            audit_log(
                actor=acting_user,
                actor_label=label,
                action=AUDIT_ACTION,
                object_type="payment_batch",
                object_id=now.isoformat(),
                new={
                    "payments": len(todo),
                    "amount_fen": sum(line.amount_fen for line in todo),
                    "channels": sorted({line.channel for line in todo}),
                    "received_at": now.isoformat(),
                    "cases": len({case_of[line.loan_id] for _i, line in with_case}),
                    "attributed": len(placement_of),
                    "references": [line.reference for line in todo[:20]],
                },
            )
    result.rejected.extend(rejected)
    result.duplicates += duplicates
    return len(todo), {case_of[line.loan_id] for _i, line in with_case}


def payments_take_effect(
    *, case_ids: Iterable[int], now: datetime | None = None, acting_user: User | None = None
) -> dict[str, int]:
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
            assert case.agency_id is not None  # only placed cases have field work
            with transaction.atomic():
                done = field_work_end(
                    case=case,
                    agency_id=case.agency_id,
                    reason=Appointment.CancelReason.PAID,
                    acting_user=acting_user,
                    on=today,
                    now=now,
                )
            counts["visits_cancelled"] += len(done["appointments_cancelled"])
            counts["route_plans_changed"] += len(done["route_plans_changed"])
    return counts


def _cases_paid_up(case_ids: list[int], *, today: date) -> list[Case]:
    """The cases (placed with an agency, with field work planned) whose payments since their last
    nightly cycle cover their overdue amount."""
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids, agency__isnull=False, overdue_fen__gt=0)}
    if not cases:
        return []
    busy = set(
        Appointment.objects.filter(
            case_id__in=list(cases), status__in=(Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED)
        ).values_list("case_id", flat=True)
    )
    busy |= set(
        RouteStop.objects.filter(case_id__in=list(cases), plan__date__gte=today).values_list(
            "case_id", flat=True
        )
    )
    if not busy:
        return []
    since = min(c.last_cycle_on or c.opened_on for pk, c in cases.items() if pk in busy)
    paid: dict[int, int] = {}
    for case_id, paid_on, amount in Payment.objects.filter(
        case_id__in=sorted(busy), paid_on__gt=since
    ).values_list("case_id", "paid_on", "amount_fen"):
        if paid_on > (cases[case_id].last_cycle_on or cases[case_id].opened_on):
            paid[case_id] = paid.get(case_id, 0) + amount
    return [cases[pk] for pk in sorted(busy) if paid.get(pk, 0) >= cases[pk].overdue_fen]
