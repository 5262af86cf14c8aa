"""A working collections department, one business day at a time, played through the services.

:func:`fieldcollect.demodata.demo.build_demo` calls :meth:`Department.play_day` for every business
day after the first nightly cycle, then the nightly cycle of the day. A day of each agency's field
team (the agency's demo collector and a colleague of the same city):

* morning: the agency's manager assigns new cases of the team's city to the collector, sets both
  shifts, pairs the team and plans the day (the published route plan);
* the team visits the customers whose appointment is today: check-in (positions in WGS-84, GCJ-02
  or BD-09 as Chinese phones report them; a few with spoofing signs: repeated coordinates, a
  position far from the address), the visit under the compliance engine,
  evidence (a short generated recording and photo), the report with its outcome — a promise, a
  payment, hardship (a restructuring proposal through maker-checker), a refusal, nobody home...;
* the collector calls and texts other cases through the compliance engine (some calls are refused:
  late in the evening, too many calls), records promises, and proposes visit windows; the customers
  answer through their link (confirm, suggest another time, decline); only cases whose debtor was sent
  the notice before outsourcing (the outbox sends the placements' notices every morning, weekends
  too) and whose waiting days have passed are called or visited;
* the customers answer the feedback link of their visit (some unhappy; some of those complain);
* the bank: approves, offers restructuring plans (the customers accept or decline through their
  link), retains and recalls placements, handles complaints (one critical complaint pauses all
  contact with the customer until it is resolved), issues the monthly commission statements;
  managers write case-library stories from closed cases.

Customers who promised or were visited pay (or not) by a seeded draw: their payments go into the book
of record through later exports (:func:`fieldcollect.demodata.generator.write_payments_export`), which
the nightly cycle reads like every other payment.

The services read the time from ``django.utils.timezone.now``: :class:`SimClock` sets it to the
simulated moment of each step, so the records carry the simulated times and the run does not depend
on the wall clock (same seed, same book).
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import tempfile
import wave
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.caselibrary import services as library_services
from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import cases_held_by
from fieldcollect.cases.models import Case, ContactAttempt, Payment, Placement, PromiseToPay
from fieldcollect.complaints import services as complaint_services
from fieldcollect.complaints.models import Category, Complaint, Finding, RootCause, Severity, Source
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.services import NOTICE_KIND
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.demodata.generator import write_payments_export
from fieldcollect.demodata.legal import demo_legal
from fieldcollect.demodata.ops import demo_agency_operations
from fieldcollect.demodata.payments import demo_payments
from fieldcollect.demodata.qa import seed_quality_inspection
from fieldcollect.demodata.settlement_ops import settlement_ops_demo
from fieldcollect.demodata.setup import demo_partner
from fieldcollect.optimisation import coords
from fieldcollect.outbox.services import outbox_dispatch
from fieldcollect.plans import services as plan_services
from fieldcollect.plans.models import OPEN_STATES, ProposalState, RestructuringProposal
from fieldcollect.portfolio.services import ingest_export
from fieldcollect.settlement import services as settlement_services
from fieldcollect.settlement.models import Statement
from fieldcollect.visits import services as visit_services
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    FeedbackRequest,
    RoutePlan,
    VisitOutcome,
    VisitReport,
)

VISIT_HOURS = ((10, 12), (14, 16))  # the windows a collector proposes, local time
CASELOAD = 14  # open cases of the team's city the manager keeps assigned to the demo collector


# ---------------------------------------------------------------- the simulated clock


class SimClock:
    """Sets ``django.utils.timezone.now`` (which the services, ``auto_now`` fields and
    ``timezone.localdate`` read) to a chosen moment while :meth:`running`."""

    def __init__(self) -> None:
        self.moment = datetime(2000, 1, 1, tzinfo=UTC)

    def set(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    def now(self) -> datetime:
        return self.moment

    @contextmanager
    def running(self) -> Iterator[SimClock]:
        real = timezone.now
        timezone.now = self.now  # type: ignore[assignment]
        try:
            yield self
        finally:
            timezone.now = real  # type: ignore[assignment]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def business_days(last: date, n: int) -> list[date]:
    """The ``n`` business days (Monday to Friday) ending on ``last`` (moved back to a Friday when
    ``last`` falls on a weekend)."""
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    out = [last]
    day = last
    while len(out) < n:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            out.append(day)
    return out[::-1]


# ---------------------------------------------------------------- generated evidence


def recording_file(n: int) -> bytes:
    """A short WAV recording (0.25 s, 8 kHz), different for every ``n``."""
    rng = random.Random(n)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(128 + rng.randint(-20, 20) for _ in range(2000)))
    return buf.getvalue()


def photo_file(n: int) -> bytes:
    """A small PNG (16 × 12 pixels, RGB), different for every ``n``."""
    rng = random.Random(n)
    width, height = 16, 12
    raw = b"".join(b"\x00" + bytes(rng.randint(90, 200) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- the department


@dataclass
class FieldTeam:
    agency: Agency
    manager: User
    user: User
    collector: Collector
    partner: Collector


@dataclass
class Department:
    """The people of the demo and what they remember between days (tokens the customers hold, the
    payments they will make)."""

    seed: int
    next_payment_id: int
    clock: SimClock = field(default_factory=SimClock)
    tally: Counter[str] = field(default_factory=Counter)
    teams: list[FieldTeam] = field(default_factory=list)
    bank: User | None = None
    compliance: User | None = None
    appointment_tokens: dict[int, str] = field(default_factory=dict)
    offers: list[tuple[date, str, bool]] = field(default_factory=list)
    pending_payments: list[tuple[int, int, date, int]] = field(default_factory=list)
    open_complaints: list[tuple[date, int]] = field(default_factory=list)
    critical_complaint: int | None = None
    visit_no: int = 0
    previous_day: date = date.min
    critical_at: int = 11  # the business day (index in the period) of the critical complaint
    proposal_weeks: set[tuple[int, int]] = field(default_factory=set)
    outbox_day: date = date.min  # the last day the outbox sent the notices before outsourcing
    answers: int = 0  # appointment links answered by the customers
    feedbacks: int = 0  # feedback links answered
    hardship_due: bool = False  # the next visit to a customer not about to pay finds hardship

    # ------------------------------------------------------------ set-up

    def start(self) -> None:
        """Find the demo's people (made by :func:`fieldcollect.demodata.setup.setup_demo_users_and_placements`)."""
        self.bank = User.objects.get(username="manager")
        self.compliance = User.objects.get(username="compliance")
        for agency in Agency.objects.filter(status=Agency.Status.APPROVED).order_by("agency_id"):
            manager = User.objects.filter(username=f"agency{agency.pk}_manager").first()
            user = User.objects.filter(username=f"agency{agency.pk}_collector").first()
            collector = Collector.objects.filter(user=user).first() if user else None
            if manager is None or user is None or collector is None:
                continue
            partner = demo_partner(collector=collector, as_of=timezone.localdate())
            self.teams.append(
                FieldTeam(agency=agency, manager=manager, user=user, collector=collector, partner=partner)
            )
        self.outbox_day = timezone.localdate()

    def rng(self, day: date, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{day.isoformat()}:{what}")

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.clock.set(local(day, hour, minute))

    def _try(self, what: str, service: Callable[..., Any], **kwargs: Any) -> Any:
        """Call ``service(**kwargs)``; a refusal (compliance, state) is part of the operation: counted,
        not raised."""
        try:
            result = service(**kwargs)
        except ApplicationError as exc:
            self.tally[f"refused {what}: {exc.code}"] += 1
            return None
        self.tally[what] += 1
        return result

    # ------------------------------------------------------------ a business day

    def play_day(self, day: date, *, index: int, last: bool) -> None:
        """The day's work before the nightly cycle of ``day``."""
        assert self.bank is not None and self.compliance is not None
        self._notices(day)
        self._bank_morning(day, index=index)
        for team in self.teams:
            self._team_day(team, day, full=last or (index + team.agency.pk) % 2 == 0)
        self._customers_evening(day)
        self._bank_afternoon(day, index=index, last=last)
        if last:  # tomorrow's teams and route plans are published tonight: the collectors' "today"
            for team in self.teams:
                self._plan_day(team, next_business_day(day), at=local(day, 18, 30))

    def _notices(self, day: date) -> None:
        """The outbox sends the notices before outsourcing that the placements queued (the demo's SMS
        adapter, after each text's compliance check in the debtor's local time) every morning at 09:00,
        weekends too: the agencies' contacts on a case start once its notice was sent and the pack's
        waiting days have passed (each contact is checked; the teams pick cases that are ready)."""
        first = self.outbox_day + timedelta(days=1) if self.outbox_day != date.min else day
        self.send_notices(first=first, last=day)

    def send_notices(self, *, first: date, last: date) -> None:
        """The outbox's 09:00 run of each day from ``first`` to ``last`` (the clock is left there)."""
        d = first
        while d <= last:
            now = self.at(d, 9, 0)
            for _batch in range(1000):  # bounded: each batch sends, holds or ends messages
                sent = outbox_dispatch(now=now, limit=2000, kinds=(NOTICE_KIND,))
                self.tally["notice before outsourcing sent"] += sent["sent"]
                if sent["sent"] + sent["retry"] + sent["failed"] + sent["cancelled"] == 0:
                    break
            d += timedelta(days=1)
        self.outbox_day = max(self.outbox_day, last)

    def _ready(self, t: FieldTeam, cases: list[Case], day: date) -> list[Case]:
        """``cases`` on which the notice before outsourcing no longer holds back ``t``'s agency on ``day``
        (the waiting days end at a local midnight), in their order."""
        ready = compliance_services.notice_ready_cases(cases=cases, agency_id=t.agency.pk, at=local(day, 12))
        return [c for c in cases if c.pk in ready]

    def _bank_morning(self, day: date, *, index: int) -> None:
        assert self.bank is not None
        rng = self.rng(day, "bank")
        self.at(day, 9, 0)
        if self.previous_day != date.min and day.month != self.previous_day.month:  # last month's statements
            self._statements(self.previous_day.replace(day=1), issue=True)
        self.previous_day = day
        # placements ending within the month where the agency is getting somewhere: some are kept (留案)
        ending = (
            Placement.objects.filter(
                status=Placement.Status.ACTIVE,
                retained_count=0,
                ends_on__gte=day,
                ends_on__lte=day + timedelta(days=30),
                case__promises__isnull=False,
            )
            .select_related("case")
            .order_by("ends_on", "pk")
            .distinct()
        )
        for i, placement in enumerate(ending[:10]):
            if (i == 0 and index % 5 == 1) or rng.random() < 0.2:  # at least one a week
                self._try(
                    "placement retained",
                    case_services.placement_retain,
                    case=placement.case,
                    acting_user=self.bank,
                )
        # a recall a week: a case the bank takes back (dispute, deceased, sold...)
        if index % 5 == 2:
            active = list(
                Placement.objects.filter(status=Placement.Status.ACTIVE)
                .exclude(case__in=RestructuringProposal.objects.filter(state__in=OPEN_STATES).values("case"))
                .order_by("pk")
                .values_list("case_id", flat=True)[:400]
            )  # not a case whose restructuring is under way
            if active:
                case = Case.objects.get(pk=rng.choice(active))
                self._try(
                    "case recalled",
                    case_services.case_recall,
                    case=case,
                    reason=rng.choice(["客户提出异议，银行核实中", "客户已委托律师", "银行内部催收"]),
                    acting_user=self.bank,
                    on=day,
                )

    def _statements(self, month: date, *, issue: bool) -> None:
        for team in self.teams:
            statement = self._try(
                "commission statement",
                settlement_services.statement_generate,
                agency=team.agency,
                month=month,
                acting_user=self.bank,
            )
            if statement is not None and issue and statement.line_count:
                self._try(
                    "commission statement issued",
                    settlement_services.statement_issue,
                    statement=statement,
                    acting_user=self.bank,
                )

    # ------------------------------------------------------------ the field team

    def _team_day(self, t: FieldTeam, day: date, *, full: bool) -> None:
        rng = self.rng(day, f"team{t.agency.pk}")
        self.at(day, 8, 30)
        held = cases_held_by(agency_id=t.agency.pk, today=day)
        mine = held.filter(collector=t.collector, city=t.collector.city).count()
        if mine < CASELOAD:
            for case in held.filter(collector__isnull=True, city=t.collector.city).order_by("-dpd", "pk")[
                : CASELOAD - mine
            ]:
                self._try(
                    "case assigned",
                    case_services.case_assign,
                    case=case,
                    collector=t.collector,
                    acting_user=t.manager,
                )
        today_visits = list(
            Appointment.objects.filter(
                collector=t.collector,
                status=Appointment.Status.CONFIRMED,
                chosen_start__gte=local(day, 0),
                chosen_start__lt=local(day + timedelta(days=1), 0),
                case__closed_on__isnull=True,
            ).order_by("chosen_start", "pk")
        )
        if today_visits or full:
            self._plan_day(t, day)
        for appointment in today_visits:
            self._visit(t, appointment, rng)
        if full:
            self._calls(t, day, rng)
            self._propose(t, day, rng)

    def _plan_day(self, t: FieldTeam, day: date, *, at: datetime | None = None) -> None:
        """The manager sets both shifts, pairs the team and plans (publishes) its day: in the morning of
        ``day``, or at ``at`` (the evening before)."""
        self.clock.set(at or local(day, 8, 40))
        for c in (t.collector, t.partner):
            self._try(
                "shift",
                visit_services.shift_set,
                collector=c,
                day=day,
                start=time(9, 0),
                end=time(18, 0),
                acting_user=t.manager,
            )
        team = visit_services.team_of(collector_id=t.collector.pk, day=day) or self._try(
            "team",
            visit_services.team_create,
            member_a=t.collector,
            member_b=t.partner,
            day=day,
            acting_user=t.manager,
        )
        if team is not None:
            self.clock.set((at or local(day, 8, 40)) + timedelta(minutes=10))
            self._try(
                "route plan",
                visit_services.route_plan_build,
                team=team,
                acting_user=t.manager,
                time_limit=0.5,
                max_iterations=60,
            )

    def _visit(self, t: FieldTeam, appointment: Appointment, rng: random.Random) -> None:
        case = appointment.case
        customer = case.customer
        assert appointment.chosen_start is not None
        arrive = self.clock.set(appointment.chosen_start + timedelta(minutes=rng.randint(0, 25)))
        self.visit_no += 1
        lat = (customer.lat or 0.0) + rng.uniform(-0.0004, 0.0004)
        lon = (customer.lon or 0.0) + rng.uniform(-0.0004, 0.0004)
        # a few check-ins with spoofing signs (about one in twenty)
        earlier = CheckIn.objects.filter(collector=t.collector).order_by("pk").first()
        repeated = self.visit_no % 17 == 5 and earlier is not None
        if repeated:  # the phone reports the coordinates of an earlier check-in, exactly
            assert earlier is not None
            lat, lon = earlier.lat, earlier.lon
        elif self.visit_no % 19 == 7:  # a position far from the address (a mock-location app, the wrong door)
            lat += 0.03
        # phones and map apps in mainland China report GCJ-02 (Amap, Tencent) or BD-09 (Baidu)
        system = "wgs84" if repeated else rng.choice(["wgs84", "gcj02", "gcj02", "bd09"])
        if system == "gcj02":
            lat, lon = coords.wgs84_to_gcj02(lat, lon)
        elif system == "bd09":
            lat, lon = coords.gcj02_to_bd09(*coords.wgs84_to_gcj02(lat, lon))
        self._try(
            "check-in",
            visit_services.checkin_record,
            case=case,
            acting_user=t.user,
            lat=round(lat, 6),
            lon=round(lon, 6),
            accuracy_m=float(rng.randint(5, 40)),
            at=arrive,
            appointment=appointment,
            coord_system=system,
        )
        report = self._try(
            "visit started",
            visit_services.report_start,
            case=case,
            acting_user=t.user,
            recording=True,
            at=arrive,
        )
        if report is None:
            return
        for name, content in (
            ("recording.wav", recording_file(self.seed * 1_000_003 + self.visit_no)),
            ("door.png", photo_file(self.seed * 1_000_033 + self.visit_no)),
        ):
            self._try(
                "evidence",
                visit_services.evidence_add,
                report=report,
                acting_user=t.user,
                stream=io.BytesIO(content),
                name=name,
            )
        outcome = rng.choices(
            [
                VisitOutcome.PROMISE,
                VisitOutcome.PAID,
                VisitOutcome.HARDSHIP,
                VisitOutcome.REFUSED,
                VisitOutcome.NOT_HOME,
                VisitOutcome.THIRD_PARTY_MET,
                VisitOutcome.DISPUTE,
                VisitOutcome.MOVED,
            ],
            weights=[34, 10, 12, 12, 16, 8, 4, 4],
        )[0]
        # at least one visit in four finds hardship (a short period shows a restructuring through to the
        # customer's answer): at the next visit to a customer who is not about to pay (a promise open or a
        # payment on its way)
        if self.visit_no % 4 == 2:
            self.hardship_due = True
        paying = case.loan_id in {loan for _n, loan, _on, _amount in self.pending_payments} or (
            PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.OPEN).exists()
        )
        if self.hardship_due and not paying:
            outcome, self.hardship_due = VisitOutcome.HARDSHIP, False
        end = self.clock.set(arrive + timedelta(minutes=rng.randint(20, 45)))
        day = end.astimezone(timezone.get_default_timezone()).date()
        promise: dict[str, Any] = {}
        if outcome == VisitOutcome.PROMISE:
            promise = {
                "promise_amount_fen": max(case.overdue_fen, 10_000),
                "promise_due_on": day + timedelta(days=rng.randint(2, 7)),
            }
        notes = {
            VisitOutcome.PROMISE: "客户承认欠款，承诺按期还款。",
            VisitOutcome.PAID: "客户当场通过银行官方渠道还款。",
            VisitOutcome.HARDSHIP: "客户失业，收入下降，希望调整还款计划。",
            VisitOutcome.REFUSED: "客户拒绝还款。",
            VisitOutcome.NOT_HOME: "无人在家，已留言。",
            VisitOutcome.THIRD_PARTY_MET: "见到客户家属，未透露欠款详情。",
            VisitOutcome.DISPUTE: "客户对欠款金额有异议。",
            VisitOutcome.MOVED: "邻居称客户已搬走。",
        }[outcome]
        closed = self._try(
            f"visit report ({outcome})",
            visit_services.report_close,
            report=report,
            acting_user=t.user,
            outcome=outcome,
            notes=notes,
            now=end,
            **promise,
        )
        if closed is None:
            return
        _report, token = closed
        if outcome == VisitOutcome.PROMISE and rng.random() < 0.7:
            due = promise["promise_due_on"]
            self._pay(
                case,
                amount=promise["promise_amount_fen"],
                on=due - timedelta(days=rng.randint(0, 2)),
                after=day,
            )
        elif outcome == VisitOutcome.PAID:
            self._pay(case, amount=max(case.overdue_fen, 10_000), on=day, after=day - timedelta(days=1))
        elif outcome == VisitOutcome.HARDSHIP:
            self._hardship(t, case, end, rng)
        self._feedback(token, outcome, end, rng)

    def _pay(self, case: Case, *, amount: int, on: date, after: date) -> None:
        """The customer pays: a payment in the bank's next export."""
        self.pending_payments.append(
            (self.next_payment_id, case.loan_id, max(on, after + timedelta(days=1)), amount)
        )
        self.next_payment_id += 1

    def _hardship(self, t: FieldTeam, case: Case, at: datetime, rng: random.Random) -> None:
        income = rng.randint(20, 60) * 10_000
        hardship = self._try(
            "hardship",
            plan_services.hardship_record,
            case=case,
            acting_user=t.user,
            reason=rng.choice(["job_loss", "income_cut", "illness", "business"]),
            monthly_income_fen=income,
            monthly_expenses_fen=income + rng.randint(-5, 15) * 10_000,
            detail="上门时客户说明情况",
            at=at,
        )
        if hardship is None:
            return
        day = at.astimezone(timezone.get_default_timezone()).date()
        week = day.isocalendar()[:2]
        if week in self.proposal_weeks:  # a plan proposal a week (the agreement PDF takes a while to render)
            return
        proposal = None
        for kind in ("term_extension", "lower_instalment", "payment_holiday"):
            proposal = self._try(
                "restructuring proposal",
                plan_services.plan_propose,
                case=case,
                acting_user=t.user,
                kind=kind,
                as_of=day,
                note="客户收入下降",
                at=at + timedelta(minutes=5),
            )
            if proposal is not None:
                break
        if proposal is None:
            return
        self.proposal_weeks.add(week)
        endorsed = self._try(
            "proposal endorsed",
            plan_services.plan_endorse,
            proposal=proposal,
            acting_user=t.manager,
            endorse=rng.random() < 0.9,
            at=local(day, 17, 30),
        )
        if endorsed is not None:
            self.clock.set(local(day, 17, 30))

    def _calls(self, t: FieldTeam, day: date, rng: random.Random) -> None:
        """Phone calls and text messages to the collector's other cases, through the compliance engine."""
        held = cases_held_by(agency_id=t.agency.pk, collector_id=t.collector.pk, today=day)
        cases = self._ready(
            t, list(held.filter(closed_on__isnull=True).select_related("customer", "loan").order_by("pk")[:40]), day
        )
        rng.shuffle(cases)
        for case in cases[:4]:
            hour = rng.choice([9, 10, 11, 14, 15, 16, 19, 22])  # 22:xx is outside the contact hours
            at = self.at(day, hour, rng.randint(0, 50))
            outcome = rng.choices(
                ["no_answer", "promise", "callback", "refused", "wrong_number", "hardship"],
                weights=[35, 25, 15, 12, 5, 8],
            )[0]
            contact = self._try(
                f"phone call ({outcome})",
                case_services.contact_record,
                case=case,
                acting_user=t.user,
                channel="phone",
                outcome=outcome,
                at=at,
                connected=outcome != "no_answer",
                conversation=outcome in {"promise", "refused", "hardship"},
                notes="电话联系",
            )
            if contact is None:
                continue
            if outcome == "promise":
                due = day + timedelta(days=rng.randint(2, 8))
                amount = max(case.overdue_fen, 10_000)
                promise = self._try(
                    "promise",
                    case_services.promise_record,
                    case=case,
                    acting_user=t.user,
                    amount_fen=amount,
                    due_on=due,
                    contact=contact,
                )
                if promise is not None and rng.random() < 0.6:
                    self._pay(
                        case,
                        amount=amount if rng.random() < 0.85 else amount // 2,
                        on=due - timedelta(days=rng.randint(0, 3)),
                        after=day,
                    )
        for case in cases[4:6]:
            at = self.at(day, rng.choice([10, 15, 22]), rng.randint(0, 50))
            self._try(
                "text message",
                case_services.contact_record,
                case=case,
                acting_user=t.user,
                channel="sms",
                outcome="no_answer",
                at=at,
                notes="还款提醒短信",
            )

    def _propose(self, t: FieldTeam, day: date, rng: random.Random) -> None:
        """Windows on the next business days for cases without an open appointment."""
        busy = Appointment.objects.filter(
            collector=t.collector,
            status__in=[Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED],
            expires_at__gt=local(day, 12),
        ).values("case_id")
        cases = self._ready(
            t,
            list(
                cases_held_by(agency_id=t.agency.pk, collector_id=t.collector.pk, today=day)
                .filter(closed_on__isnull=True, city=t.collector.city)
                .exclude(pk__in=busy)
                .select_related("customer", "loan")
                .order_by("-dpd", "pk")
            ),
            day,
        )[:3]
        visit_day = next_business_day(next_business_day(day))
        for i, case in enumerate(cases):
            at = self.at(day, 11, 10 + i)
            windows = [(local(visit_day, h0), local(visit_day, h1)) for h0, h1 in VISIT_HOURS]
            if i == 1:
                windows = windows[::-1][:1]
            made = self._try(
                "appointment proposed",
                visit_services.appointment_propose,
                case=case,
                acting_user=t.user,
                windows=windows,
                now=at,
            )
            if made is not None:
                self.appointment_tokens[made[0].pk] = made[1]

    # ------------------------------------------------------------ the customers

    def _customers_evening(self, day: date) -> None:
        """Customers answer their appointment links and restructuring offers."""
        rng = self.rng(day, "customers")
        for pk in sorted(self.appointment_tokens):
            token = self.appointment_tokens.pop(pk)
            at = self.at(day, 19, rng.randint(0, 50))
            try:
                appointment = visit_services.appointment_from_token(token, now=at)
            except ApplicationError as exc:
                self.tally[f"refused appointment link: {exc.code}"] += 1
                continue
            draw = rng.random()
            # at least one customer in eight moves the visit and one declines it (a short period shows both)
            n, self.answers = self.answers, self.answers + 1
            if n % 8 == 3:
                draw = 0.75
            elif n % 8 == 6:
                draw = 0.9
            if draw < 0.7:
                self._try(
                    "appointment confirmed",
                    visit_services.appointment_confirm,
                    appointment=appointment,
                    window=0,
                    now=at,
                )
            elif draw < 0.85:
                windows = visit_services.appointment_windows(appointment)
                start = windows[0][0] + timedelta(hours=1, minutes=30)
                self._try(
                    "appointment moved by the customer",
                    visit_services.appointment_suggest,
                    appointment=appointment,
                    start=start,
                    now=at,
                )
            else:
                self._try(
                    "appointment declined",
                    visit_services.appointment_decline,
                    appointment=appointment,
                    reason="工作日不在家",
                    now=at,
                )
        keep = []
        for offered_on, token, accepts in self.offers:
            if offered_on >= day:
                keep.append((offered_on, token, accepts))
                continue
            at = self.at(day, 20, rng.randint(0, 50))
            if accepts:
                self._try("plan accepted", plan_services.plan_accept, token=token, now=at)
            else:
                self._try(
                    "plan declined",
                    plan_services.plan_decline,
                    token=token,
                    reason="还款压力仍然太大",
                    now=at,
                )
        self.offers = keep

    def _feedback(self, token: str, outcome: str, at: datetime, rng: random.Random) -> None:
        if rng.random() > 0.55:
            return
        moment = self.clock.set(at + timedelta(hours=rng.randint(1, 5)))
        try:
            feedback = visit_services.feedback_from_token(token, now=moment)
        except ApplicationError as exc:
            self.tally[f"refused feedback link: {exc.code}"] += 1
            return
        unhappy = rng.random() < (0.25 if outcome in {VisitOutcome.REFUSED, VisitOutcome.DISPUTE} else 0.08)
        n, self.feedbacks = self.feedbacks, self.feedbacks + 1
        unhappy = unhappy or n % 6 == 1  # at least one answer in six is unhappy (a short period shows one)
        rating = rng.randint(1, 2) if unhappy else rng.choice([4, 5, 5])
        done = self._try(
            "feedback",
            visit_services.feedback_respond,
            feedback=feedback,
            rating=rating,
            comment="催收员态度恶劣，说话很凶" if unhappy else "态度很好，解释清楚",
            polite=not unhappy,
            clear=True,
            privacy_respected=not unhappy or rng.random() < 0.5,
            felt_threatened=unhappy and rng.random() < 0.4,
            now=moment,
        )
        if done is not None and unhappy and rng.random() < 0.5:
            complaint = self._try(
                "complaint (feedback link)",
                complaint_services.complaint_file_from_feedback,
                feedback=done,
                category=Category.HARASSMENT,
                description="上门人员态度恶劣，我感到被威胁。",
                now=moment + timedelta(minutes=10),
            )
            if complaint is not None:
                self.open_complaints.append((moment.date(), complaint.pk))

    # ------------------------------------------------------------ the bank in the afternoon

    def _bank_afternoon(self, day: date, *, index: int, last: bool) -> None:
        assert self.bank is not None and self.compliance is not None
        rng = self.rng(day, "bank-afternoon")
        # restructuring proposals endorsed by the agencies: decided by the bank, then offered
        for p in RestructuringProposal.objects.filter(
            state=ProposalState.ENDORSED, endorsed_at__lt=local(day, 0)
        ).order_by("pk"):
            at = self.at(day, 15, 0)
            decided = self._try(
                "proposal decided",
                plan_services.plan_decide,
                proposal=p,
                acting_user=self.bank,
                decision="approve" if rng.random() < 0.85 else "reject",
                note="符合困难客户政策",
                at=at,
            )
            if decided is not None and decided.state == ProposalState.APPROVED:
                offer = self._try(
                    "plan offered",
                    plan_services.plan_offer,
                    proposal=decided,
                    acting_user=self.bank,
                    at=at + timedelta(minutes=20),
                )
                if offer is not None:
                    self.offers.append((day, offer.token, rng.random() < 0.8))
        # a hotline complaint now and then; in the third week, a critical one from the regulator
        critical = index >= self.critical_at and self.critical_complaint is None
        if index % 7 == 3 or critical:
            self._hotline_complaint(day, rng, critical=critical)
        self._handle_complaints(day, rng)
        # stories for the case library from cases closed lately
        if index % 5 == 4 or last:
            self._story(day, rng)
        if last:
            self._statements(day.replace(day=1), issue=False)
            # the last day's desk work: a week of quality inspection (recordings, the queue, reviews), the
            # letters and a legal matter, and payments that came in by link during the day
            self.at(day, 16, 0)
            self.tally.update({f"qa {k}": v for k, v in seed_quality_inspection(as_of=day).items()})
            self.at(day, 16, 30)
            self.tally.update({f"legal {k}": v for k, v in demo_legal(day=day, seed=index).items()
                               if isinstance(v, int)})
            paid = demo_payments(now=self.at(day, 17, 0))
            self.tally["payments by link"] += int(paid["payments"].get("applied", 0))
            # an agency's day of work results imported from its dialler (催记), and the contract, invoice
            # and batch desk: penalty terms approved, a clawback, invoices, a recall batch waiting
            imported = demo_agency_operations(now=self.at(day, 17, 30))
            self.tally["results imported"] += int((imported.get("first") or {}).get("applied", 0) or 0)
            self.tally.update({f"settlement {k}": v for k, v in settlement_ops_demo(as_of=day).items()})

    def _hotline_complaint(self, day: date, rng: random.Random, *, critical: bool) -> None:
        visited = list(
            VisitReport.objects.filter(status=VisitReport.Status.CLOSED, case__closed_on__isnull=True)
            .order_by("-pk")
            .values_list("case_id", flat=True)[:30]
        )
        if not visited:
            return
        case = Case.objects.select_related("customer").get(pk=rng.choice(visited))
        at = self.at(day, 14, rng.randint(0, 50))
        complaint = self._try(
            "complaint (critical)" if critical else "complaint (hotline)",
            complaint_services.complaint_create,
            source=Source.REGULATOR if critical else Source.HOTLINE,
            customer=case.customer,
            case=case,
            agency=case.agency,
            collector=case.collector,
            category=Category.THREATS
            if critical
            else rng.choice([Category.FEES, Category.DISPUTE, Category.PRIVACY]),
            description="客户向监管投诉：催收人员多次上门并威胁家人。"
            if critical
            else "客户来电投诉催收方式。",
            acting_user=self.compliance,
            severity=Severity.CRITICAL if critical else Severity.MEDIUM,
            regulator_reference=f"REG-{day:%Y%m%d}-{case.pk}" if critical else "",
            received_at=at,
            now=at,
        )
        if complaint is None:
            return
        if critical:
            self.critical_complaint = complaint.pk
        self.open_complaints.append((day, complaint.pk))

    def _handle_complaints(self, day: date, rng: random.Random) -> None:
        assert self.compliance is not None
        keep = []
        for received, pk in self.open_complaints:
            complaint = Complaint.objects.get(pk=pk)
            age = len(
                [d for d in range((day - received).days) if (received + timedelta(days=d + 1)).weekday() < 5]
            )
            at = self.at(day, 16, 0)
            if complaint.acknowledged_at is None:
                self._try(
                    "complaint acknowledged",
                    complaint_services.complaint_acknowledge,
                    complaint=complaint,
                    acting_user=self.compliance,
                    now=at,
                )
                complaint.refresh_from_db()
            critical = pk == self.critical_complaint
            if age >= 2 and complaint.agency_id and not complaint.agency_response:
                manager = next((t.manager for t in self.teams if t.agency.pk == complaint.agency_id), None)
                if manager is not None:
                    self._try(
                        "complaint answered by the agency",
                        complaint_services.complaint_agency_respond,
                        complaint=complaint,
                        response="已约谈催收员，暂停其上门工作并重新培训。",
                        acting_user=manager,
                        now=at + timedelta(minutes=10),
                    )
            if age >= (6 if critical else 4):
                resolved = self._try(
                    "complaint resolved",
                    complaint_services.complaint_resolve,
                    complaint=complaint,
                    acting_user=self.compliance,
                    finding=Finding.UPHELD if critical or rng.random() < 0.4 else Finding.NOT_UPHELD,
                    root_cause=RootCause.COLLECTOR_CONDUCT
                    if critical
                    else rng.choice(
                        [RootCause.MISUNDERSTANDING, RootCause.NO_FAULT, RootCause.AGENCY_PROCESS]
                    ),
                    resolution="已向客户致歉并说明处理结果。",
                    remedy="暂停该催收员上门资格" if critical else "",
                    now=at + timedelta(minutes=30),
                )
                if resolved is not None:
                    continue
            keep.append((received, pk))
        self.open_complaints = keep

    def _story(self, day: date, rng: random.Random) -> None:
        closed = list(
            Case.objects.filter(closed_on__isnull=False, closed_on__lte=day)
            .filter(Q(visit_reports__isnull=False) | Q(promises__isnull=False))
            .exclude(pk__in=CaseStory.objects.filter(case__isnull=False).values("case_id"))
            .order_by("-closed_on", "pk")
            .distinct()
            .values_list("pk", flat=True)[:10]
        )
        if not closed:
            return
        case = Case.objects.get(pk=rng.choice(closed))
        team = next((t for t in self.teams if t.agency.pk == case.agency_id), None)
        writer = team.manager if team is not None and rng.random() < 0.6 else self.bank
        assert writer is not None
        self.at(day, 17, 40)
        values = library_services.story_prefill(case=case) | {
            "what_was_tried": "电话提醒后预约上门，与客户面谈并说明还款方案，客户承诺并按期还款。",
            "tags": ["上门", "承诺还款"],
        }
        self._try(
            "case library story", library_services.story_create, values=values, acting_user=writer, case=case
        )

    # ------------------------------------------------------------ the book of record

    def ingest_payments(self, day: date, *, force: bool = False) -> int:
        """Put the customers' payments made by ``day`` into the book: an export of the bank, ingested
        like every other. Returns the number of payments ingested."""
        due = [p for p in self.pending_payments if p[2] <= day]
        if not due or not (force or day.weekday() in (1, 4)):
            return 0
        self.pending_payments = [p for p in self.pending_payments if p[2] > day]
        with tempfile.TemporaryDirectory(prefix="fc-demo-payments-") as tmp:
            export = Path(tmp) / f"payments-{day.isoformat()}"
            write_payments_export(export, payments=due, as_of=day)
            ingest_export(source=export)
        self.tally["payments (export)"] += len(due)
        return len(due)

    def summary(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.tally.items()))


def book_digests() -> dict[str, str]:
    """A digest of the demo's book (cases, contacts, promises, appointments, check-ins, visits, route
    plans, feedback, complaints, proposals, statements, stories, payments), table by table, without
    the times of the machine or ciphertexts: same seed, same digests."""
    tables: list[tuple[str, Any]] = [
        (
            "cases",
            Case.objects.order_by("pk").values_list(
                "loan_id", "status", "dpd", "agency_id", "collector_id", "closed_on"
            ),
        ),
        (
            "placements",
            Placement.objects.order_by("pk").values_list(
                "case_id", "agency_id", "status", "starts_on", "ends_on", "retained_count"
            ),
        ),
        (
            "contacts",
            ContactAttempt.objects.order_by("pk").values_list("case_id", "channel", "outcome", "at"),
        ),
        (
            "promises",
            PromiseToPay.objects.order_by("pk").values_list("case_id", "amount_fen", "due_on", "status"),
        ),
        (
            "payments",
            Payment.objects.order_by("pk").values_list("loan_id", "paid_on", "amount_fen", "placement_id"),
        ),
        ("appointments", Appointment.objects.order_by("pk").values_list("case_id", "status", "chosen_start")),
        (
            "checkins",
            CheckIn.objects.order_by("pk").values_list(
                "case_id", "lat", "lon", "reported_system", "accepted", "flags"
            ),
        ),
        ("visits", VisitReport.objects.order_by("pk").values_list("case_id", "outcome", "status")),
        ("route_plans", RoutePlan.objects.order_by("pk").values_list("team_id", "date", "travel_metres")),
        ("feedback", FeedbackRequest.objects.order_by("pk").values_list("case_id", "rating")),
        ("complaints", Complaint.objects.order_by("pk").values_list("case_id", "severity", "status")),
        ("proposals", RestructuringProposal.objects.order_by("pk").values_list("case_id", "kind", "state")),
        ("statements", settlement_statements()),
        ("stories", CaseStory.objects.order_by("pk").values_list("case_id", "result", "bucket")),
    ]
    out: dict[str, str] = {}
    for name, rows in tables:
        h = hashlib.sha256()
        for row in rows:
            h.update(repr(tuple(row)).encode())
        out[name] = h.hexdigest()
    return out


def book_digest() -> str:
    """One digest of :func:`book_digests`."""
    return hashlib.sha256(repr(sorted(book_digests().items())).encode()).hexdigest()


def settlement_statements() -> Any:
    return Statement.objects.order_by("pk").values_list("agency_id", "month", "commission_fen", "status")
