"""Reads for the case page as the hub of a case: every action a user may take on it, one click away
(:func:`case_actions`), and every fact of it in one timeline (:func:`hub_timeline`).

Which links a user is shown is decided by the same functions the target pages and services check
(capabilities in :mod:`fieldcollect.cases.access`, and each app's own predicate); the template only
renders the list. The timeline reads each kind of fact with one bounded query (newest first), limited
to what the user may see of it (an agency's own field work, complaints and refused contacts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.caselibrary import selectors as library_selectors
from fieldcollect.caselibrary import services as library_services
from fieldcollect.cases.access import has_capability
from fieldcollect.cases.models import Case, ContactAttempt, Note, Payment, PromiseToPay, Task
from fieldcollect.complaints import selectors as complaint_selectors
from fieldcollect.complaints import services as complaint_services
from fieldcollect.compliance import selectors as compliance_selectors
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.core.models import User
from fieldcollect.legal import services as legal_services
from fieldcollect.legal.models import REFERRAL_ACTIVE, LegalReferral, Letter
from fieldcollect.plans import selectors as plan_selectors
from fieldcollect.plans.models import Hardship, PlanAgreement
from fieldcollect.settlement.models import StatementLine
from fieldcollect.settlement.selectors import statements_visible_to
from fieldcollect.visits import selectors as visit_selectors
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, FeedbackRequest, VisitReport

TIMELINE_PAGE = 50
TIMELINE_MAX_PAGES = 40  # 2,000 events: older history is in the case's exports and audit log


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class HubLink:
    """One link of the hub: ``act`` links lead to a form the user may submit, the others to a page
    they may read."""

    key: str
    label: str
    url: str
    act: bool = False


@dataclass(frozen=True)
class HubGroup:
    key: str
    label: str
    links: list[HubLink] = field(default_factory=list)


def case_actions(*, case: Case, user: User) -> list[HubGroup]:
    """The links of the case page's hub for ``user`` (who may see ``case``), grouped; a link appears only
    when the target page lets the user read it, or, for an action, do it."""
    pk = case.pk
    is_open = case.closed_on is None
    page = reverse("cases:detail", args=[pk])
    visits_page = reverse("visits:case", args=[pk])
    options_page = reverse("plans:options", args=[pk])
    field_work = is_open and visit_selectors.can_do_field_work(user)

    contact = [
        HubLink("contact", _("Record a contact"), f"{page}#contact-form", act=True)
        if is_open and has_capability(user, "case.contact") else None,
        HubLink("promise", _("Record a promise to pay"), f"{page}#promise-form", act=True)
        if is_open and has_capability(user, "case.promise") else None,
        HubLink("payments", _("Payments"), f"{page}#payments"),
        HubLink("payment_links", _("Repayment links"), reverse("payments:case_links", args=[pk])),
    ]
    visits = [
        HubLink("visits", _("Appointments, check-ins and visit reports"), visits_page),
        HubLink("propose", _("Propose a visit"), f"{visits_page}#propose-form", act=True)
        if field_work else None,
        HubLink("checkin", _("Check in at the address"), reverse("visits:checkin", args=[pk]), act=True)
        if field_work else None,
        HubLink("report", _("Start the visit report"), f"{visits_page}#start-form", act=True)
        if field_work else None,
    ]
    plans = [
        HubLink("options", _("Restructuring options and proposals"), options_page),
        HubLink("hardship", _("Record the customer's hardship"), f"{options_page}#hardship-form", act=True)
        if plan_selectors.can_record_hardship(user, case) else None,
    ]
    complaints = [
        HubLink("complaint_new", _("File a complaint"), f"{reverse('complaints:new')}?case={pk}", act=True)
        if complaint_services.is_handler(user) else None,
        HubLink("feedback", _("Customer feedback"), reverse("complaints:feedback"))
        if complaint_selectors.can_view_complaints(user) else None,
    ]
    flags_page = reverse("compliance:case_flags", args=[pk])
    compliance = [
        HubLink("flags", _("Compliance flags and refused contacts"), flags_page)
        if compliance_selectors.can_view_case_flags(user) else None,
        HubLink("flag_add", _("Add a flag"), f"{flags_page}#flag-form", act=True)
        if compliance_selectors.can_view_case_flags(user) and compliance_services.can_report_flags(user) else None,
    ]
    library = [
        HubLink("library", _("Case library"), reverse("caselibrary:list"))
        if library_selectors.can_read(user) else None,
        HubLink("story_new", _("Write a library story from this case"),
                f"{reverse('caselibrary:new')}?case={pk}", act=True)
        if library_services.can_write_from_case(user, case) else None,
    ]
    legal_page = reverse("legal:case", args=[pk])
    may_contact = is_open and has_capability(user, "case.contact")
    legal = [
        HubLink("legal", _("Letters, legal and contact repair"), legal_page),
        HubLink("letter", _("Send a letter"), f"{legal_page}#letter-form", act=True) if may_contact else None,
        HubLink("alt_contact", _("Add an alternate contact"), f"{legal_page}#contact-form", act=True)
        if may_contact else None,
        HubLink("refer", _("Refer to litigation, arbitration or mediation"), f"{legal_page}#refer-form", act=True)
        if is_open and legal_services.can_manage_legal(user)
        and not LegalReferral.objects.filter(case_id=pk, status__in=REFERRAL_ACTIVE).exists() else None,
    ]
    held = case.agency_id is not None
    manage = [
        HubLink("note", _("Add a note"), f"{page}#note-form", act=True)
        if is_open and has_capability(user, "case.note") else None,
        HubLink("task", _("New task"), f"{page}#task-form", act=True)
        if is_open and has_capability(user, "case.task") else None,
        HubLink("assign", _("Assign to a collector"), f"{page}#assign-form", act=True)
        if is_open and held and has_capability(user, "case.assign") else None,
        HubLink("place", _("Place with an agency"), f"{page}#place-form", act=True)
        if is_open and not held and has_capability(user, "case.place") else None,
        HubLink("recall", _("Recall from the agency"), f"{page}#recall-form", act=True)
        if is_open and held and has_capability(user, "case.recall") else None,
        HubLink("close", _("Close the case"), f"{page}#close-form", act=True)
        if is_open and has_capability(user, "case.transition") else None,
    ]
    groups = [
        HubGroup("contact", _("Contacts, promises and payments"), [x for x in contact if x]),
        HubGroup("visits", _("Field visits"), [x for x in visits if x]),
        HubGroup("plans", _("Plans"), [x for x in plans if x]),
        HubGroup("complaints", _("Complaints and feedback"), [x for x in complaints if x]),
        HubGroup("compliance", _("Compliance"), [x for x in compliance if x]),
        HubGroup("library", _("Case library"), [x for x in library if x]),
        HubGroup("legal", _("Letters, legal and contact repair"), [x for x in legal if x]),
        HubGroup("manage", _("Case management"), [x for x in manage if x]),
    ]
    return [g for g in groups if g.links]


# ---------------------------------------------------------------- timeline


@dataclass(frozen=True)
class HubEvent:
    at: datetime
    kind: str
    obj: Any
    url: str = ""


@dataclass(frozen=True)
class TimelinePage:
    events: list[HubEvent]
    page: int
    has_more: bool

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_more else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def _aware(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime(value.year, value.month, value.day))


def hub_timeline(*, case: Case, user: User, page: int = 1, per_page: int = TIMELINE_PAGE) -> TimelinePage:
    """Every fact of ``case`` that ``user`` may see, newest first, one page of ``per_page``.

    Each kind is read with one query of at most ``page × per_page + 1`` rows (newest first), so the page
    costs a fixed number of queries whatever the history's length; pages are capped at
    :data:`TIMELINE_MAX_PAGES`."""
    page = max(1, min(page, TIMELINE_MAX_PAGES))
    n = page * per_page + 1
    pk = case.pk
    visits_page = reverse("visits:case", args=[pk])
    flags_page = reverse("compliance:case_flags", args=[pk])
    events: list[HubEvent] = [HubEvent(_aware(case.opened_on), "opened", case)]
    if case.closed_on:
        events.append(HubEvent(_aware(case.closed_on), "closed", case))

    def add(kind: str, rows: Any, at: Any, url: Any = None) -> None:
        for row in rows:
            when = at(row)
            if when is not None:
                events.append(HubEvent(_aware(when), kind, row, url(row) if url else ""))

    # the case's own records
    for p in case.placements.select_related("agency").order_by("-starts_on", "-id")[:n]:
        events.append(HubEvent(_aware(p.starts_on), "placement", p))
        if p.recalled_on:
            events.append(HubEvent(_aware(p.recalled_on), "recall", p))
    add("assignment", case.assignments.select_related("collector").order_by("-assigned_at", "-id")[:n],
        lambda a: a.assigned_at)
    add("contact", ContactAttempt.objects.filter(case=case).select_related("recorded_by")
        .order_by("-at", "-id")[:n], lambda c: c.at)
    add("promise", PromiseToPay.objects.filter(case=case).order_by("-created_at", "-id")[:n],
        lambda p: p.created_at)
    add("note", Note.objects.filter(case=case).select_related("author").order_by("-created_at", "-id")[:n],
        lambda x: x.created_at)
    add("payment", Payment.objects.filter(case=case).order_by("-paid_on", "-id")[:n], lambda p: p.paid_on,
        lambda p: f"{reverse('cases:detail', args=[pk])}#payments")
    add("task_done", Task.objects.filter(case=case, status=Task.Status.DONE, completed_at__isnull=False)
        .order_by("-completed_at", "-id")[:n], lambda t: t.completed_at)

    # field work: the bank sees all of it, an agency its own
    own = visit_selectors.own_field_work_q(user)
    add("appointment", Appointment.objects.filter(case=case).filter(own).select_related("collector")
        .order_by("-created_at", "-id")[:n], lambda a: a.created_at, lambda a: f"{visits_page}#appointments")
    add("checkin", CheckIn.objects.filter(case=case).filter(own).select_related("collector")
        .order_by("-at", "-id")[:n], lambda c: c.at, lambda c: f"{visits_page}#checkins")
    add("visit_report", VisitReport.objects.filter(case=case).filter(own).select_related("collector")
        .order_by("-created_at", "-id")[:n], lambda r: r.closed_at or r.created_at,
        lambda r: reverse("visits:report", args=[r.pk]))
    add("evidence", Evidence.objects.filter(report__case=case).filter(visit_selectors.own_field_work_q(
        user, agency_field="report__collector__agency_id")).order_by("-uploaded_at", "-id")[:n],
        lambda e: e.uploaded_at, lambda e: reverse("visits:report", args=[e.report_id]) + "#evidence")
    add("feedback", FeedbackRequest.objects.filter(case=case, responded_at__isnull=False).filter(
        visit_selectors.own_field_work_q(user, agency_field="agency_id")).order_by("-responded_at", "-id")[:n],
        lambda f: f.responded_at,
        lambda f: reverse("visits:report", args=[f.report_id]) if f.report_id else "")

    # plans
    add("hardship", Hardship.objects.filter(case=case).order_by("-recorded_at", "-id")[:n],
        lambda h: h.recorded_at, lambda h: reverse("plans:options", args=[pk]))
    add("proposal", plan_selectors.proposals_visible_to(user).filter(case=case).order_by("-proposed_at", "-id")[:n],
        lambda p: p.proposed_at, lambda p: reverse("plans:detail", args=[p.pk]))
    add("agreement", PlanAgreement.objects.filter(proposal__in=plan_selectors.proposals_visible_to(user)
                                                  .filter(case=case)).defer("pdf")
        .order_by("-issued_at", "-id")[:n], lambda a: a.accepted_at or a.declined_at or a.issued_at,
        lambda a: reverse("plans:detail", args=[a.proposal_id]))

    # commission on the case's payments (the statements the user may see)
    # (through the case's payments: a statement line's case_id has no index of its own)
    add("settlement", StatementLine.objects.filter(payment__in=Payment.objects.filter(case=case).values("pk"),
                                                   statement__in=statements_visible_to(user))
        .select_related("statement").order_by("-paid_on", "-id")[:n], lambda x: x.paid_on,
        lambda x: reverse("settlement:detail", args=[x.statement_id]))

    # complaints, flags, refused contacts, stories
    add("complaint", complaint_selectors.complaints_visible_to(user).filter(case=case)
        .order_by("-received_at", "-id")[:n], lambda c: c.received_at,
        lambda c: reverse("complaints:detail", args=[c.pk]))
    if compliance_selectors.can_view_case_flags(user):
        add("flag", DebtorFlag.objects.filter(customer_id=case.customer_id).order_by("-starts_at", "-id")[:n],
            lambda f: f.starts_at, lambda f: f"{flags_page}#flag-{f.pk}")
        add("blocked", compliance_selectors.blocked_attempts_of_case(case_id=pk, user=user)
            .order_by("-at", "-id")[:n], lambda b: b.at, lambda b: f"{flags_page}#blocked")
    # letters (every role that sees the case), legal referrals (bank staff)
    legal_page = reverse("legal:case", args=[pk])
    add("letter", Letter.objects.filter(case=case).order_by("-sent_at", "-id")[:n], lambda x: x.sent_at,
        lambda x: f"{legal_page}#letters")
    if legal_services.can_view_legal(user):
        add("legal", LegalReferral.objects.filter(case=case).order_by("-referred_on", "-id")[:n],
            lambda r: r.referred_on, lambda r: reverse("legal:referral", args=[r.pk]))
    add("story", library_selectors.stories_visible_to(user).filter(case=case).order_by("-created_at", "-id")[:n],
        lambda s: s.created_at, lambda s: reverse("caselibrary:detail", args=[s.pk]))

    events.sort(key=lambda e: e.at, reverse=True)
    start = (page - 1) * per_page
    has_more = len(events) > page * per_page and page < TIMELINE_MAX_PAGES
    return TimelinePage(events=events[start:start + per_page], page=page, has_more=has_more)

