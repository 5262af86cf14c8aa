"""Reads of quality inspection: the recordings a user may reach, the confirmed findings of an
agency in a period (for the commission statement's penalty terms, issue 23), the week's QA queue, the
findings open to appeal, and the conduct dashboard (findings per 1,000 contacts by agency, category
and week).

The weekly queue is drawn, not stored: :func:`fieldcollect.analytics.conduct.sampling.weekly_queue`
over every recording of the week (all agencies, so a viewer's scope never changes the sample), seeded
with ``FIELDCOLLECT_QA_SEED`` (default :data:`DEFAULT_SEED`) and the week, a random share
``FIELDCOLLECT_QA_SAMPLE_SHARE`` (default :data:`DEFAULT_SHARE`) per collector besides every
recording with a trigger: an automatic finding, a complaint about the case received before the week
ended, a contact of the case refused by the compliance engine that week, a visit shorter than
:data:`SHORT_VISIT_S`, negative feedback on the collector from the case's customer answered that week
(:func:`negative_feedback`), a check-in of the collector at the case that week with a spoofing sign
(:data:`SPOOFING_SIGNS`). The same records give the same queue every time it is read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.analytics.conduct.sampling import Contact, weekly_queue
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.complaints.models import Complaint
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import ConfirmedFinding, Recording
from fieldcollect.visits.models import CheckIn, FeedbackRequest

DEFAULT_SEED = 2026
DEFAULT_SHARE = 0.05
DOUBLE_SHARE = 0.1  # the share of the queue scored twice (reviewer agreement)
SHORT_VISIT_S = 300  # a visit recording shorter than five minutes is a trigger
# the check-in flags that say the position may be faked (visits.services.checkin refuses on them)
SPOOFING_SIGNS = frozenset({CheckIn.Flag.IMPOSSIBLE_SPEED, CheckIn.Flag.REPEATED_COORDINATES})


def negative_feedback(f: FeedbackRequest) -> bool:
    """A customer's answer that should bring the contact to QA: a rating of 1 or 2, or the collector
    impolite, threatening or careless of privacy."""
    return f.responded_at is not None and (
        (f.rating is not None and f.rating <= 2) or f.felt_threatened is True or f.polite is False
        or f.privacy_respected is False)


def recordings_visible_to(user: User) -> QuerySet[Recording]:
    """Bank compliance: all; an agency user: its own agency's (the dialler that uploaded them, its QA
    lead); everyone else: none. Playback needs more (:func:`fieldcollect.qa.services.may_play`)."""
    qs = Recording.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.COMPLIANCE_OFFICER:
        return qs
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=int(user.agency_id or 0))
    return qs.none()


def recording_for(user: User, recording_id: int) -> Recording:
    rec = recordings_visible_to(user).filter(pk=recording_id).first()
    if rec is None:
        raise NotFoundError(
            _("Recording not found."), code=QaErrorCode.RECORDING_NOT_FOUND, extra={"recording_id": recording_id}
        )
    return rec


def confirmed_findings(*, agency_id: int, start: datetime, end: datetime) -> QuerySet[ConfirmedFinding]:
    """The agency's confirmed findings in force (not withdrawn on appeal), confirmed in ``[start, end)``:
    what the commission statement's penalty terms apply to (issue 23) and the scorecard's conduct component."""
    return (ConfirmedFinding.objects.filter(agency_id=agency_id, confirmed_at__gte=start, confirmed_at__lt=end)
            .exclude(appeal=ConfirmedFinding.Appeal.UPHELD).order_by("confirmed_at", "id"))  # fmt: skip


def conduct_findings_for_scorecard(*, agency_id: int, start: date, end: date) -> int:
    """The scorecard's hook (``scorecards.hooks``): the agency's confirmed findings in force confirmed on
    the bank's days ``start`` to ``end`` (both included); unconfirmed automatic findings never count."""
    return confirmed_findings(agency_id=agency_id, start=day_start(start),
                              end=day_start(end + timedelta(days=1))).count()


def conduct_rates(
    *, start: datetime, end: datetime, contacts_by_agency: dict[int, int]
) -> dict[int, dict[str, float]]:
    """Confirmed findings per 1,000 contacts by agency and category (the dashboard's figure and the
    scorecard's conduct component); ``contacts_by_agency`` is the denominator."""
    out: dict[int, dict[str, float]] = {}
    rows = (ConfirmedFinding.objects.filter(confirmed_at__gte=start, confirmed_at__lt=end)
            .exclude(appeal=ConfirmedFinding.Appeal.UPHELD).values_list("agency_id", "category"))  # fmt: skip
    counts: dict[int, dict[str, int]] = {}
    for agency_id, category in rows:
        counts.setdefault(agency_id, {}).setdefault(category, 0)
        counts[agency_id][category] += 1
    for agency_id, contacts in contacts_by_agency.items():
        if contacts > 0:
            out[agency_id] = {
                cat: round(1000 * n / contacts, 3) for cat, n in sorted(counts.get(agency_id, {}).items())
            }
    return out


def is_bank_qa(user: User) -> bool:
    """Bank QA: the compliance officers (and the superuser). They review, decide appeals, see every agency."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.COMPLIANCE_OFFICER))


def is_agency_qa(user: User) -> bool:
    """An agency's manager: its own agency's queue, findings and appeals."""
    return bool(user.is_authenticated and user.is_active and user.role == Role.AGENCY_MANAGER
                and user.agency_id is not None)


# ---------------------------------------------------------------- weeks


def iso_week(day: date) -> str:
    """``2026-W49`` for any day of that ISO week."""
    y, w, _d = day.isocalendar()
    return f"{y}-W{w:02d}"


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def day_start(day: date) -> datetime:
    """Midnight starting ``day`` on the bank's clock."""
    return datetime.combine(day, time(0, 0), tzinfo=bank_time_zone())


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The week from ``monday`` as ``[start, end)`` instants on the bank's clock."""
    return day_start(monday), day_start(monday + timedelta(days=7))


# ---------------------------------------------------------------- the weekly queue


@dataclass(frozen=True)
class QueueRow:
    recording: Recording
    reason: str  # a trigger of :data:`fieldcollect.analytics.conduct.sampling.TRIGGERS`, or "random"
    double: bool  # scored twice (reviewer agreement)
    reviews: int
    findings: int


def _triggers(recs: list[Recording], start: datetime, end: datetime) -> dict[int, tuple[str, ...]]:
    case_ids = {r.case_id for r in recs}
    complained = set(Complaint.objects.filter(case_id__in=case_ids, received_at__lt=end)
                     .values_list("case_id", flat=True))
    refused = set(BlockedAttempt.objects.filter(case_id__in=case_ids, at__gte=start, at__lt=end)
                  .values_list("case_id", flat=True))
    # by (case, collector): what the customer said of this collector, where this collector checked in
    unhappy = {(fb.case_id, fb.collector_id) for fb in FeedbackRequest.objects.filter(
        case_id__in=case_ids, responded_at__gte=start, responded_at__lt=end).only(
        "case_id", "collector_id", "responded_at", "rating", "felt_threatened", "polite", "privacy_respected")
        if negative_feedback(fb)}
    spoofed = {(case_id, collector_id) for case_id, collector_id, flags in CheckIn.objects.filter(
        case_id__in=case_ids, at__gte=start, at__lt=end).values_list("case_id", "collector_id", "flags")
        if SPOOFING_SIGNS & set(flags or ())}
    out: dict[int, tuple[str, ...]] = {}
    for r in recs:
        found: list[str] = []
        if r.case_id in complained:
            found.append("complaint")
        if (r.case_id, r.collector_id) in unhappy:
            found.append("negative_feedback")
        if (r.case_id, r.collector_id) in spoofed:
            found.append("spoofing_flag")
        if getattr(r, "n_findings", 0):
            found.append("automatic_finding")
        if r.channel == Recording.Channel.VISIT and r.duration_s < SHORT_VISIT_S:
            found.append("short_visit")
        if r.case_id in refused:
            found.append("refused_contact")
        out[r.pk] = tuple(found)
    return out


def weekly_queue_rows(*, user: User, monday: date, agency_id: int | None = None) -> list[QueueRow]:
    """The week's QA queue as ``user`` may see it (bank QA: every agency; an agency manager: its own),
    optionally of one agency. Drawn over all the week's recordings (see the module docstring)."""
    if not (is_bank_qa(user) or is_agency_qa(user)):
        return []
    start, end = week_bounds(monday)
    recs: list[Recording] = list(Recording.objects.filter(started_at__gte=start, started_at__lt=end)
                .select_related("agency", "collector")
                .annotate(n_findings=Count("transcript__findings", distinct=True),
                          n_reviews=Count("reviews", distinct=True))
                .order_by("id"))
    if not recs:
        return []
    triggers = _triggers(recs, start, end)
    contacts = [Contact(str(r.pk), str(r.collector_id or "none"), triggers[r.pk]) for r in recs]
    queue = weekly_queue(contacts, week=iso_week(monday), seed=int(getattr(settings, "FIELDCOLLECT_QA_SEED", DEFAULT_SEED)),
                         share=float(getattr(settings, "FIELDCOLLECT_QA_SAMPLE_SHARE", DEFAULT_SHARE)),
                         double_share=DOUBLE_SHARE)
    by_id = {r.pk: r for r in recs}
    own = None if is_bank_qa(user) else user.agency_id
    rows = []
    for item in queue:
        rec = by_id[int(item.contact_id)]
        if (own is not None and rec.agency_id != own) or (agency_id is not None and rec.agency_id != agency_id):
            continue
        rows.append(QueueRow(recording=rec, reason=item.reason, double=item.double,
                             reviews=getattr(rec, "n_reviews", 0), findings=getattr(rec, "n_findings", 0)))
    return rows


# ---------------------------------------------------------------- appeals


def findings_visible_to(user: User) -> QuerySet[ConfirmedFinding]:
    """Confirmed findings: bank QA all, an agency manager its agency's, everyone else none."""
    qs = ConfirmedFinding.objects.select_related("agency", "collector", "recording")
    if is_bank_qa(user):
        return qs
    if is_agency_qa(user):
        return qs.filter(agency_id=int(user.agency_id or 0))
    return qs.none()


APPEAL_FILTERS = ("open", "filed", "proposed", "decided", "all")


def appeal_list(*, user: User, state: str = "open", agency_id: int | None = None) -> QuerySet[ConfirmedFinding]:
    """``open``: the findings still awaiting a step (not appealed yet, filed, or proposed); ``filed``,
    ``proposed``, ``decided`` (upheld or rejected) or ``all``."""
    qs = findings_visible_to(user)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    A = ConfirmedFinding.Appeal
    if state == "filed":
        qs = qs.filter(appeal=A.FILED)
    elif state == "proposed":
        qs = qs.filter(appeal=A.PROPOSED)
    elif state == "decided":
        qs = qs.filter(appeal__in=[A.UPHELD, A.REJECTED])
    elif state != "all":
        qs = qs.filter(appeal__in=[A.NONE, A.FILED, A.PROPOSED])
    return qs.order_by("-confirmed_at", "-id")


# ---------------------------------------------------------------- conduct dashboard


def contacts_by_agency(*, start: datetime, end: datetime, agency_ids: list[int] | None = None) -> dict[int, int]:
    """Agencies' contacts in ``[start, end)``: the denominator of findings per 1,000 contacts."""
    qs = ContactAttempt.objects.filter(at__gte=start, at__lt=end, agency_id__isnull=False)
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=agency_ids)
    return dict(qs.order_by().values("agency_id").annotate(n=Count("id")).values_list("agency_id", "n"))


@dataclass(frozen=True)
class ConductDashboard:
    weeks: list[str]  # ISO weeks, oldest first
    agencies: dict[int, str]
    contacts: dict[int, int]  # over the whole period
    findings: dict[int, int]  # confirmed in force over the whole period
    by_category: dict[int, dict[str, float]]  # per 1,000 contacts, whole period
    categories: list[str]
    trend: dict[int, list[float | None]]  # per agency, per week: findings per 1,000 contacts


def conduct_dashboard(*, user: User, last_monday: date, weeks: int = 8) -> ConductDashboard:
    """Confirmed findings in force per 1,000 contacts, by agency and category over ``weeks`` weeks
    ending with the week of ``last_monday``, and per week (the trend), built on :func:`conduct_rates`.
    Bank QA sees every agency, an agency manager its own; anyone else nothing."""
    first = last_monday - timedelta(weeks=weeks - 1)
    start, _e = week_bounds(first)
    _s, end = week_bounds(last_monday)
    if is_bank_qa(user):
        scope: list[int] | None = None
    elif is_agency_qa(user):
        scope = [int(user.agency_id)]  # type: ignore[arg-type]
    else:
        scope = []
    contacts = contacts_by_agency(start=start, end=end, agency_ids=scope) if scope != [] else {}
    found = (ConfirmedFinding.objects.filter(confirmed_at__gte=start, confirmed_at__lt=end)
             .exclude(appeal=ConfirmedFinding.Appeal.UPHELD))
    if scope is not None:
        found = found.filter(agency_id__in=scope)
    findings: dict[int, int] = defaultdict(int)
    for a in found.values_list("agency_id", flat=True):
        findings[a] += 1
    ids = sorted(set(contacts) | set(findings))
    by_category = conduct_rates(start=start, end=end, contacts_by_agency={a: contacts.get(a, 0) for a in ids})
    mondays = [first + timedelta(weeks=k) for k in range(weeks)]
    trend: dict[int, list[float | None]] = {a: [] for a in ids}
    for monday in mondays:
        ws, we = week_bounds(monday)
        week_contacts = contacts_by_agency(start=ws, end=we, agency_ids=ids) if ids else {}
        rates = conduct_rates(start=ws, end=we, contacts_by_agency={a: week_contacts.get(a, 0) for a in ids})
        for a in ids:
            trend[a].append(round(sum(rates[a].values()), 3) if a in rates else None)
    names = dict(Agency.objects.filter(pk__in=ids).values_list("pk", "name"))
    categories = sorted({c for per in by_category.values() for c in per})
    return ConductDashboard(weeks=[iso_week(m) for m in mondays], agencies={a: names.get(a, str(a)) for a in ids},
                            contacts={a: contacts.get(a, 0) for a in ids}, findings=dict(findings),
                            by_category=by_category, categories=categories, trend=trend)
