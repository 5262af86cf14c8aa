"""Penalties on a commission statement: where the events come from and what the contract charges.

A *penalty source* lists the events of one kind for which an agency may be charged in a period
(:class:`PenaltySource`); the contract version in force on the event's date prices it
(:func:`penalty_fen`, from ``penalty_terms``: fen per event, ``<kind>_per_day`` for each day late,
``monthly_cap`` on the month's penalties). The statement charges each event once
(:class:`fieldcollect.settlement.models.Adjustment`, unique on source and reference).

Sources built in: upheld complaints (:class:`ComplaintSource`) and deletion attestations given late
(:class:`LateAttestationSource`). The QA app registers its confirmed findings with
:func:`register_penalty_source` (a source named ``qa_finding`` yielding kinds ``qa_finding`` or
``qa_finding_serious``); nothing else changes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, runtime_checkable

from django.utils import timezone

from fieldcollect.complaints.models import SERIOUS, Complaint, Finding
from fieldcollect.privacy.models import DeletionAttestation

__all__ = [
    "ComplaintSource",
    "LateAttestationSource",
    "PenaltyEvent",
    "PenaltySource",
    "penalty_fen",
    "penalty_sources",
    "register_penalty_source",
]


@dataclass(frozen=True)
class PenaltyEvent:
    """One chargeable event: ``kind`` is the contract term that prices it; ``days_late`` counts for
    the ``<kind>_per_day`` term."""

    source: str
    ref: str
    agency_id: int
    kind: str
    occurred_on: date
    case_id: int | None = None
    days_late: int = 0
    detail: str = ""


@runtime_checkable
class PenaltySource(Protocol):
    """Where penalty events come from (a selector: reads only)."""

    name: str

    def events(self, *, agency_id: int, until: date) -> Iterable[PenaltyEvent]:
        """The agency's chargeable events that occurred on or before ``until`` (each with a stable ref;
        those already charged are skipped by the statement)."""
        ...


def penalty_fen(terms: Mapping[str, Any], event: PenaltyEvent) -> int:
    """What ``terms`` (a contract version's ``penalty_terms``) charge for ``event``, in fen (0: not
    priced). Integer arithmetic only."""
    base = terms.get(event.kind, 0) or 0
    per_day = terms.get(f"{event.kind}_per_day", 0) or 0
    return int(base) + int(per_day) * max(0, event.days_late)


class ComplaintSource:
    """Complaints against the agency upheld (or partly upheld) at resolution; a serious one
    (high/critical) is priced by ``complaint_serious`` when the contract sets it."""

    name = "complaint"

    def events(self, *, agency_id: int, until: date) -> Iterable[PenaltyEvent]:
        rows = (
            Complaint.objects.filter(
                agency_id=agency_id,
                finding__in=[Finding.UPHELD, Finding.PARTLY_UPHELD],
                resolved_at__isnull=False,
            )
            .values_list("pk", "reference", "severity", "resolved_at", "case_id")
            .order_by("pk")
        )
        tz = timezone.get_current_timezone()
        for pk, reference, severity, resolved_at, case_id in rows:
            if resolved_at is None:
                continue
            day = resolved_at.astimezone(tz).date()
            if day > until:
                continue
            yield PenaltyEvent(
                source=self.name,
                ref=str(pk),
                agency_id=agency_id,
                kind="complaint_serious" if severity in SERIOUS else "complaint",
                occurred_on=day,
                case_id=case_id,
                detail=reference or f"#{pk}",
            )


class LateAttestationSource:
    """Deletion attestations not given by their due date: charged once, the first time a statement
    sees them late, with the days late counted to the attestation (or to ``until`` while still open)."""

    name = "late_attestation"

    def events(self, *, agency_id: int, until: date) -> Iterable[PenaltyEvent]:
        tz = timezone.get_current_timezone()
        rows = (
            DeletionAttestation.objects.filter(agency_id=agency_id, due_on__lt=until)
            .values_list("pk", "due_on", "status", "attested_at")
            .order_by("pk")
        )
        for pk, due_on, status, attested_at in rows:
            if status == DeletionAttestation.Status.ATTESTED and attested_at is not None:
                done = attested_at.astimezone(tz).date()
                if done <= due_on:
                    continue
                last = min(done, until)
            else:
                last = until
            yield PenaltyEvent(
                source=self.name,
                ref=str(pk),
                agency_id=agency_id,
                kind="late_attestation",
                occurred_on=due_on + timedelta(days=1),
                days_late=(last - due_on).days,
                detail=f"due {due_on.isoformat()}",
            )


_SOURCES: dict[str, PenaltySource] = {}


def register_penalty_source(source: PenaltySource) -> None:
    """Add (or replace, by name) a penalty source: the QA app calls this from its ``AppConfig.ready``."""
    if not isinstance(source, PenaltySource):
        raise TypeError("a penalty source needs a name and an events(agency_id=, until=) method")
    _SOURCES[source.name] = source


def penalty_sources() -> tuple[PenaltySource, ...]:
    return tuple(_SOURCES[k] for k in sorted(_SOURCES))


register_penalty_source(ComplaintSource())
register_penalty_source(LateAttestationSource())
