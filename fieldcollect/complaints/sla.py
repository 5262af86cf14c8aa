"""Service levels of complaint handling, configurable in Django settings.

``COMPLAINTS_SLA`` maps a severity to ``(hours to acknowledge, hours to resolve)``, e.g.::

    COMPLAINTS_SLA = {"critical": (4, 72), "high": (24, 168), "medium": (48, 360), "low": (72, 720)}

Missing severities fall back to :data:`DEFAULT_SLA`. The clock runs from ``received_at`` in
calendar hours (a regulator's referral keeps the date the regulator received it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

DEFAULT_SLA: dict[str, tuple[float, float]] = {
    "critical": (4, 72),
    "high": (24, 7 * 24),
    "medium": (48, 15 * 24),
    "low": (72, 30 * 24),
}


def sla_hours(severity: str) -> tuple[float, float]:
    configured = getattr(settings, "COMPLAINTS_SLA", None) or {}
    ack, resolve = configured.get(severity, DEFAULT_SLA.get(severity, DEFAULT_SLA["medium"]))
    return float(ack), float(resolve)


def due_dates(*, severity: str, received_at: datetime) -> tuple[datetime, datetime]:
    ack, resolve = sla_hours(severity)
    return received_at + timedelta(hours=ack), received_at + timedelta(hours=resolve)


@dataclass(frozen=True)
class SlaState:
    """Where a complaint stands against its timers at ``now`` (for page badges)."""

    acknowledge_overdue: bool
    resolve_overdue: bool
    resolve_due_soon: bool

    @property
    def breached(self) -> bool:
        return self.acknowledge_overdue or self.resolve_overdue


def sla_state(*, acknowledged_at: datetime | None, resolved_at: datetime | None,
              acknowledge_due_at: datetime, resolve_due_at: datetime, now: datetime) -> SlaState:
    """A timer is overdue when its deadline passed before the step was done (done late counts too)."""
    ack_done = acknowledged_at or resolved_at
    ack_over = (ack_done is None and now > acknowledge_due_at) or (ack_done is not None and ack_done > acknowledge_due_at)
    res_over = (resolved_at is None and now > resolve_due_at) or (resolved_at is not None and resolved_at > resolve_due_at)
    soon = resolved_at is None and not res_over and resolve_due_at - now <= timedelta(hours=24)
    return SlaState(acknowledge_overdue=ack_over, resolve_overdue=res_over, resolve_due_soon=soon)
