"""The demo's payments: a payment channel, same-day payments that keep open promises (and pay one
placed case up, cancelling its visits), and the write-back of the accepted plans to the simulated core.

The lead's demo calls :func:`demo_payments` once the business day has cases, promises and plans.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from fieldcollect.cases.models import Case, PromiseToPay
from fieldcollect.payments.channels import channel_add
from fieldcollect.payments.services import payments_post
from fieldcollect.payments.writeback import DemoCoreBanking, writeback_dispatch
from fieldcollect.visits.models import Appointment

DEMO_CHANNEL = "demo-bank"


def demo_payments(*, now: datetime | None = None, promises: int = 20) -> dict[str, Any]:
    """Pay ``promises`` open promises in full through the demo channel (references ``demo-<promise>``:
    idempotent, a second call is all duplicates), pay one placed case's overdue amount, then queue and
    deliver the write-back instructions of accepted plans to the demo core (which answers at once).
    Returns the post's answer, its effects and the write-back counts."""
    now = now or timezone.now()
    channel_add(name=DEMO_CHANNEL)
    at = (now - timedelta(minutes=30)).isoformat()
    lines: list[tuple[int, dict[str, Any]]] = []
    # debtors without a visit booked pay by link (a paid-up case's visits would be cancelled at once,
    # and the demo keeps its booked visits to show)
    booked = Q(case__appointments__status__in=[Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED])
    for p in (
        PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN)
        .exclude(booked)
        .select_related("case")
        .order_by("due_on", "pk")[:promises]
    ):
        lines.append(
            (
                len(lines) + 1,
                {
                    "reference": f"demo-{p.pk}",
                    "loan_id": p.case.loan_id,
                    "amount_fen": int(p.amount_fen),
                    "paid_at": at,
                    "channel": DEMO_CHANNEL,
                },
            )
        )
    case = (
        Case.objects.filter(closed_on__isnull=True, agency__isnull=False, overdue_fen__gt=0)
        .exclude(appointments__status__in=[Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED])
        .order_by("pk")
        .first()
    )
    if case is not None:
        lines.append(
            (
                len(lines) + 1,
                {
                    "reference": f"demo-case-{case.pk}",
                    "loan_id": case.loan_id,
                    "amount_fen": int(case.overdue_fen),
                    "paid_at": at,
                    "channel": DEMO_CHANNEL,
                },
            )
        )
    result = payments_post(lines=lines, actor_label="demo", now=now)
    writeback = writeback_dispatch(adapter=DemoCoreBanking(), now=now)
    return {"payments": result.as_dict(), "effects": result.effects, "writeback": writeback}
