"""Writes on cases. Every function is keyword-only, runs in one transaction, locks the case row
(``select_for_update``), checks the caller's ``expected_version`` (a stale writer gets
:class:`ConflictError`, HTTP 409), enforces the lifecycle (:mod:`fieldcollect.cases.lifecycle`) and
writes its audit row in the same transaction. Permission to *see* the case is checked by the caller
through :func:`fieldcollect.cases.access.access_case_by_id`; permission to *act* is checked here.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.audit.models import AuditEntry
from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.cases.access import require_capability, visible_case_condition
from fieldcollect.cases.errors import CaseErrorCode as E
from fieldcollect.cases.lifecycle import (
    CASE_STATE_COLUMNS,
    CASE_STATE_FIELDS,
    CaseStatus,
    CloseReason,
    can_transition,
)
from fieldcollect.cases.models import (
    RECALL_CONTRACT_ENDED,
    Assignment,
    Case,
    Channel,
    ContactAttempt,
    Note,
    Outcome,
    Party,
    Payment,
    Placement,
    PromiseToPay,
    Task,
)
from fieldcollect.compliance import services as compliance
from fieldcollect.core import rawsql
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.core.rawsql import RowBuilder, column, fields_of, select_list, table
from fieldcollect.legal.screening import reason_labels, screen_cases
from fieldcollect.portfolio.models import Customer, Loan
from fieldcollect.privacy.services import deletion_attestation_raise
from fieldcollect.visits.fieldwork import cases_with_field_work, field_work_end, field_work_end_record
from fieldcollect.visits.models import Appointment

CancelReason = Appointment.CancelReason

S = CaseStatus


# ---------------------------------------------------------------- helpers

def _lock_case(*, case: Case, expected_version: int | None) -> Case:
    """Re-read ``case`` under a row lock and check the writer's version."""
    return _check_version(Case.objects.select_for_update().get(pk=case.pk), expected_version)


def _check_version(locked: Case, expected_version: int | None) -> Case:
    """``locked`` when the writer read the version it has (or named none); a conflict otherwise."""
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("This case was changed by someone else. Reload it and try again."),
            code=E.CONFLICT,
            extra={"case_id": locked.pk, "expected_version": expected_version, "current_version": locked.version},
        )
    return locked


def _set_status(case: Case, target: str) -> None:
    if case.status == target:
        return
    if not can_transition(case.status, target):
        raise ApplicationError(
            _("A case in status “%(current)s” cannot move to “%(target)s”.")
            % {"current": S(case.status).label, "target": S(target).label},
            code=E.INVALID_TRANSITION,
            extra={"current": case.status, "target": target},
        )
    case.status = target


def _case_state(case: Case) -> dict[str, Any]:
    """``snapshot(case, CASE_STATE_FIELDS)`` without loading the agency and collector rows (ids only)."""
    state: dict[str, Any] = {}
    for name in CASE_STATE_FIELDS:
        value = getattr(case, rawsql.field(Case, name).attname)
        state[name] = str(value) if isinstance(value, date) else value
    return state


def _save_case(case: Case, *, old: dict[str, Any], action: str, actor: User | None,
               extra: dict[str, Any] | None = None) -> Case:
    case.version += 1
    rawsql.update(case, CASE_STATE_COLUMNS, using=case._state.db or "default")
    _audit_case(case, old=old, action=action, actor=actor, extra=extra)
    return case


def _insert_saving_case(obj: models.Model, case: Case) -> None:
    """Insert ``obj`` and write the case's new state (version + 1) in one statement (PostgreSQL);
    then :func:`_audit_case` as :func:`_save_case` would."""
    case.version += 1
    using = case._state.db or "default"
    rawsql.insert(obj, using=using, along=[rawsql.update_statement(case, CASE_STATE_COLUMNS, using=using)])


def _audit_case(case: Case, *, old: dict[str, Any], action: str, actor: User | None,
                extra: dict[str, Any] | None = None) -> None:
    new = _case_state(case)
    if extra:
        new.update(extra)
    audit_log(actor=actor, action=action, object_type="case", object_id=case.pk, old=old, new=new)


def _require_open(case: Case) -> None:
    if case.status == S.CLOSED or case.closed_on is not None:
        raise ApplicationError(_("The case is closed."), code=E.CLOSED, extra={"case_id": case.pk})


def _today() -> date:
    return timezone.localdate()


def _actor_agency_id(actor: User) -> int | None:
    return actor.agency_id if actor.is_agency_user else None


def _actor_collector(actor: User) -> Collector | None:
    if actor.role != Role.FIELD_COLLECTOR:
        return None
    return Collector.objects.filter(user=actor).first()


# ---------------------------------------------------------------- placement

def customer_agencies(*, customer_id: int, exclude_case_id: int | None = None) -> set[int]:
    """The agencies holding open cases of the customer (customer-level placement: normally one)."""
    qs = Case.objects.filter(customer_id=customer_id, agency__isnull=False, closed_on__isnull=True)
    if exclude_case_id is not None:
        qs = qs.exclude(pk=exclude_case_id)
    return set(qs.values_list("agency_id", flat=True).distinct())


def _lock_customers(customer_ids: list[int]) -> None:
    """Lock the customers' rows (``select_for_update``, in id order) for the current transaction: a
    placement holds its customer while it reads the customer's other placements and writes its own."""
    list(Customer.objects.select_for_update().filter(pk__in=sorted(set(customer_ids))).order_by("pk")
         .values_list("pk", flat=True))


def case_place(*, case: Case, agency: Agency, acting_user: User | None, starts_on: date | None = None,
               days: int | None = None, expected_version: int | None = None,
               check_capacity: bool = True, override_reason: str | None = None) -> Placement:
    """Place ``case`` with ``agency`` (委案) under the agency's contract in force.

    ``acting_user`` ``None`` means the system (allocation run); otherwise the user needs ``case.place``.

    Customer-level placement: all open cases of one customer sit with one agency. A case whose customer
    has open cases placed with another agency is refused (``placement.customer_with_other_agency``)
    unless a bank user overrides with a reason (``override_reason``: blank is refused with
    ``placement.override_reason_required``; the system or an agency's user cannot override); the
    override is audited (``case.place_customer_override``) in the same transaction as the placement.
    """
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    day = starts_on or _today()
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        _require_open(locked)
        if locked.agency_id is not None:
            raise ApplicationError(_("The case is already placed."), code=E.ALREADY_PLACED)
        # the customer's row is locked (after the case: the order of cases_place_bulk) so that two
        # placements of one customer's loans, at the same moment, cannot pick two agencies
        _lock_customers([locked.customer_id])
        elsewhere = customer_agencies(customer_id=locked.customer_id, exclude_case_id=locked.pk) - {agency.pk}
        if override_reason is not None:
            if acting_user is None or acting_user.agency_id is not None:
                raise ApplicationError(_("Only a bank user may override the customer-level placement."),
                                       code=E.OVERRIDE_NOT_ALLOWED)
            if not override_reason.strip():
                raise ApplicationError(_("Give a reason to place this case apart from the customer's other cases."),
                                       code=E.OVERRIDE_REASON_REQUIRED)
        if elsewhere and override_reason is None:
            raise ApplicationError(
                _("The customer's other open cases are placed with another agency: all of a customer's cases "
                  "go to one agency unless a bank user overrides with a reason."),
                code=E.CUSTOMER_WITH_OTHER_AGENCY, extra={"agencies": sorted(elsewhere)})
        screened = screen_cases(cases=[(locked.pk, locked.customer_id)]).get(locked.pk)
        if screened:
            raise ApplicationError(_("The debtor may not be placed with an agency: %(why)s.") % {
                "why": ", ".join(reason_labels(screened))}, code=E.PLACEMENT_SCREENED, extra={"reasons": screened})
        if agency.status != Agency.Status.APPROVED:
            raise ApplicationError(_("The agency is not approved."), code=E.AGENCY_NOT_APPROVED)
        terms = contract_terms(agency=agency, on=day)
        if terms is None:
            raise ApplicationError(_("The agency has no contract in force."), code=E.NO_CONTRACT)
        if not terms.dsa_valid_on(day):
            raise ApplicationError(_("The agency's data-security agreement is not valid."), code=E.DSA_EXPIRED)
        if terms.eligible_buckets and locked.bucket not in terms.eligible_buckets:
            raise ApplicationError(_("The agency may not receive cases of this bucket."),
                                   code=E.BUCKET_NOT_ELIGIBLE, extra={"bucket": locked.bucket})
        if terms.regions and locked.city not in terms.regions:
            raise ApplicationError(_("The agency does not serve this city."),
                                   code=E.REGION_NOT_SERVED, extra={"city": locked.city})
        if check_capacity and terms.capacity:
            held = Placement.objects.filter(agency=agency, status=Placement.Status.ACTIVE).count()
            if held >= terms.capacity:
                raise ApplicationError(_("The agency has no free capacity."), code=E.CAPACITY_FULL,
                                       extra={"capacity": terms.capacity})
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        placement = Placement.objects.create(
            case=locked, agency=agency, contract_id=terms.contract_id, starts_on=day,
            ends_on=day + timedelta(days=days or terms.placement_days),
            bucket_at_placement=locked.bucket, overdue_fen_at_placement=locked.overdue_fen,
            created_by=acting_user,
        )
        _set_status(locked, S.PLACED)
        locked.agency = agency
        locked.placed_until = placement.ends_on
        locked.collector = None
        _save_case(locked, old=old, action="case.place", actor=acting_user,
                   extra={"placement": placement.pk, "ends_on": placement.ends_on.isoformat()})
        if elsewhere:
            assert override_reason is not None
            audit_log(actor=acting_user, action="case.place_customer_override", object_type="case",
                      object_id=locked.pk,
                      new={"placement": placement.pk, "agency": agency.pk, "customer": locked.customer_id,
                           "other_agencies": sorted(elsewhere), "reason": override_reason.strip()[:300]})
        # the debtor is told the debt is handled by the agency before its first contact (when the pack
        # in force requires it): queued in this transaction
        compliance.outsourcing_notice_ensure(case=locked, agency_id=agency.pk, agency_name=agency.name, on=day)
    case.refresh_from_db()
    return placement


def placement_end(*, locked: Case, status: str, cause: str, on: date, acting_user: User | None,
                  recall_reason: str = "") -> Placement | None:
    """End ``locked``'s active placement and, with it, the agency's work on the case: the placement
    becomes ``status`` (recalled, with ``recall_reason``, or ended), the open assignment ends, the
    agency's field work ends (:func:`fieldcollect.visits.fieldwork.field_work_end`: appointments
    cancelled for ``cause``, route stops removed, reminders cancelled, with their audit rows) and the
    case no longer names the agency nor the collector. Every path that ends a placement (recall,
    expiry, contract end, case closed) goes through here, inside its transaction with the case row
    locked; the caller saves the case and writes its audit row. Returns the placement (``None`` when
    the case had none active)."""
    placement = Placement.objects.select_for_update().filter(case=locked, status=Placement.Status.ACTIVE).first()
    if placement is not None:
        placement.status = status
        fields = ["status"]
        if status == Placement.Status.RECALLED:
            placement.recalled_on = on
            placement.recall_reason = recall_reason[:200]
            fields += ["recalled_on", "recall_reason"]
        placement.save(update_fields=fields)
        field_work_end(case=locked, agency_id=placement.agency_id, reason=cause, acting_user=acting_user, on=on)
    Assignment.objects.filter(case=locked, ended_at__isnull=True).update(ended_at=timezone.now())
    locked.agency = None
    locked.placed_until = None
    locked.collector = None
    return placement


def case_recall(*, case: Case, reason: str, acting_user: User | None, on: date | None = None,
                expected_version: int | None = None, cause: str = CancelReason.RECALLED) -> Placement:
    """Recall the active placement (退案): the agency loses access at once and its field work on the
    case ends (:func:`placement_end`). ``cause`` says why for the cancelled appointments: a recall
    (default), the placement period's end (:func:`placements_expire`) or the contract's end."""
    if acting_user is not None:
        require_capability(acting_user, "case.recall")
    day = on or _today()
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        if not Placement.objects.filter(case=locked, status=Placement.Status.ACTIVE).exists():
            raise ApplicationError(_("The case is not placed."), code=E.NOT_PLACED)
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        placement = placement_end(locked=locked, status=Placement.Status.RECALLED, cause=cause, on=day,
                                  acting_user=acting_user, recall_reason=reason)
        assert placement is not None
        if locked.status != S.CLOSED:
            _set_status(locked, S.RECALLED)
        _save_case(locked, old=old, action="case.recall", actor=acting_user,
                   extra={"placement": placement.pk, "reason": reason})
        deletion_attestation_raise(placement=placement, on=day)
    case.refresh_from_db()
    return placement


def placement_retain(*, case: Case, acting_user: User | None, days: int | None = None,
                     expected_version: int | None = None, reason: str = "",
                     beyond_limit_approved_by: User | None = None) -> Placement:
    """Extend the active placement (留案) within the contract's retention limit; beyond it only with
    a second person's approval (``beyond_limit_approved_by``, given by the batch action's
    maker-checker, :mod:`fieldcollect.cases.batch`)."""
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        placement = Placement.objects.select_for_update().filter(case=locked, status=Placement.Status.ACTIVE).first()
        if placement is None:
            raise ApplicationError(_("The case is not placed."), code=E.NOT_PLACED)
        terms = contract_terms(agency=placement.agency, on=_today())
        limit = terms.max_retentions if terms else 0
        if placement.retained_count >= limit and beyond_limit_approved_by is None:
            raise ApplicationError(_("The placement may not be retained again."), code=E.RETENTION_LIMIT,
                                   extra={"max_retentions": limit})
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        placement.retained_count += 1
        placement.ends_on = placement.ends_on + timedelta(days=days or (terms.placement_days if terms else 30))
        placement.save(update_fields=["retained_count", "ends_on"])
        locked.placed_until = placement.ends_on
        extra: dict[str, Any] = {"placement": placement.pk, "ends_on": placement.ends_on.isoformat()}
        if reason:
            extra["reason"] = reason[:300]
        if beyond_limit_approved_by is not None:
            extra["beyond_limit_approved_by"] = beyond_limit_approved_by.pk
        _save_case(locked, old=old, action="placement.retain", actor=acting_user, extra=extra)
    case.refresh_from_db()
    return placement


def placements_expire(*, as_of: date) -> int:
    """Recall every active placement whose period ended before ``as_of``; return how many."""
    ids = list(
        Placement.objects.filter(status=Placement.Status.ACTIVE, ends_on__lt=as_of).values_list("case_id", flat=True)
    )
    for case in Case.objects.filter(pk__in=ids):
        case_recall(case=case, reason="expired", acting_user=None, on=as_of, cause=CancelReason.EXPIRED)
    return len(ids)


def placements_recall_for_ended_contracts(*, as_of: date) -> int:
    """Recall the active placements of agencies that have no contract in force on ``as_of`` (the
    contract ended or was terminated): the agency loses access and owes a deletion attestation."""
    agency_ids = set(Placement.objects.filter(status=Placement.Status.ACTIVE).values_list("agency_id", flat=True))
    ended = [a for a in Agency.objects.filter(pk__in=agency_ids) if contract_terms(agency=a, on=as_of) is None]
    recalled = 0
    for agency in ended:
        for placement in Placement.objects.filter(agency=agency, status=Placement.Status.ACTIVE).select_related("case"):
            case_recall(case=placement.case, reason=RECALL_CONTRACT_ENDED, acting_user=None, on=as_of,
                        cause=CancelReason.CONTRACT_ENDED)
            recalled += 1
    return recalled


# ---------------------------------------------------------------- agency work

def case_assign(*, case: Case, collector: Collector, acting_user: User,
                expected_version: int | None = None) -> Assignment:
    """Give a placed case to one of the agency's collectors (replacing any current one)."""
    require_capability(acting_user, "case.assign")
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        _require_open(locked)
        placement = Placement.objects.filter(case=locked, status=Placement.Status.ACTIVE).first()
        if placement is None or locked.agency_id is None:
            raise ApplicationError(_("The case is not placed."), code=E.NOT_PLACED)
        if collector.agency_id != placement.agency_id or (
            acting_user.is_agency_user and acting_user.agency_id != placement.agency_id
        ):
            raise ApplicationError(_("The collector belongs to another agency."), code=E.COLLECTOR_OTHER_AGENCY)
        if not collector.qualified_on(_today()):
            raise ApplicationError(_("The collector's certification or training has expired."),
                                   code=E.COLLECTOR_NOT_QUALIFIED)
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        if locked.collector_id is not None and locked.collector_id != collector.pk:
            # the previous collector's field work on the case ends (see visits.fieldwork: not handed over)
            field_work_end(case=locked, agency_id=placement.agency_id, collector_id=locked.collector_id,
                           reason=CancelReason.REASSIGNED, acting_user=acting_user)
        Assignment.objects.filter(case=locked, ended_at__isnull=True).update(ended_at=timezone.now())
        assignment = Assignment.objects.create(
            case=locked, placement=placement, collector=collector, assigned_by=acting_user
        )
        if locked.status in {S.PLACED, S.ASSIGNED, S.IN_PROGRESS}:
            _set_status(locked, S.ASSIGNED)
        locked.collector = collector
        _save_case(locked, old=old, action="case.assign", actor=acting_user,
                   extra={"assignment": assignment.pk})
    case.refresh_from_db()
    return assignment


def contact_record(*, case: Case, acting_user: User, channel: str, outcome: str, party: str = Party.DEBTOR,
                   number: str = "", at: datetime | None = None, connected: bool = False,
                   conversation: bool = False, notes: str = "",
                   expected_version: int | None = None, path: str = "service",
                   collectors: int | None = None, recording: bool | None = None,
                   appointment_confirmed: bool | None = None, prechecked: bool = False,
                   visible_to: User | None = None, collector_id: int | None = None) -> ContactAttempt:
    """Record a contact attempt and its outcome; the first one starts work on the case.

    With ``visible_to`` the case is locked only if that user may see it (else ``NotFoundError``, 404):
    the API hands over a bare ``Case(pk=...)`` and the access check is the lock query itself.

    The contact first goes through the compliance check (:mod:`fieldcollect.compliance`) against the
    debtor's ledger across all their cases and all agencies and their flags. A blocked contact is
    not recorded: it is stored as a ``BlockedAttempt`` with an audit row, and
    :class:`~fieldcollect.compliance.services.ContactBlockedError` (HTTP 422) is raised with the rule
    ids, the explanations in the current language and ``next_allowed_at``.

    Queries: the case row lock (with customer, loan and the case's collector), the ledger, the flags, then the contact
    insert, the case update and the audit insert.

    A field visit is checked with ``collectors`` (certified collectors present), ``recording`` and
    ``appointment_confirmed``; missing facts count as not satisfied. ``prechecked=True`` records
    without a second check a contact the caller has already passed through the engine (a visit is
    checked when it starts, :func:`fieldcollect.visits.services.report_start`, and logged when it ends).

    Any other contact names its collector: ``collector_id`` (an agency dialler's, a collector of the
    case's agency) or, for a field collector's own contact, the case's collector; the check refuses it when that collector's
    certificate or training has lapsed on the contact's date in the debtor's local time (the
    ``collector_certified`` rule, fed by the training records as the visit team's count is).
    """
    require_capability(acting_user, "case.contact")
    if channel not in Channel.values:
        raise ApplicationError(_("Unknown channel."), code=E.CONTACT_INVALID_CHANNEL, extra={"channel": channel})
    if outcome not in Outcome.values:
        raise ApplicationError(_("Unknown outcome."), code=E.CONTACT_INVALID_OUTCOME, extra={"outcome": outcome})
    if party not in Party.values:
        raise ApplicationError(_("Unknown party."), code=E.CONTACT_INVALID_PARTY, extra={"party": party})
    when = at or timezone.now()
    if timezone.is_naive(when):
        raise ApplicationError(_("Times must carry a time zone."), code=E.CONTACT_NAIVE)
    verdict = None
    with transaction.atomic():
        locked = _lock_case_for_contact(case=case, expected_version=expected_version, visible_to=visible_to)
        _require_open(locked)
        # checked under the lock of the case and of the debtor: two agencies calling the same debtor
        # at once cannot both take the last call a cap allows
        named = _contact_collector(locked, acting_user, collector_id)
        if not prechecked:
            verdict = compliance.contact_decision(case=locked, channel=channel, party=party, number=number,
                                                  at=when, collectors=collectors, recording=recording,
                                                  appointment_confirmed=appointment_confirmed,
                                                  agency_id=_actor_agency_id(acting_user),
                                                  collector=named if channel != Channel.VISIT else None)
        if verdict is None or verdict.allowed:
            old = _case_state(locked)
            contact = ContactAttempt(
                case=locked, agency_id=_actor_agency_id(acting_user),
                collector_id=named.pk if named is not None else None,
                channel=channel, party=party,
                number=compliance.default_number(case=locked, channel=channel, party=party, number=number),
                at=when, connected=connected or conversation, conversation=conversation, outcome=outcome,
                notes=notes, recorded_by=acting_user,
            )
            if locked.status in {S.NEW, S.PLACED, S.ASSIGNED}:
                _set_status(locked, S.IN_PROGRESS)
            # every contact: the INSERT and the case's UPDATE in one statement built once (core/rawsql.py)
            _insert_saving_case(contact, locked)
            _audit_case(locked, old=old, action="case.contact", actor=acting_user,
                        extra={"contact": contact.pk, "channel": channel, "outcome": outcome})
    if verdict is not None and not verdict.allowed:
        blocked = compliance.blocked_attempt_record(
            verdict=verdict, case=locked, acting_user=acting_user, channel=channel, party=party,
            number=compliance.default_number(case=locked, channel=channel, party=party, number=number),
            at=when, path=path)
        raise compliance.blocked_error(verdict, blocked=blocked)
    # the caller's instance sees the new state without another read (ids only: no agency/collector load)
    for name in CASE_STATE_COLUMNS:
        attname = rawsql.field(Case, name).attname
        setattr(case, attname, getattr(locked, attname))
    return contact


def _contact_collector(case: Case, acting_user: User, collector_id: int | None) -> Collector | None:
    """The collector a contact names: the one given (of the case's agency), else the case's collector
    when a field collector records it, else none (the bank's, a manager's)."""
    if collector_id is not None:
        collector = (Collector.objects.filter(pk=collector_id, agency_id=case.agency_id).first()
                     if case.agency_id is not None else None)
        if collector is None:
            raise ApplicationError(_("The collector belongs to another agency."), code=E.COLLECTOR_OTHER_AGENCY,
                                   extra={"collector_id": collector_id})
        return collector
    if acting_user.role == Role.FIELD_COLLECTOR and case.collector_id is not None:
        return case.collector  # loaded with the case by the lock query (no read of its own)
    return None


# every column of the case, and of the customer and the loan only what the check needs (the other
# customer columns are encrypted: not decrypting them saves time on every contact)
@functools.cache
def _contact_lock_query() -> tuple[str, RowBuilder, RowBuilder, RowBuilder, RowBuilder]:
    case_fields = fields_of(Case)
    customer_fields = fields_of(Customer, ["customer_id", "timezone", "mobile", "row_binding"])
    loan_fields = fields_of(Loan, ["loan_id", "jurisdiction"])
    # the case's collector's qualification (the certificate check of a collector's call)
    collector_fields = fields_of(Collector, ["collector_id", "agency", "active", "certified_until", "trained_until"])
    c, cu, loan = functools.partial(column, Case), functools.partial(column, Customer), functools.partial(column, Loan)
    co = functools.partial(column, Collector)
    sql = (f'SELECT {select_list(case_fields, "c")}, {select_list(customer_fields, "cu")}, '
           f'{select_list(loan_fields, "l")}, {select_list(collector_fields, "co")} FROM {table(Case)} c '
           f'JOIN {table(Customer)} cu ON {cu("pk", "cu")} = {c("customer", "c")} '
           f'JOIN {table(Loan)} l ON {loan("pk", "l")} = {c("loan", "c")} '
           f'LEFT JOIN {table(Collector)} co ON {co("pk", "co")} = {c("collector", "c")} '
           f'WHERE {c("pk", "c")} = %s AND ({{visible}})')
    if connection.features.has_select_for_update_of:  # PostgreSQL; SQLite locks the database instead
        sql += " FOR UPDATE OF c, cu"
    return (sql, RowBuilder(Case, case_fields), RowBuilder(Customer, customer_fields), RowBuilder(Loan, loan_fields),
            RowBuilder(Collector, collector_fields))


def _lock_case_for_contact(*, case: Case, expected_version: int | None, visible_to: User | None = None) -> Case:
    """Like :func:`_lock_case`, with the customer (also locked) and the loan in the same statement;
    with ``visible_to``, only a case that user may see (the access check in the same statement). Run on
    every contact: written out once (:mod:`fieldcollect.core.rawsql`) rather than compiled each time."""
    sql, cases, customers, loans, collectors = _contact_lock_query()
    visible = ("TRUE", []) if visible_to is None else visible_case_condition(visible_to, alias="c")
    found = None
    if visible is not None:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(visible=visible[0]), [case.pk, *visible[1]])
            row = cursor.fetchone()
        if row is not None:
            found = cases.build(row)
            Case.customer.field.set_cached_value(found, customers.build(row, cases.width))
            Case.loan.field.set_cached_value(found, loans.build(row, cases.width + customers.width))
            if found.collector_id is not None:
                Case.collector.field.set_cached_value(
                    found, collectors.build(row, cases.width + customers.width + loans.width))
    if found is None:
        if visible_to is None:
            raise Case.DoesNotExist(f"case {case.pk}")
        raise NotFoundError(_("Case not found."), code=E.NOT_FOUND, extra={"case_id": case.pk})
    return _check_version(found, expected_version)


def promise_record(*, case: Case, acting_user: User, amount_fen: int, due_on: date,
                   contact: ContactAttempt | None = None, expected_version: int | None = None,
                   follow_up: bool = True) -> PromiseToPay:
    """Record a promise to pay (承诺还款) and, by default, a task to check it on its due date."""
    require_capability(acting_user, "case.promise")
    if amount_fen <= 0:
        raise ApplicationError(_("The promised amount must be positive."), code=E.INVALID_AMOUNT)
    today = _today()
    if due_on < today:
        raise ApplicationError(_("The promised date cannot be in the past."), code=E.INVALID_DATE)
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        _require_open(locked)
        if contact is not None and contact.case_id != locked.pk:
            raise ApplicationError(_("The contact belongs to another case."), code=E.PROMISE_CONTACT_MISMATCH)
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        if locked.status == S.NEW:
            _set_status(locked, S.IN_PROGRESS)
        _set_status(locked, S.PROMISE)
        PromiseToPay.objects.filter(case=locked, status=PromiseToPay.Status.OPEN).update(
            status=PromiseToPay.Status.CANCELLED, resolved_on=today
        )
        promise = PromiseToPay.objects.create(
            case=locked, contact=contact, agency_id=_actor_agency_id(acting_user), amount_fen=amount_fen,
            due_on=due_on, promised_on=today, recorded_by=acting_user,
        )
        if follow_up:
            Task.objects.create(
                case=locked, agency_id=_actor_agency_id(acting_user), assignee=acting_user,
                kind=Task.Kind.CHECK_PROMISE, title=_("Check the promise of %(date)s") % {"date": due_on.isoformat()},
                due_on=due_on, created_by=acting_user,
            )
        _save_case(locked, old=old, action="case.promise", actor=acting_user,
                   extra={"promise": promise.pk, "amount_fen": amount_fen, "due_on": due_on.isoformat()})
    case.refresh_from_db()
    return promise


def task_create(*, case: Case, acting_user: User, title: str, due_on: date, kind: str = Task.Kind.FOLLOW_UP,
                assignee: User | None = None) -> Task:
    require_capability(acting_user, "case.task")
    if assignee is not None and acting_user.is_agency_user and assignee.agency_id != acting_user.agency_id:
        raise ApplicationError(_("Tasks can only be given to people of your agency."), code=E.TASK_ASSIGNEE_OTHER_AGENCY)
    with transaction.atomic():
        task = Task.objects.create(
            case=case, agency_id=_actor_agency_id(acting_user), assignee=assignee or acting_user, kind=kind,
            title=title[:200], due_on=due_on, created_by=acting_user,
        )
        audit_log(actor=acting_user, action="task.create", object_type="task", object_id=task.pk,
                  new=snapshot(task, ["case", "assignee", "kind", "title", "due_on"]))
    return task


def task_complete(*, task: Task, acting_user: User, result: str = "") -> Task:
    require_capability(acting_user, "case.task")
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.OPEN:
            raise ConflictError(_("The task is no longer open."), code=E.TASK_NOT_OPEN,
                                extra={"status": locked.status})
        old = snapshot(locked, ["status"])
        locked.status = Task.Status.DONE
        locked.completed_at = timezone.now()
        locked.completed_by = acting_user
        locked.result = result[:500]
        locked.save(update_fields=["status", "completed_at", "completed_by", "result"])
        audit_log(actor=acting_user, action="task.complete", object_type="task", object_id=locked.pk,
                  old=old, new=snapshot(locked, ["status", "result"]))
    task.refresh_from_db()
    return locked


def note_add(*, case: Case, acting_user: User, body: str) -> Note:
    require_capability(acting_user, "case.note")
    body = body.strip()
    if not body:
        raise ApplicationError(_("The note is empty."), code=E.NOTE_EMPTY)
    with transaction.atomic():
        note = Note.objects.create(case=case, author=acting_user, body=body)
        audit_log(actor=acting_user, action="note.add", object_type="case", object_id=case.pk,
                  new={"note": note.pk})
    return note


# ---------------------------------------------------------------- bank actions

def case_transition(*, case: Case, target: str, acting_user: User | None, close_reason: str = "",
                    on: date | None = None, expected_version: int | None = None) -> Case:
    """Move a case to ``target`` (e.g. restructured, closed with a reason, re-opened)."""
    if acting_user is not None:
        require_capability(acting_user, "case.transition")
    if target not in S.values:
        raise ApplicationError(_("Unknown status."), code=E.INVALID_TRANSITION, extra={"target": target})
    day = on or _today()
    with transaction.atomic():
        locked = _lock_case(case=case, expected_version=expected_version)
        old = snapshot(locked, list(CASE_STATE_FIELDS))
        if target == S.CLOSED:
            if close_reason not in CloseReason.values:
                raise ApplicationError(_("A closed case needs a close reason."), code=E.INVALID_CLOSE_REASON)
            if locked.status == S.CLOSED:
                raise ApplicationError(_("The case is closed."), code=E.CLOSED)
            _set_status(locked, S.CLOSED)
            locked.close_reason = close_reason
            locked.closed_on = day
            placement_end(locked=locked, status=Placement.Status.ENDED, cause=CancelReason.CASE_CLOSED, on=day,
                          acting_user=acting_user)
        else:
            if locked.status == target:
                raise ApplicationError(_("The case is already in that status."), code=E.INVALID_TRANSITION,
                                       extra={"current": locked.status, "target": target})
            _set_status(locked, target)
            if target == S.NEW:
                locked.close_reason = ""
                locked.closed_on = None
        _save_case(locked, old=old, action="case.transition", actor=acting_user,
                   extra={"close_reason": close_reason} if close_reason else None)
    case.refresh_from_db()
    return locked


def payment_record(*, case: Case, amount_fen: int, paid_on: date, acting_user: User | None,
                   channel: str = "bank_transfer", reference: str = "") -> Payment:
    """Record a payment received on the case's loan, attributed to the placement active that day.

    Idempotent on ``reference``: the database holds one payment per loan and non-empty reference, so
    recording the same payment again (a retry, a second click, a concurrent request) returns the payment
    already recorded; the same reference with another amount or date is a conflict."""
    if acting_user is not None:
        require_capability(acting_user, "payment.record")
    if amount_fen <= 0:
        raise ApplicationError(_("The amount must be positive."), code=E.PAYMENT_INVALID_AMOUNT)
    reference = reference[:64]
    with transaction.atomic():
        placement = (
            Placement.objects.filter(case=case, starts_on__lte=paid_on, ends_on__gte=paid_on)
            .exclude(status=Placement.Status.RECALLED, recalled_on__lt=paid_on)
            .order_by("-starts_on")
            .first()
        )
        try:
            with transaction.atomic():  # a savepoint: the unique constraint decides, not a read before
                payment = Payment.objects.create(
                    loan_id=case.loan_id, case=case, placement=placement, paid_on=paid_on, amount_fen=amount_fen,
                    channel=channel, reference=reference,
                )
        except IntegrityError:
            existing = Payment.objects.filter(loan_id=case.loan_id, reference=reference).first() if reference else None
            if existing is None:
                raise
            if (existing.amount_fen, existing.paid_on) != (amount_fen, paid_on):
                raise ConflictError(
                    _("Payment reference %(reference)s is already recorded on this loan with another amount or "
                      "date.") % {"reference": reference},
                    code=E.PAYMENT_REFERENCE_CONFLICT,
                    extra={"payment": existing.pk, "amount_fen": existing.amount_fen,
                           "paid_on": existing.paid_on.isoformat()}) from None
            return existing
        audit_log(actor=acting_user, action="payment.record", object_type="case", object_id=case.pk,
                  new={"payment": payment.pk, "amount_fen": amount_fen, "paid_on": paid_on.isoformat(),
                       "placement": placement.pk if placement else None})
    return payment


def promises_evaluate(*, as_of: date) -> dict[str, int]:
    """Decide open promises from payments: kept when paid in full by the due date, broken when the
    due date has passed without it. A broken promise sends the case back to "in progress"."""
    counts = {"kept": 0, "broken": 0}
    for promise in PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN).select_related("case"):
        paid = (
            Payment.objects.filter(loan_id=promise.case.loan_id, paid_on__gte=promise.promised_on,
                                   paid_on__lte=min(promise.due_on, as_of))
            .aggregate(total=Sum("amount_fen"))["total"]
            or 0
        )
        if paid >= promise.amount_fen:
            status = PromiseToPay.Status.KEPT
        elif promise.due_on < as_of:
            status = PromiseToPay.Status.BROKEN
        else:
            continue
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=promise.case_id)
            PromiseToPay.objects.filter(pk=promise.pk).update(status=status, paid_fen=paid, resolved_on=as_of)
            old = snapshot(case, list(CASE_STATE_FIELDS))
            if status == PromiseToPay.Status.BROKEN and case.status == S.PROMISE:
                _set_status(case, S.IN_PROGRESS)
            _save_case(case, old=old, action=f"promise.{status}", actor=None,
                       extra={"promise": promise.pk, "paid_fen": paid})
        counts[str(status)] += 1
    return counts


def cases_place_bulk(*, placements: list[tuple[Case, Agency]], starts_on: date,
                     acting_user: User | None = None) -> int:
    """Place many cases at once (an allocation run): one transaction, one audit row per case.

    The caller has chosen eligible agencies (contract, bucket, region, capacity, DSA); each case must
    be open, unplaced and not screened (:mod:`fieldcollect.legal.screening`), which is re-checked here
    under the row locks (others are skipped).
    Returns how many were placed.
    """
    if acting_user is not None:
        require_capability(acting_user, "case.place")
    if not placements:
        return 0
    terms_by_agency = {}
    for _case, agency in placements:
        if agency.pk not in terms_by_agency:
            terms_by_agency[agency.pk] = contract_terms(agency=agency, on=starts_on)
    agency_of = {case.pk: agency for case, agency in placements}
    placed = 0
    with transaction.atomic():
        locked = list(
            Case.objects.select_for_update().filter(
                pk__in=list(agency_of), agency__isnull=True, closed_on__isnull=True,
                status__in=[S.NEW, S.RECALLED],
            )
        )
        screened = screen_cases(cases=[(c.pk, c.customer_id) for c in locked])
        # customer-level placement: a customer whose open cases sit with an agency gets no other one
        # (their rows locked, as in case_place, before their placements are read)
        _lock_customers([c.customer_id for c in locked])
        held_by: dict[int, set[int]] = {}
        for customer_id, agency_id in Case.objects.filter(
            agency__isnull=False, closed_on__isnull=True,
            customer_id__in=Case.objects.filter(pk__in=list(agency_of)).values("customer_id"),
        ).values_list("customer_id", "agency_id").distinct():
            held_by.setdefault(customer_id, set()).add(agency_id)
        new_placements: list[Placement] = []
        audits = []
        for case in locked:
            if case.pk in screened:
                continue
            agency = agency_of[case.pk]
            if held_by.get(case.customer_id, {agency.pk}) != {agency.pk}:
                continue
            terms = terms_by_agency[agency.pk]
            if terms is None or not terms.dsa_valid_on(starts_on):
                continue
            old = snapshot(case, list(CASE_STATE_FIELDS))
            ends_on = starts_on + timedelta(days=terms.placement_days)
            new_placements.append(Placement(
                case=case, agency=agency, contract_id=terms.contract_id, starts_on=starts_on, ends_on=ends_on,
                bucket_at_placement=case.bucket, overdue_fen_at_placement=case.overdue_fen, created_by=acting_user,
            ))
            case.status = S.PLACED
            case.agency = agency
            case.placed_until = ends_on
            case.collector = None
            case.version += 1
            case.updated_at = timezone.now()
            audits.append((case, old))
        Placement.objects.bulk_create(new_placements, batch_size=2000)
        if compliance.notice_required_somewhere(on=starts_on):  # the notice before outsourcing
            for c, _old in audits:
                assert c.agency is not None
                compliance.outsourcing_notice_ensure(case=c, agency_id=c.agency.pk, agency_name=c.agency.name,
                                                     on=starts_on)
        Case.objects.bulk_update([c for c, _ in audits], ["status", "agency", "placed_until", "collector",
                                                          "version", "updated_at"], batch_size=2000)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(actor=acting_user, actor_label=acting_user.get_username() if acting_user else "system",
                           action="case.place", object_type="case", object_id=str(c.pk), old=old,
                           new={**snapshot(c, list(CASE_STATE_FIELDS)), "bulk": True})
                for c, old in audits
            ],
            batch_size=2000,
        )
        placed = len(audits)
    return placed


def placements_end_for_closed_cases(*, as_of: date, chunk: int = 2_000) -> int:
    """End the active placements (and assignments) of cases the nightly cycle closed; the agency
    loses access. Returns how many placements were ended.

    The same ending as :func:`placement_end` for every case, done set-based for the night's
    thousands of closed cases (``chunk`` cases per transaction, the case rows locked): the placements,
    assignments and cases are updated by one statement each, the field work of the few cases that
    have any is ended by :func:`~fieldcollect.visits.fieldwork.field_work_end`, and every case gets the
    audit rows the one-case path writes (``fieldwork.end``, ``placement.end_closed``), bulk-inserted.
    ``cases/tests/test_services.py`` holds it equal to the one-case path."""
    rows = list(Placement.objects.filter(status=Placement.Status.ACTIVE, case__closed_on__isnull=False)
                .order_by("case_id").values_list("case_id", flat=True))
    ended = 0
    for start in range(0, len(rows), chunk):
        ids = rows[start:start + chunk]
        with transaction.atomic():
            cases = list(Case.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            placements = {p.case_id: p for p in Placement.objects.select_for_update()
                          .filter(case_id__in=ids, status=Placement.Status.ACTIVE)}
            cases = [c for c in cases if c.pk in placements]
            agency_of = {c.pk: placements[c.pk].agency_id for c in cases}
            busy = cases_with_field_work(agency_of=agency_of, on=as_of)
            entries: list[AuditEntry] = []
            for case in cases:
                if case.pk in busy:
                    field_work_end(case=case, agency_id=agency_of[case.pk], reason=CancelReason.CASE_CLOSED,
                                   acting_user=None, on=as_of)
                else:  # nothing to cancel: the audit row field_work_end would write
                    entries.append(AuditEntry(actor=None, actor_label="system", action="fieldwork.end",
                                              object_type="case", object_id=str(case.pk),
                                              new=field_work_end_record(agency_id=agency_of[case.pk],
                                                                        reason=CancelReason.CASE_CLOSED)))
            Placement.objects.filter(pk__in=[p.pk for p in placements.values()]).update(status=Placement.Status.ENDED)
            Assignment.objects.filter(case_id__in=agency_of, ended_at__isnull=True).update(ended_at=timezone.now())
            Case.objects.filter(pk__in=agency_of).update(agency=None, placed_until=None, collector=None,
                                                         version=models.F("version") + 1)
            for case in cases:
                old = _case_state(case)
                case.agency, case.placed_until, case.collector = None, None, None
                case.version += 1
                entries.append(AuditEntry(actor=None, actor_label="system", action="placement.end_closed",
                                          object_type="case", object_id=str(case.pk), old=old,
                                          new={**_case_state(case), "as_of": as_of.isoformat()}))
            AuditEntry.objects.bulk_create(entries)
            ended += len(cases)
    return ended


def cases_after_nightly(*, as_of: date) -> dict[str, int]:
    """What case management does after each nightly cycle (call it once the cycle has synced the
    cases): end placements of closed cases, recall expired placements, decide promises."""
    counts = {
        "placements_ended_closed": placements_end_for_closed_cases(as_of=as_of),
        "placements_expired": placements_expire(as_of=as_of),
    }
    counts.update({f"promises_{k}": v for k, v in promises_evaluate(as_of=as_of).items()})
    return counts
