"""Writes for agency selection: candidate files, weights, inspections, approval, suspension, exit.
Each runs in one transaction with its audit row; only the bank's collections manager may write."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.scorecards.errors import ScorecardErrorCode
from fieldcollect.scorecards.models import AgencyCandidate, CriterionWeight, Inspection, StatusChange
from fieldcollect.scorecards.selectors import CRITERIA_NAMES, FILE_CRITERIA_NAMES

S = Agency.Status
# allowed status moves: approve a candidate, suspend / reinstate, exit from anything but exited
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CANDIDATE: frozenset({S.APPROVED, S.EXITED}),
    S.APPROVED: frozenset({S.SUSPENDED, S.EXITED}),
    S.SUSPENDED: frozenset({S.APPROVED, S.EXITED}),
    S.EXITED: frozenset(),
}


def require_manager(user: User | None) -> None:
    """Only the bank's collections manager (or a superuser) changes selection data."""
    if user is None:
        return
    require_role(user.is_active and (user.is_superuser or user.role == Role.COLLECTIONS_MANAGER))


def _decimal(value: Any, name: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ApplicationError(_("Enter a number."), code=ScorecardErrorCode.SELECTION_INVALID, extra={"field": name}) from exc
    if not d.is_finite() or d < 0:
        raise ApplicationError(_("Enter a number of at least 0."), code=ScorecardErrorCode.SELECTION_INVALID, extra={"field": name})
    return d


def candidate_save(*, agency: Agency, values: dict[str, Any], acting_user: User | None, notes: str = "") -> AgencyCandidate:
    """Create or update the agency's selection file (criteria values; shares and rates as 0–1). The
    criteria computed from the records (conduct) are not in the file."""
    require_manager(acting_user)
    unknown = set(values) - set(FILE_CRITERIA_NAMES)
    if unknown:
        raise ApplicationError(_("Unknown criterion."), code=ScorecardErrorCode.SELECTION_UNKNOWN, extra={"names": sorted(unknown)})
    clean = {k: _decimal(v, k) for k, v in values.items()}
    for k in ("licensed_staff_share", "trained_staff_share", "recovery_rate_m1_m2", "recovery_rate_m3_m4",
              "recovery_rate_m5_plus", "fee_rate"):
        if k in clean and clean[k] > 1:
            raise ApplicationError(_("Shares and rates are fractions between 0 and 1."), code=ScorecardErrorCode.SELECTION_INVALID,
                                   extra={"field": k})
    with transaction.atomic():
        cand, created = AgencyCandidate.objects.select_for_update().get_or_create(agency=agency)
        old = None if created else {k: str(getattr(cand, k)) for k in clean}
        for k, v in clean.items():
            setattr(cand, k, v)
        if notes:
            cand.notes = notes
        cand.save()
        audit_log(actor=acting_user, action="selection.candidate_save", object_type="agency", object_id=agency.pk,
                  old=old, new={k: str(v) for k, v in clean.items()})
    return cand


def weights_update(*, weights: dict[str, Any], acting_user: User | None) -> dict[str, Decimal]:
    """Store the criteria weights (any non-negative numbers, not all zero; normalised when ranking)."""
    require_manager(acting_user)
    unknown = set(weights) - set(CRITERIA_NAMES)
    if unknown:
        raise ApplicationError(_("Unknown criterion."), code=ScorecardErrorCode.SELECTION_UNKNOWN, extra={"names": sorted(unknown)})
    clean = {k: _decimal(v, k) for k, v in weights.items()}
    if clean and not any(clean.values()):
        raise ApplicationError(_("At least one weight must be above 0."), code=ScorecardErrorCode.SELECTION_ZERO_WEIGHTS)
    with transaction.atomic():
        old = {w.name: str(w.weight) for w in CriterionWeight.objects.select_for_update()}
        for name, w in clean.items():
            CriterionWeight.objects.update_or_create(name=name, defaults={"weight": w})
        audit_log(actor=acting_user, action="selection.weights", object_type="selection", object_id="weights",
                  old=old, new={k: str(v) for k, v in clean.items()})
    return clean


def inspection_record(*, agency: Agency, year: int, inspected_on: date, score: Any, passed: bool,
                      findings: str, acting_user: User | None) -> Inspection:
    """Record the yearly inspection; its score also becomes the candidate file's inspection score."""
    require_manager(acting_user)
    value = _decimal(score, "score")
    if value > 100:
        raise ApplicationError(_("The score is between 0 and 100."), code=ScorecardErrorCode.SELECTION_INVALID, extra={"field": "score"})
    with transaction.atomic():
        if Inspection.objects.filter(agency=agency, year=year).exists():
            raise ApplicationError(_("This year's inspection is already recorded."), code=ScorecardErrorCode.SELECTION_DUPLICATE)
        insp = Inspection.objects.create(agency=agency, year=year, inspected_on=inspected_on, score=value,
                                         passed=passed, findings=findings, inspector=acting_user)
        cand, _created = AgencyCandidate.objects.get_or_create(agency=agency)
        cand.inspection_score = value
        cand.save(update_fields=["inspection_score", "updated_at"])
        audit_log(actor=acting_user, action="selection.inspection", object_type="agency", object_id=agency.pk,
                  new={"year": year, "score": str(value), "passed": passed})
    return insp


def agency_set_status(*, agency: Agency, target: str, reason: str, acting_user: User | None,
                      on: date | None = None) -> Agency:
    """Approve, suspend, reinstate or exit an agency.

    Suspension stops new placements (case management places only with approved agencies) and keeps
    the current ones; exit also recalls every active placement of the agency (reason "agency exit").
    """
    require_manager(acting_user)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code=ScorecardErrorCode.SELECTION_REASON_REQUIRED)
    day = on or timezone.localdate()
    with transaction.atomic():
        locked = Agency.objects.select_for_update().get(pk=agency.pk)
        if target not in TRANSITIONS.get(locked.status, frozenset()):
            raise ApplicationError(
                _("An agency in status “%(current)s” cannot move to “%(target)s”.")
                % {"current": S(locked.status).label, "target": S(target).label},
                code=ScorecardErrorCode.SELECTION_INVALID_TRANSITION, extra={"current": locked.status, "target": target})
        old = locked.status
        locked.status = target
        locked.save(update_fields=["status"])
        StatusChange.objects.create(agency=locked, old_status=old, new_status=target, reason=reason[:300], on=day,
                                    by=acting_user)
        recalled = 0
        if target == S.EXITED:
            ids = Placement.objects.filter(agency=locked, status=Placement.Status.ACTIVE).values_list("case_id", flat=True)
            for case in Case.objects.filter(pk__in=list(ids)):
                case_services.case_recall(case=case, reason="agency exit", acting_user=None, on=day)
                recalled += 1
        audit_log(actor=acting_user, action=f"agency.{target}", object_type="agency", object_id=locked.pk,
                  old={"status": old}, new={"status": target, "reason": reason, "recalled": recalled})
    agency.refresh_from_db()
    return agency
