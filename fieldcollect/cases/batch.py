"""Batch actions on cases: assign or reassign a collector, recall (退案), retain (留案), for cases selected
by the case list's filters or an uploaded list of case ids.

Every case is changed through the one service of its action (:func:`~fieldcollect.cases.services.case_assign`,
:func:`~fieldcollect.cases.services.case_recall`, :func:`~fieldcollect.cases.services.placement_retain`),
so each case keeps its own checks and audit row; the batch adds its own audit rows (made, decided,
applied) and keeps each case's outcome.

Maker-checker (:mod:`fieldcollect.core.maker_checker`): a recall before the placement's period ends,
or a retention beyond the number the contract in force allows, goes *beyond the contract*; a batch
holding any such case waits for a second person's approval (another collections manager or a
compliance officer) and is applied when approved.
Assignments (the agency's own work) and recalls at or after the period's end apply at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as cs
from fieldcollect.cases.access import cases_visible_to, require_capability
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import BatchAction, Case, Placement
from fieldcollect.core import maker_checker as mc
from fieldcollect.core.decisions import check_decision, record_decision
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.ingest.reader import decode_csv_bytes

MAX_CASES = 5_000
MAX_FILE_BYTES = 2 * 1024 * 1024
CAPABILITY = {
    BatchAction.Kind.ASSIGN: "case.assign",
    BatchAction.Kind.RECALL: "case.recall",
    BatchAction.Kind.RETAIN: "case.place",
}
CHECKER_ROLES = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER})


@dataclass(frozen=True)
class ListError:
    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, {self.field}: {self.reason}"


def parse_case_list(name: str, data: bytes) -> tuple[list[int], list[ListError]]:
    """Case ids from an uploaded list: CSV or text (UTF-8, BOM or GBK), one id per row, in the column
    ``case_id`` when there is a header, else the first column. Rows that are not ids are listed."""
    if not data:
        return [], [ListError(name, 0, "file", "the file is empty")]
    if len(data) > MAX_FILE_BYTES:
        return [], [ListError(name, 0, "file", "larger than 2 MB")]
    try:
        text, _enc = decode_csv_bytes(data)
    except ValueError as exc:
        return [], [ListError(name, 0, "file", str(exc))]
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        return [], [ListError(name, 0, "file", "no rows")]
    col, start = 0, 0
    head = [c.strip().lstrip("\ufeff").lower() for c in rows[0]]
    if "case_id" in head or "案件编号" in head:
        col, start = head.index("case_id") if "case_id" in head else head.index("案件编号"), 1
    elif head and not head[0].isdigit():
        return [], [
            ListError(
                name,
                1,
                "case_id",
                "no case_id column (the header has no case_id and the first cell is not an id)",
            )
        ]
    ids: list[int] = []
    errors: list[ListError] = []
    seen: set[int] = set()
    for n, row in enumerate(rows[start:], start=start + 1):
        cell = row[col].strip() if col < len(row) else ""
        if not cell.isascii() or not cell.isdigit() or len(cell) > 18 or int(cell) == 0:
            errors.append(ListError(name, n, "case_id", f"not a case id: {cell[:40]!r}"))
            continue
        if int(cell) not in seen:
            seen.add(int(cell))
            ids.append(int(cell))
    if len(ids) > MAX_CASES:
        return [], [ListError(name, 0, "file", f"more than {MAX_CASES} cases")]
    return ids, errors


def _beyond_contract(kind: str, cases: Iterable[Case], today: date) -> list[int]:
    """The cases whose action goes beyond the contract: a recall before the placement period's end,
    a retention past the contract's limit."""
    if kind == BatchAction.Kind.ASSIGN:
        return []
    ids = [c.pk for c in cases]
    placements = Placement.objects.filter(case_id__in=ids, status=Placement.Status.ACTIVE).select_related(
        "agency"
    )
    out: list[int] = []
    limits: dict[int, int] = {}
    for p in placements:
        if kind == BatchAction.Kind.RECALL:
            if p.ends_on >= today:
                out.append(p.case_id)
        else:
            if p.agency_id not in limits:
                terms = contract_terms(agency=p.agency, on=today)
                limits[p.agency_id] = terms.max_retentions if terms is not None else 0
            if p.retained_count >= limits[p.agency_id]:
                out.append(p.case_id)
    return sorted(out)


def batch_create(
    *,
    kind: str,
    case_ids: list[int],
    acting_user: User,
    reason: str = "",
    selection: str = "",
    collector: Collector | None = None,
    days: int | None = None,
) -> BatchAction:
    """Record a batch action on the cases of ``case_ids`` the user may see (others are refused as
    not found, never revealed). Applied at once unless it goes beyond the contract (then pending)."""
    try:
        kind = BatchAction.Kind(kind)
    except ValueError:
        raise ApplicationError(
            _("Unknown batch action."), code=CaseErrorCode.BATCH_INVALID, extra={"field": "kind"}
        ) from None
    require_capability(acting_user, CAPABILITY[kind])
    reason = reason.strip()
    if kind in (BatchAction.Kind.RECALL, BatchAction.Kind.RETAIN) and not reason:
        raise ApplicationError(
            _("Give a reason."), code=CaseErrorCode.BATCH_INVALID, extra={"field": "reason"}
        )
    if kind == BatchAction.Kind.ASSIGN:
        if collector is None:
            raise ApplicationError(
                _("Choose a collector."), code=CaseErrorCode.BATCH_INVALID, extra={"field": "collector"}
            )
        if acting_user.agency_id != collector.agency_id:
            raise ApplicationError(
                _("The collector belongs to another agency."),
                code=CaseErrorCode.COLLECTOR_OTHER_AGENCY,
                extra={"field": "collector"},
            )
    if days is not None and not 1 <= days <= 366:
        raise ApplicationError(
            _("Retention days must be between 1 and 366."),
            code=CaseErrorCode.BATCH_INVALID,
            extra={"field": "days"},
        )
    ids = list(dict.fromkeys(int(i) for i in case_ids))
    if not ids:
        raise ApplicationError(
            _("No cases selected."), code=CaseErrorCode.BATCH_INVALID, extra={"field": "cases"}
        )
    if len(ids) > MAX_CASES:
        raise ApplicationError(
            _("At most %(n)d cases in one batch.") % {"n": MAX_CASES},
            code=CaseErrorCode.BATCH_INVALID,
            extra={"field": "cases"},
        )
    today = timezone.localdate()
    visible = list(cases_visible_to(acting_user).filter(pk__in=ids).order_by("id"))
    found = {c.pk for c in visible}
    outcomes = {
        str(i): {"ok": False, "code": CaseErrorCode.NOT_FOUND.value, "message": _("Case not found.")}
        for i in ids
        if i not in found
    }
    beyond = _beyond_contract(kind, visible, today)
    with transaction.atomic():
        batch = BatchAction.objects.create(
            kind=kind,
            agency_id=acting_user.agency_id,
            collector=collector,
            case_ids=[c.pk for c in visible],
            selection=selection[:300],
            reason=reason[:300],
            days=days,
            needs_approval=bool(beyond),
            beyond_contract=beyond,
            made_by=acting_user,
            made_at=timezone.now(),
            outcomes=outcomes,
            failed=len(outcomes),
        )
        audit_log(
            actor=acting_user,
            action="batch.create",
            object_type="batch_action",
            object_id=batch.pk,
            new={
                "kind": kind.value,
                "cases": len(batch.case_ids),
                "not_found": len(outcomes),
                "selection": batch.selection,
                "reason": batch.reason,
                "beyond_contract": beyond,
                "collector": collector.pk if collector else None,
                "days": days,
            },
        )
    if not beyond:
        _apply(batch, approved_by=None)
    batch.refresh_from_db()
    return batch


_MESSAGES = {
    mc.Violation.NOT_PENDING: lambda: _("This batch has already been decided."),
    mc.Violation.SAME_PERSON: lambda: _("The person who made a batch cannot approve it."),
    mc.Violation.ROLE_NOT_ALLOWED: lambda: _("Your role may not approve batch actions."),
    mc.Violation.NOT_MAKER: lambda: _("Only the person who made it may withdraw it."),
}


def batch_decide(*, batch: BatchAction, decision: str, acting_user: User, note: str = "") -> BatchAction:
    """A second person (another collections manager or a compliance officer) approves (the batch is
    applied) or rejects it; its maker may withdraw it. Audited."""
    with transaction.atomic():
        locked = BatchAction.objects.select_for_update().get(pk=batch.pk)
        check_decision(
            locked,
            decision=decision,
            acting_user=acting_user,
            checker_roles=CHECKER_ROLES,
            messages=_MESSAGES,
            code=CaseErrorCode.BATCH_DECISION,
            invalid=lambda: ApplicationError(
                _("approve, reject or withdraw"), code=CaseErrorCode.BATCH_INVALID, extra={"field": "decision"}
            ),
        )
        old = record_decision(locked, decision=decision, acting_user=acting_user, note=note, note_length=300)
        audit_log(
            actor=acting_user,
            action=f"batch.{mc.Decision(decision).value}",
            object_type="batch_action",
            object_id=locked.pk,
            old={"state": old},
            new={
                "state": locked.state,
                "note": locked.decision_note,
                "kind": locked.kind,
                "cases": len(locked.case_ids),
                "beyond_contract": locked.beyond_contract,
            },
        )
    if locked.state == BatchAction.State.APPROVED:
        _apply(locked, approved_by=acting_user)
    batch.refresh_from_db()
    return batch


def _apply(batch: BatchAction, *, approved_by: User | None) -> None:
    """Apply the batch case by case through the action's service (each case in its own transaction:
    one refused case does not undo the others); keep each outcome; audit the result."""
    maker = batch.made_by
    today = timezone.localdate()
    beyond = set(batch.beyond_contract)
    outcomes = dict(batch.outcomes)
    applied = 0
    for case in Case.objects.filter(pk__in=batch.case_ids).order_by("id"):
        try:
            if batch.kind == BatchAction.Kind.ASSIGN:
                assert batch.collector is not None
                cs.case_assign(case=case, collector=batch.collector, acting_user=maker)
            elif batch.kind == BatchAction.Kind.RECALL:
                cs.case_recall(case=case, reason=batch.reason, acting_user=maker, on=today)
            else:
                cs.placement_retain(
                    case=case,
                    acting_user=maker,
                    days=batch.days,
                    reason=batch.reason,
                    beyond_limit_approved_by=approved_by if case.pk in beyond else None,
                )
        except ApplicationError as exc:
            outcomes[str(case.pk)] = {"ok": False, "code": str(exc.code), "message": exc.message}
            continue
        outcomes[str(case.pk)] = {"ok": True}
        applied += 1
    with transaction.atomic():
        batch.outcomes = outcomes
        batch.applied = applied
        batch.failed = sum(1 for o in outcomes.values() if not o.get("ok"))
        batch.applied_at = timezone.now()
        batch.state = BatchAction.State.DONE
        batch.save(update_fields=["outcomes", "applied", "failed", "applied_at", "state"])
        audit_log(
            actor=approved_by or maker,
            action="batch.apply",
            object_type="batch_action",
            object_id=batch.pk,
            new={
                "kind": batch.kind,
                "applied": applied,
                "failed": batch.failed,
                "approved_by": approved_by.pk if approved_by else None,
            },
        )


def batches_visible_to(user: User) -> QuerySet[BatchAction]:
    """Batches a user may see: every bank user (read-only unless a collections manager) all, an agency
    manager its agency's own."""
    qs = BatchAction.objects.select_related("made_by", "checked_by", "collector").order_by("-made_at", "-id")
    if not user.is_active:
        return qs.none()
    if user.is_superuser or user.is_bank_user:
        return qs
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=user.agency_id)
    return qs.none()


def may_batch(user: User) -> bool:
    return user.is_active and (
        user.role in (Role.COLLECTIONS_MANAGER, Role.AGENCY_MANAGER) or user.is_superuser
    )


def require_batch_user(user: User) -> None:
    require_role(may_batch(user))
