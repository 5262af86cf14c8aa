"""Reads on complaints and customer feedback: who sees what, work queue with SLA badges, and the
figures other apps chart (complaints per 10,000 contacts, counts by category, feedback by agency).

Visibility: the bank's staff see every complaint; an agency manager sees the complaints about the
agency (read-only, plus the agency's response); anyone else sees none (a hidden complaint is "not
found"). Date ranges ``start``/``end`` are inclusive calendar dates in the bank's time zone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.complaints.errors import ComplaintErrorCode
from fieldcollect.complaints.models import OPEN_STATUSES, Complaint, InvestigationEntry
from fieldcollect.complaints.sla import SlaState, sla_state
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import User
from fieldcollect.core.visibility import sees_agency, visible_by_agency
from fieldcollect.visits.models import Evidence, FeedbackRequest, VisitReport

# how many complaints (newest first) a text search reads: the description is encrypted at rest
SEARCH_SCAN = 5_000
COUNT_BY = ("category", "severity", "source", "status", "agency", "root_cause", "finding")


def can_view_complaints(user: User) -> bool:
    """Whether ``user`` may open the complaint pages: the bank's staff (all complaints) and an agency's
    manager (those about the agency)."""
    return sees_agency(user)


def complaints_visible_to(user: User) -> QuerySet[Complaint]:
    return visible_by_agency(Complaint.objects.all(), user)


def access_complaint_by_id(complaint_id: int, user: User) -> Complaint:
    c = complaints_visible_to(user).select_related(
        "customer", "case", "agency", "collector", "assigned_to", "feedback", "agency_response_by").filter(
        pk=complaint_id).first()
    if c is None:
        raise NotFoundError(_("Complaint not found."), code=ComplaintErrorCode.NOT_FOUND, extra={"complaint_id": complaint_id})
    return c


def sla_of(c: Complaint, *, now: datetime | None = None) -> SlaState:
    return sla_state(acknowledged_at=c.acknowledged_at, resolved_at=c.resolved_at,
                     acknowledge_due_at=c.acknowledge_due_at, resolve_due_at=c.resolve_due_at,
                     now=now or timezone.now())


@dataclass(frozen=True)
class Filters:
    status: str = ""
    severity: str = ""
    category: str = ""
    source: str = ""
    agency_id: int | None = None
    overdue: bool = False
    mine: bool = False
    q: str = ""


def complaint_list(*, user: User, filters: Filters, now: datetime | None = None,
                   limit: int = 200) -> list[tuple[Complaint, SlaState]]:
    now = now or timezone.now()
    qs = complaints_visible_to(user).select_related("customer", "agency", "collector", "assigned_to")
    if filters.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    for name in ("severity", "category", "source"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.agency_id:
        qs = qs.filter(agency_id=filters.agency_id)
    if filters.mine:
        qs = qs.filter(assigned_to=user)
    if filters.overdue:
        qs = qs.filter(Q(status__in=OPEN_STATUSES, resolve_due_at__lt=now)
                       | Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
                       | Q(acknowledge_breached_at__isnull=False) | Q(resolve_breached_at__isnull=False))
    qs = qs.order_by("-received_at", "-id")
    if not filters.q:
        return [(c, sla_of(c, now=now)) for c in qs[:limit]]
    # the description is stored encrypted: SQL cannot search it, so the newest SEARCH_SCAN complaints
    # that pass the other filters are searched after decryption
    needle = filters.q.casefold()
    found: list[tuple[Complaint, SlaState]] = []
    for c in qs[:SEARCH_SCAN]:
        if any(needle in (text or "").casefold() for text in (c.reference, c.regulator_reference, c.description)):
            found.append((c, sla_of(c, now=now)))
            if len(found) >= limit:
                break
    return found


def work_queue(*, user: User, now: datetime | None = None) -> list[tuple[Complaint, SlaState]]:
    """Open complaints, the most urgent first: serious ones, then by the nearest deadline."""
    now = now or timezone.now()
    qs = complaints_visible_to(user).filter(status__in=OPEN_STATUSES).select_related(
        "customer", "agency", "collector", "assigned_to")
    rows = [(c, sla_of(c, now=now)) for c in qs]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}

    def key(row: tuple[Complaint, SlaState]) -> tuple[Any, ...]:
        c, s = row
        next_due = c.acknowledge_due_at if c.acknowledged_at is None else c.resolve_due_at
        return (not s.breached, rank.get(c.severity, 9), next_due, c.pk)

    return sorted(rows, key=key)


def open_breach_count(*, user: User, now: datetime | None = None) -> int:
    """Open complaints past a deadline (the badge on the pages)."""
    now = now or timezone.now()
    return complaints_visible_to(user).filter(status__in=OPEN_STATUSES).filter(
        Q(resolve_due_at__lt=now) | Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)).count()


def complaint_audit(*, complaint: Complaint) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type="complaint", object_id=str(complaint.pk)).select_related(
        "actor").order_by("at", "id")


def complaint_entries(*, complaint: Complaint) -> QuerySet[InvestigationEntry]:
    return complaint.entries.select_related("author", "contact", "contact__collector", "visit_report",
                                            "visit_report__collector")


def linkable_contacts(*, complaint: Complaint, limit: int = 100) -> QuerySet[ContactAttempt]:
    return ContactAttempt.objects.filter(case__customer_id=complaint.customer_id).select_related(
        "collector", "agency").order_by("-at", "-id")[:limit]


def linkable_visit_reports(*, complaint: Complaint, limit: int = 50) -> QuerySet[VisitReport]:
    return VisitReport.objects.filter(case__customer_id=complaint.customer_id).select_related(
        "collector").order_by("-created_at", "-id")[:limit]


def linked_evidence(*, complaint: Complaint) -> QuerySet[Evidence]:
    ids = complaint.entries.exclude(visit_report=None).values("visit_report_id")
    return Evidence.objects.filter(report_id__in=ids).order_by("report_id", "uploaded_at", "id")


# ---------------------------------------------------------------- figures for scorecards and dashboards

def _complaints(*, start: date, end: date, agency: Agency | int | None = None) -> QuerySet[Complaint]:
    qs = Complaint.objects.filter(received_at__date__gte=start, received_at__date__lte=end)
    if agency is not None:
        qs = qs.filter(agency_id=agency if isinstance(agency, int) else agency.pk)
    return qs


def _contacts(*, start: date, end: date, agency: Agency | int | None = None) -> int:
    qs = ContactAttempt.objects.filter(at__date__gte=start, at__date__lte=end)
    if agency is not None:
        qs = qs.filter(agency_id=agency if isinstance(agency, int) else agency.pk)
    return qs.count()


def complaints_per_10k_contacts(*, start: date, end: date, agency: Agency | int | None = None) -> Decimal | None:
    """Complaints received per 10,000 contact attempts in ``[start, end]`` (of one agency, or all,
    bank included); ``None`` when there was no contact. Every complaint counts, whatever its finding
    (as the scorecard counts them)."""
    contacts = _contacts(start=start, end=end, agency=agency)
    if not contacts:
        return None
    n = _complaints(start=start, end=end, agency=agency).count()
    return (Decimal(n) * 10_000 / Decimal(contacts)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def complaint_counts_by(*, by: str = "category", start: date, end: date,
                        agency: Agency | int | None = None) -> dict[str, int]:
    """Number of complaints received in ``[start, end]`` per value of ``by`` (one of :data:`COUNT_BY`;
    ``agency`` gives agency ids as strings, ``""`` for complaints about the bank itself)."""
    if by not in COUNT_BY:
        raise ValueError(f"by must be one of {COUNT_BY}, got {by!r}")
    field = "agency_id" if by == "agency" else by
    rows = _complaints(start=start, end=end, agency=agency).values(field).annotate(n=Count("id")).order_by(field)
    return {("" if r[field] is None else str(r[field])): int(r["n"]) for r in rows}


@dataclass(frozen=True)
class MonthRow:
    month: date
    complaints: int
    contacts: int
    per_10k: Decimal | None


def complaints_per_10k_by_month(*, start: date, end: date, agency: Agency | int | None = None) -> list[MonthRow]:
    """The monthly series of complaints per 10,000 contacts from ``start``'s month to ``end``'s month."""
    out: list[MonthRow] = []
    m = start.replace(day=1)
    while m <= end:
        nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        last = min(end, nxt - timedelta(days=1))
        first = max(start, m)
        contacts = _contacts(start=first, end=last, agency=agency)
        n = _complaints(start=first, end=last, agency=agency).count()
        per = (Decimal(n) * 10_000 / Decimal(contacts)).quantize(Decimal("0.01"), ROUND_HALF_UP) if contacts else None
        out.append(MonthRow(month=m, complaints=n, contacts=contacts, per_10k=per))
        m = nxt
    return out


def complaints_for_scorecard(*, agency_id: int, start: date, end: date) -> int:
    """Scorecard hook: complaints about the agency received in the period."""
    return _complaints(start=start, end=end, agency=agency_id).count()


def _feedback(*, start: date, end: date, agency: Agency | int | None = None,
              collector_id: int | None = None) -> QuerySet[FeedbackRequest]:
    qs = FeedbackRequest.objects.filter(responded_at__isnull=False, responded_at__date__gte=start,
                                        responded_at__date__lte=end)
    if agency is not None:
        qs = qs.filter(agency_id=agency if isinstance(agency, int) else agency.pk)
    if collector_id is not None:
        qs = qs.filter(collector_id=collector_id)
    return qs


def feedback_score_for_scorecard(*, agency_id: int, start: date, end: date) -> float | None:
    """Scorecard hook: the agency's mean customer rating (1–5) of the period, ``None`` without answers."""
    value = _feedback(start=start, end=end, agency=agency_id).aggregate(v=Avg("rating"))["v"]
    return None if value is None else round(float(value), 2)


@dataclass(frozen=True)
class FeedbackRow:
    key: int | None
    label: str
    answers: int
    requests: int
    mean_rating: float | None
    polite: float | None
    clear: float | None
    privacy_respected: float | None
    felt_threatened: float | None
    low_ratings: int


def feedback_summary(*, start: date, end: date, by: str = "agency",
                     agency: Agency | int | None = None) -> list[FeedbackRow]:
    """Feedback per agency or per collector: answers, mean rating and the share of "yes" to each
    category question (among those who answered it)."""
    if by not in {"agency", "collector"}:
        raise ValueError("by must be agency or collector")
    field = f"{by}_id"
    answered = _feedback(start=start, end=end, agency=agency).select_related("agency", "collector")
    asked = FeedbackRequest.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    if agency is not None:
        asked = asked.filter(agency_id=agency if isinstance(agency, int) else agency.pk)
    requests = Counter(asked.values_list(field, flat=True))
    groups: dict[int | None, list[FeedbackRequest]] = {}
    labels: dict[int | None, str] = {}
    for fb in answered:
        key = getattr(fb, field)
        groups.setdefault(key, []).append(fb)
        obj = getattr(fb, by)
        labels[key] = str(obj) if obj is not None else "—"

    def share(rows: list[FeedbackRequest], name: str) -> float | None:
        vals = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return sum(1 for v in vals if v) / len(vals) if vals else None

    out = []
    for key, rows in groups.items():
        ratings = [r.rating for r in rows if r.rating is not None]
        out.append(FeedbackRow(
            key=key, label=labels[key], answers=len(rows), requests=requests.get(key, 0),
            mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
            polite=share(rows, "polite"), clear=share(rows, "clear"),
            privacy_respected=share(rows, "privacy_respected"), felt_threatened=share(rows, "felt_threatened"),
            low_ratings=sum(1 for r in ratings if r <= 2)))
    return sorted(out, key=lambda r: (r.mean_rating if r.mean_rating is not None else 99, r.label))
