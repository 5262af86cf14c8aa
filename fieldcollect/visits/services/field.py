"""The collector app's writes (``/api/v1/field``): actions queued on the phone and synced once each
(the evidence uploaded in chunks: :mod:`~fieldcollect.visits.services.uploads`).

Every action goes through the services the pages use (:func:`checkin_record`, :func:`report_start`,
:func:`report_close`, :func:`fieldcollect.cases.services.promise_record`); this module adds only
what the phone needs: the visit permit (:mod:`~fieldcollect.visits.services.permits`), idempotency
by the phone's client id (:class:`FieldAction`, unique per collector) and the refusal of a case
recalled meanwhile (nothing written).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldcollect.agencies.models import Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import cases_held_by, cases_visible_to
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case
from fieldcollect.compliance.services import contact_refuse
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import (
    CheckIn,
    FieldAction,
    FieldUpload,
    VisitOutcome,
    VisitPermit,
    VisitReport,
)
from fieldcollect.visits.services.checkin import checkin_record
from fieldcollect.visits.services.common import collector_of
from fieldcollect.visits.services.permits import CLOCK_SKEW, permit_check, permit_recheck
from fieldcollect.visits.services.reports import (
    missing_evidence,
    report_close,
    report_found_contacts,
    report_met_check,
    report_start,
    visit_conditions,
)

__all__ = ["CheckinAction", "PromiseAction", "ReportAction", "SyncAction", "SyncResult", "field_case", "field_sync",
           "repay_url", "report_try_close", "synced_action"]


# ---------------------------------------------------------------- the actions


@dataclass(frozen=True)
class CheckinAction:
    lat: float
    lon: float
    accuracy_m: float
    coord_system: str = "wgs84"
    permit: str | None = None


@dataclass(frozen=True)
class ReportAction:
    met: str
    outcome: str
    identity_check: str = ""
    notes: str = ""
    checkin_client_id: str | None = None
    ended_at: datetime | None = None
    uploads: list[str] = dataclasses.field(default_factory=list)  # the client ids of its photos and audio
    new_address: str = ""  # learnt at the door: the debtor moved, or the address was wrong
    new_phone: str = ""


@dataclass(frozen=True)
class PromiseAction:
    amount_fen: int
    due: date
    report_client_id: str | None = None


@dataclass(frozen=True)
class SyncAction:
    client_id: str
    kind: str
    case_id: int
    at: datetime
    payload: CheckinAction | ReportAction | PromiseAction | None
    invalid: ApplicationError | None = None  # the payload did not parse: refused, the rest goes on


@dataclass(frozen=True)
class SyncResult:
    client_id: str
    status: str  # applied | duplicate | refused
    code: str | None = None
    message: str | None = None
    id: int | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def field_case(*, user: User, collector: Collector, case_id: int) -> Case:
    """The case of a field action if the collector may still work it. A case the collector's agency
    no longer holds (recalled, placement ended) but that the collector worked (assigned, or a stop of
    the team's plan) is refused with ``field.case_recalled``; any other case (another collector's,
    another agency's) is not found."""
    case = Case.objects.select_related("customer", "loan").filter(pk=case_id).first()
    if case is not None and cases_visible_to(user).filter(pk=case.pk).exists():
        return case
    worked = case is not None and (case.collector_id == collector.pk or VisitPermit.objects.filter(
        Q(team__member_a=collector) | Q(team__member_b=collector), case_id=case.pk).exists())
    if case is not None and worked and not cases_held_by(agency_id=collector.agency_id).filter(pk=case.pk).exists():
        raise ConflictError(_("This case has been recalled from your agency: nothing was recorded."),
                            code=E.FIELD_CASE_RECALLED, extra={"case_id": case.pk})
    raise NotFoundError(_("Case not found."), code=CaseErrorCode.NOT_FOUND, extra={"case_id": case_id})


def _require_time(at: datetime, now: datetime) -> None:
    if timezone.is_naive(at):
        raise ApplicationError(_("Times must carry a time zone."), code=E.FIELD_INVALID_ACTION, extra={"field": "at"})
    if at > now + CLOCK_SKEW:
        raise ApplicationError(_("The action is dated in the future: check the phone's clock."),
                               code=E.FIELD_FUTURE_TIME, extra={"field": "at", "at": at.isoformat()})


_Synced = TypeVar("_Synced", CheckIn, VisitReport)


def synced_action(collector: Collector, client_id: str | None, kind: str) -> FieldAction | None:
    if not client_id:
        return None
    return FieldAction.objects.filter(collector=collector, client_id=client_id, kind=kind).first()


# what a synced action may name by its client id: the kind, the payload field naming it, the refusal while it
# is not synced yet (a conflict: sync it first) and the refusal of one for another case
_SYNCED_BEFORE: dict[str, tuple[str, Promise, str, Promise]] = {
    FieldAction.Kind.CHECKIN: ("checkin_client_id", gettext_lazy("The check-in of this report has not been synced yet."),
                               E.FIELD_CHECKIN_NOT_SYNCED, gettext_lazy("The check-in is for another case.")),
    FieldAction.Kind.REPORT: ("report_client_id", gettext_lazy("The visit report of this promise has not been synced yet."),
                              E.FIELD_REPORT_NOT_SYNCED, gettext_lazy("The visit report is for another case.")),
}


def _synced_object(queryset: QuerySet[_Synced], kind: str, *, collector: Collector, case: Case,
                   client_id: str) -> tuple[FieldAction, _Synced]:
    """The action of ``kind`` an action names by its client id, synced before it, and the object it made, which
    must be of the same case."""
    field, not_synced, code, other_case = _SYNCED_BEFORE[kind]
    done = synced_action(collector, client_id, kind)
    if done is None:
        raise ConflictError(str(not_synced), code=code, extra={field: client_id})
    obj = queryset.get(pk=int(done.object_id or 0))
    if obj.case_id != case.pk:
        raise ApplicationError(str(other_case), code=E.FIELD_INVALID_ACTION, extra={"field": field})
    return done, obj


def _apply_checkin(*, user: User, collector: Collector, case: Case, a: SyncAction, now: datetime) -> int:
    p = a.payload
    assert isinstance(p, CheckinAction)
    permit = None
    flags_after: list[dict[str, Any]] = []
    if p.permit:
        permit = permit_check(token=p.permit, case=case, collector=collector, at=a.at, now=now)
        _team, appointment, visit = visit_conditions(case=case, collector=collector, at=a.at, recording=True)
        recheck = permit_recheck(permit=permit, case=case, at=a.at, now=now, **visit)
        if recheck.refused:
            contact_refuse(verdict=recheck.verdict, case=case, acting_user=user, channel="visit", at=a.at,
                           path="field_app")
        flags_after = recheck.flags_after
    appointment = permit.stop.appointment if permit is not None and permit.stop is not None else None
    checkin = checkin_record(case=case, acting_user=user, lat=p.lat, lon=p.lon, accuracy_m=p.accuracy_m, at=a.at,
                             appointment=appointment, permit=permit, flags_after_permit=flags_after,
                             coord_system=p.coord_system)
    return checkin.pk


def _apply_report(*, user: User, collector: Collector, case: Case, a: SyncAction,
                  now: datetime) -> tuple[int, dict[str, Any]]:
    p = a.payload
    assert isinstance(p, ReportAction)
    if p.outcome not in VisitOutcome.values:
        raise ApplicationError(_("Choose an outcome."), code=E.VISIT_INVALID_OUTCOME,
                               extra={"field": "outcome", "allowed": list(VisitOutcome.values)})
    report_met_check(case=case, met=p.met, identity_check=p.identity_check, outcome=p.outcome)
    checkin = None
    if p.checkin_client_id:
        _done, checkin = _synced_object(CheckIn.objects.select_related("permit"), FieldAction.Kind.CHECKIN,
                                        collector=collector, case=case, client_id=p.checkin_client_id)
    ended = p.ended_at or a.at
    _require_time(ended, now)
    report = report_start(case=case, acting_user=user, recording=True, at=a.at, met=p.met,
                          identity_check=p.identity_check, permit=checkin.permit if checkin else None,
                          checkin=checkin)
    # the outcome waits on the open report until the evidence the pack requires has arrived
    VisitReport.objects.filter(pk=report.pk).update(outcome=p.outcome)
    report.outcome = p.outcome
    report.notes = p.notes
    report.save(update_fields=["notes"])
    # recorded now (encrypted, as skip tracing keeps them), not kept in the synced action's data
    report_found_contacts(report=report, outcome=p.outcome, new_address=p.new_address, new_phone=p.new_phone,
                          acting_user=user)
    return report.pk, {"outcome": p.outcome, "ended_at": ended.isoformat(), "uploads": list(p.uploads)}


def _apply_promise(*, user: User, collector: Collector, case: Case, a: SyncAction,
                   now: datetime) -> tuple[int | None, dict[str, Any]]:
    p = a.payload
    assert isinstance(p, PromiseAction)
    if p.report_client_id:
        done, report = _synced_object(VisitReport.objects.select_related("case__loan"), FieldAction.Kind.REPORT,
                                      collector=collector, case=case, client_id=p.report_client_id)
        if report.met:
            report_met_check(case=case, met=report.met, identity_check=report.identity_check,
                             outcome=VisitOutcome.PROMISE, promise=True)
        if report.status == VisitReport.Status.OPEN and report.outcome == VisitOutcome.PROMISE:
            # recorded when the report closes (report_close records the promise with the visit's contact)
            if p.amount_fen <= 0:
                raise ApplicationError(_("The promised amount must be positive."), code=CaseErrorCode.INVALID_AMOUNT)
            done.data = {**done.data, "promise": {"amount_fen": p.amount_fen, "due": p.due.isoformat()}}
            done.save(update_fields=["data"])
            return None, {"report_id": report.pk}
        promise = case_services.promise_record(case=case, acting_user=user, amount_fen=p.amount_fen, due_on=p.due,
                                               contact=report.contact)
        return promise.pk, {"report_id": report.pk}
    promise = case_services.promise_record(case=case, acting_user=user, amount_fen=p.amount_fen, due_on=p.due)
    return promise.pk, {}


_APPLY: dict[str, Callable[..., Any]] = {
    FieldAction.Kind.CHECKIN: _apply_checkin,
    FieldAction.Kind.REPORT: _apply_report,
    FieldAction.Kind.PROMISE: _apply_promise,
}


def report_try_close(*, report: VisitReport, acting_user: User) -> bool:
    """Close a report synced from the phone once what it waits for is there: the evidence the pack
    requires, every upload the report named (``uploads``) and every upload opened for it complete
    (a closed report takes no more evidence), and, for a promise, the promise action. Returns
    whether it closed."""
    report.refresh_from_db()
    action = FieldAction.objects.filter(kind=FieldAction.Kind.REPORT, object_id=report.pk,
                                        collector_id=report.collector_id).first()
    if action is None or report.status != VisitReport.Status.OPEN or not report.outcome:
        return False
    if missing_evidence(report=report) is not None:
        return False
    uploads = FieldUpload.objects.filter(collector_id=report.collector_id, report_client_id=action.client_id)
    if uploads.filter(evidence__isnull=True).exists():
        return False
    named = set(action.data.get("uploads") or [])
    if named - set(uploads.filter(client_id__in=named).values_list("client_id", flat=True)):
        return False
    promise = action.data.get("promise") or {}
    if report.outcome == VisitOutcome.PROMISE and not promise:
        return False
    ended = datetime.fromisoformat(action.data.get("ended_at") or action.at.isoformat())
    closed, _token = report_close(report=report, acting_user=acting_user, outcome=report.outcome, notes=report.notes,
                                  promise_amount_fen=promise.get("amount_fen"),
                                  promise_due_on=date.fromisoformat(promise["due"]) if promise else None, now=ended)
    if closed.promise_id is not None:
        # the promise action that waited for the report now has its promise
        FieldAction.objects.filter(collector_id=report.collector_id, kind=FieldAction.Kind.PROMISE,
                                   object_id__isnull=True, data__report_id=report.pk).update(object_id=closed.promise_id)
    return True


def _apply_one(*, user: User, collector: Collector, a: SyncAction, now: datetime) -> SyncResult:
    with transaction.atomic():
        # one collector's syncs one at a time: a retry sent while the first is still running waits
        Collector.objects.select_for_update().filter(pk=collector.pk).first()
        done = FieldAction.objects.filter(collector=collector, client_id=a.client_id).first()
        if done is not None:
            return SyncResult(client_id=a.client_id, status="duplicate", id=done.object_id)
        try:
            if a.invalid is not None:
                raise a.invalid
            _require_time(a.at, now)
            case = field_case(user=user, collector=collector, case_id=a.case_id)
            out = _APPLY[a.kind](user=user, collector=collector, case=case, a=a, now=now)
            object_id, data = out if isinstance(out, tuple) else (out, {})
            FieldAction.objects.create(collector=collector, client_id=a.client_id, kind=a.kind, case=case,
                                       object_id=object_id, at=a.at, data=data)
            audit_log(actor=user, action="field.sync", object_type="case", object_id=case.pk,
                      new={"client_id": a.client_id, "kind": a.kind, "object_id": object_id})
        except ApplicationError as exc:
            # a refusal: what the services wrote before refusing is theirs to keep (a blocked attempt)
            return SyncResult(client_id=a.client_id, status="refused", code=str(exc.code), message=exc.message,
                              extra=exc.extra)
    if a.kind == FieldAction.Kind.PROMISE and object_id is None:
        report = VisitReport.objects.get(pk=data["report_id"])
        with contextlib.suppress(ApplicationError):  # stays open: the collector closes it on the report page
            report_try_close(report=report, acting_user=user)
        report.refresh_from_db()
        if report.promise_id is not None:
            object_id = report.promise_id
    elif a.kind == FieldAction.Kind.REPORT:
        with contextlib.suppress(ApplicationError):
            report_try_close(report=VisitReport.objects.get(pk=object_id), acting_user=user)
    return SyncResult(client_id=a.client_id, status="applied", id=object_id)


def field_sync(*, acting_user: User, actions: list[SyncAction], now: datetime | None = None) -> list[SyncResult]:
    """Apply the phone's queued actions in order; each once (a second sending answers ``duplicate``
    with the same id); a refused action does not stop the others."""
    collector = collector_of(acting_user)
    now = now or timezone.now()
    return [_apply_one(user=acting_user, collector=collector, a=a, now=now) for a in actions]


# ---------------------------------------------------------------- the repayment link


def repay_url(case: Case) -> str:
    """The bank's official repayment page of ``case`` (``FIELDCOLLECT_REPAY_URL_TEMPLATE`` with
    ``{case_ref}``, the loan number), or ``""`` when none is configured."""
    template = str(getattr(settings, "FIELDCOLLECT_REPAY_URL_TEMPLATE", "") or "")
    if not template:
        return ""
    return template.replace("{case_ref}", str(case.loan_id))
