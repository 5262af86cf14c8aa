"""Review of sampled recordings (issue 21, items 4-5): the scoring form's weighted checklist, the
verdict, the confirmed findings and their consequences (a critical one suspends the collector's
certificates), the agency's appeal decided maker-checker at the bank, and agreement between reviewers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.analytics.conduct import CATEGORIES
from fieldcollect.analytics.conduct.sampling import cohen_kappa
from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.maker_checker import same_person
from fieldcollect.core.models import Role, User
from fieldcollect.qa import training
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import Certificate, ConfirmedFinding, Recording, Review, ScoringForm

SEVERITIES = ("critical", "major", "minor")


def _is_reviewer(user: User) -> bool:
    return user.is_superuser or user.role == Role.COMPLIANCE_OFFICER


def form_score(form: ScoringForm, answers: dict[str, bool]) -> int:
    """The weighted share (0-100) of the form's items met; every item must be answered."""
    items = form.items
    ids = [str(i["id"]) for i in items]
    missing = [i for i in ids if i not in answers]
    extra = [k for k in answers if k not in ids]
    if missing or extra:
        raise ApplicationError(_("Answer every item of the form, and only those."), code=QaErrorCode.FORM_ANSWERS,
                               extra={"missing": missing, "unknown": extra})  # fmt: skip
    total = sum(int(i["weight"]) for i in items)
    met = sum(int(i["weight"]) for i in items if answers[str(i["id"])])
    return round(100 * met / total) if total else 100


def review_submit(*, recording: Recording, reviewer: User, form: ScoringForm, answers: dict[str, bool],
                  verdict: str, confirmed: list[dict[str, Any]]) -> Review:  # fmt: skip
    """Score a recording with the pack's form and confirm findings (``{"category", "severity",
    "rule_id"?, "segment_index"?}``). A critical confirmed finding suspends the collector's active
    certificates (so visits are refused until the appeal is upheld or the certificate reinstated)."""
    if not _is_reviewer(reviewer):
        raise PermissionDeniedError(_("Only bank QA reviews recordings."), code=QaErrorCode.NOT_REVIEWER)
    if form.pack != recording.pack:
        raise ApplicationError(_("The form is not the recording's pack's."), code=QaErrorCode.FORM_PACK)
    if verdict not in Review.Verdict.values:
        raise ApplicationError(_("Unknown verdict."), code=QaErrorCode.VERDICT)
    for c in confirmed:
        if c.get("category") not in CATEGORIES or c.get("severity") not in SEVERITIES:
            raise ApplicationError(_("A confirmed finding needs a known category and severity."), code=QaErrorCode.FINDING,
                                   extra={"finding": {k: str(v) for k, v in c.items()}})  # fmt: skip
    if any(c["severity"] == "critical" for c in confirmed) and verdict != Review.Verdict.CRITICAL:
        raise ApplicationError(_("A critical finding makes the verdict critical."), code=QaErrorCode.VERDICT)
    score = form_score(form, answers)
    now = timezone.now()
    with transaction.atomic():
        if Review.objects.filter(recording=recording, reviewer=reviewer).exists():
            raise ApplicationError(
                _("You reviewed this recording already."), code=QaErrorCode.REVIEWED, status_code=409
            )
        review = Review.objects.create(recording=recording, reviewer=reviewer, form=form, answers=answers,
                                       score=score, verdict=verdict)  # fmt: skip
        rows = ConfirmedFinding.objects.bulk_create(
            ConfirmedFinding(review=review, recording=recording, agency_id=recording.agency_id,
                             collector_id=recording.collector_id, category=c["category"], severity=c["severity"],
                             rule_id=str(c.get("rule_id") or "")[:64], segment_index=c.get("segment_index"),
                             confirmed_at=now)
            for c in confirmed
        )  # fmt: skip
        audit_log(actor=reviewer, action="qa.review.submit", object_type="qa.recording", object_id=recording.pk,
                  new={"review": review.pk, "score": score, "verdict": verdict, "form": f"{form.pack} v{form.version}",
                       "confirmed": [f"{r.category}/{r.severity}" for r in rows]})  # fmt: skip
        if recording.collector_id is not None and any(r.severity == "critical" for r in rows):
            for cert in Certificate.objects.filter(
                collector_id=recording.collector_id, status=Certificate.Status.ACTIVE
            ):
                training.certificate_set_status(certificate=cert, status=Certificate.Status.SUSPENDED,
                                                reason=f"critical finding, review {review.pk}", acting_user=reviewer)  # fmt: skip
    return review


def _appeal_step(finding: ConfirmedFinding, *, acting_user: User, action: str, changes: dict[str, Any],
                 new: dict[str, Any]) -> None:
    """One step of an appeal: the finding's ``changes`` saved and audited as ``action``, at once."""
    with transaction.atomic():
        for field, value in changes.items():
            setattr(finding, field, value)
        finding.save(update_fields=list(changes))
        audit_log(actor=acting_user, action=action, object_type="qa.confirmedfinding",
                  object_id=finding.pk, new=new)  # fmt: skip


def appeal_file(*, finding: ConfirmedFinding, acting_user: User, reason: str) -> ConfirmedFinding:
    """The agency (its manager) appeals a confirmed finding of its own."""
    if acting_user.role != Role.AGENCY_MANAGER or acting_user.agency_id != finding.agency_id:
        raise PermissionDeniedError(
            _("Only the agency's manager appeals its findings."), code=QaErrorCode.APPEAL_FORBIDDEN
        )
    if finding.appeal not in ("",):
        raise ApplicationError(
            _("This finding was appealed already."), code=QaErrorCode.APPEAL_STATE, status_code=409
        )
    _appeal_step(finding, acting_user=acting_user, action="qa.appeal.file", new={"reason": reason[:200]},
                 changes={"appeal": ConfirmedFinding.Appeal.FILED, "appeal_reason": reason, "appeal_filed_by": acting_user})  # fmt: skip
    return finding


def appeal_propose(*, finding: ConfirmedFinding, acting_user: User, decision: str) -> ConfirmedFinding:
    """The bank's maker proposes ``upheld`` or ``rejected``."""
    if not _is_reviewer(acting_user):
        raise PermissionDeniedError(_("Only bank QA decides appeals."), code=QaErrorCode.APPEAL_FORBIDDEN)
    if finding.appeal != ConfirmedFinding.Appeal.FILED or decision not in ("upheld", "rejected"):
        raise ApplicationError(
            _("No appeal to decide, or an unknown decision."), code=QaErrorCode.APPEAL_STATE, status_code=409
        )
    _appeal_step(finding, acting_user=acting_user, action="qa.appeal.propose", new={"decision": decision},
                 changes={"appeal": ConfirmedFinding.Appeal.PROPOSED, "appeal_proposal": decision,
                          "appeal_proposed_by": acting_user})  # fmt: skip
    return finding


def appeal_approve(*, finding: ConfirmedFinding, acting_user: User) -> ConfirmedFinding:
    """The bank's checker (not the maker) approves the proposal. An upheld appeal withdraws the
    finding and reinstates the collector's certificates suspended for it when no other critical
    finding in force remains."""
    if not _is_reviewer(acting_user):
        raise PermissionDeniedError(_("Only bank QA decides appeals."), code=QaErrorCode.APPEAL_FORBIDDEN)
    if finding.appeal != ConfirmedFinding.Appeal.PROPOSED:
        raise ApplicationError(_("No proposed decision to approve."), code=QaErrorCode.APPEAL_STATE, status_code=409)
    if same_person(acting_user.pk, finding.appeal_proposed_by_id):
        raise PermissionDeniedError(_("The checker must not be the maker."), code=QaErrorCode.MAKER_CHECKER)
    with transaction.atomic():
        _appeal_step(finding, acting_user=acting_user, action="qa.appeal.approve", new={"decision": finding.appeal_proposal},
                     changes={"appeal": finding.appeal_proposal, "appeal_decided_by": acting_user})  # fmt: skip
        if finding.appeal == ConfirmedFinding.Appeal.UPHELD and finding.collector_id is not None:
            still_critical = ConfirmedFinding.objects.filter(collector_id=finding.collector_id, severity="critical").exclude(
                appeal=ConfirmedFinding.Appeal.UPHELD).exists()  # fmt: skip
            if not still_critical:
                for cert in Certificate.objects.filter(collector_id=finding.collector_id,
                                                       status=Certificate.Status.SUSPENDED,
                                                       status_reason__startswith="critical finding"):  # fmt: skip
                    training.certificate_set_status(certificate=cert, status=Certificate.Status.ACTIVE,
                                                    reason=f"appeal upheld, finding {finding.pk}", acting_user=acting_user)  # fmt: skip
    return finding


def reviewer_agreement() -> dict[int, dict[str, Any]]:
    """Per reviewer: the recordings scored twice that they scored, and Cohen's kappa of their
    verdicts against the other reviewer's on those recordings."""
    by_recording: dict[int, list[Review]] = defaultdict(list)
    for r in Review.objects.order_by("recording_id", "created_at", "id"):
        by_recording[r.recording_id].append(r)
    pairs: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for reviews in by_recording.values():
        if len(reviews) < 2:
            continue
        a, b = reviews[0], reviews[1]
        for me, other in ((a, b), (b, a)):
            pairs[me.reviewer_id][0].append(me.verdict)
            pairs[me.reviewer_id][1].append(other.verdict)
    return {
        uid: {"double_scored": len(mine), "kappa": cohen_kappa(mine, theirs)}
        for uid, (mine, theirs) in pairs.items()
    }
