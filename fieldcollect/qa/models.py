"""Quality inspection (录音质检): recordings of calls and visits, their transcripts and automatic
findings, the agency QA leads who may listen, and the record of every purge.

Audio is never in the database: a recording names a sealed file of the evidence store
(``$FIELDCOLLECT_HOME/evidence/<sha256>``, :mod:`fieldcollect.visits.evidence`), encrypted at rest
with the key ring from its first byte. A visit's recording is the visit report's audio evidence.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import by_user
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel, EncryptedTextField


class QaLead(models.Model):
    """An agency manager designated as the agency's QA lead: may play back its own agency's recordings."""

    user = models.OneToOneField("core.User", on_delete=models.CASCADE, related_name="qa_lead")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="qa_leads")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"QA lead {self.user_id} of agency {self.agency_id}"


class Recording(EncryptedModel):
    class Source(models.TextChoices):
        DIALLER = "dialler", _("Dialler")
        VISIT = "visit", _("Field visit")

    class Channel(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="recordings")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="recordings")
    collector = models.ForeignKey(
        "agencies.Collector", null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.CALL)
    dialler_id = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="The dialler's own id of the call: uploads are idempotent by it",
    )
    phone = EncryptedCharField(max_length=32, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    pack = models.CharField(max_length=8, default="CN")
    evidence = models.OneToOneField(
        "visits.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="qa_recording"
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    legal_hold = models.BooleanField(
        default=False, help_text="Kept past retention while a legal matter is open"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = by_user()
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-started_at", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["agency", "dialler_id"],
                condition=~Q(dialler_id=""),
                name="qa_recording_unique_dialler_id",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="qa_recording_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"recording {self.pk} of case {self.case_id}"

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class Transcript(EncryptedModel):
    """A recording's transcript: the ASR vendor's segments (speaker, start, end, text) and the engine."""

    recording = models.OneToOneField(Recording, on_delete=models.CASCADE, related_name="transcript")
    language = models.CharField(max_length=4)
    engine = models.CharField(max_length=64, help_text="vendor:<name> or local:<engine>")
    segments = EncryptedTextField(help_text="JSON list of {speaker, start_s, end_s, text}")
    imported_at = models.DateTimeField(auto_now_add=True)
    scanned_pack = models.CharField(max_length=32, blank=True, default="", help_text="pack id and version")

    def __str__(self) -> str:
        return f"transcript of recording {self.recording_id}"


class AutoFinding(EncryptedModel):
    """A finding of the conduct detector on a transcript (to be confirmed or dismissed in review)."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="findings")
    category = models.CharField(max_length=40, db_index=True)
    rule_id = models.CharField(max_length=64)
    severity = models.CharField(max_length=8)
    segment_index = models.IntegerField(null=True, blank=True)
    start_s = models.FloatField(null=True, blank=True)
    evidence = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["transcript", "segment_index", "id"]

    def __str__(self) -> str:
        return f"{self.category} ({self.rule_id})"


class PurgeRecord(models.Model):
    """What a purge deleted: one row per recording, kept after the audio is gone."""

    run_at = models.DateTimeField(db_index=True)
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="purges")
    case_id_snapshot = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    file_deleted = models.BooleanField(help_text="False when another record still uses the same content")
    retention_days = models.IntegerField()
    reason = models.CharField(max_length=64, default="retention")

    class Meta:
        ordering: ClassVar[list[str]] = ["-run_at", "id"]

    def __str__(self) -> str:
        return f"purge of recording {self.recording_id} at {self.run_at:%Y-%m-%d}"


# ---------------------------------------------------------------- training and certification (item 6)


class Course(models.Model):
    """A training course collectors must complete; ``validity_days`` after completion it must be retaken."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    validity_days = models.PositiveIntegerField(default=365)
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="Exam score (0-100) needed to pass")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.code


class ExamResult(models.Model):
    """An exam sat by a collector: the score against the course's pass mark on the day."""

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="exam_results")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="exam_results")
    taken_on = models.DateField()
    score = models.PositiveSmallIntegerField()
    pass_mark = models.PositiveSmallIntegerField()
    recorded_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-taken_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(score__lte=100) & Q(pass_mark__lte=100), name="qa_exam_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id} {self.score}/{self.pass_mark}"

    @property
    def passed(self) -> bool:
        return self.score >= self.pass_mark


class Certificate(models.Model):
    """A collector's certificate (从业资格): issued on passing, valid until ``expires_on``, suspended on
    a critical confirmed finding, revoked for good."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(max_length=40, unique=True)
    exam = models.ForeignKey(ExamResult, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_on = models.DateField()
    expires_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_reason = models.CharField(max_length=200, blank=True, default="")
    reminded_on = models.DateField(null=True, blank=True, help_text="When the last renewal reminder went out")

    class Meta:
        ordering: ClassVar[list[str]] = ["-expires_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("issued_on")), name="qa_certificate_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.number


# ---------------------------------------------------------------- review and consequences (items 4-5)


class ScoringForm(models.Model):
    """A pack's scoring checklist, versioned: ``items`` is a list of ``{"id", "label", "label_en", "weight"}``."""

    pack = models.CharField(max_length=8)
    version = models.PositiveIntegerField()
    items = models.JSONField()
    pass_score = models.PositiveSmallIntegerField(default=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["pack", "version"], name="qa_scoring_form_version"),
        ]

    def __str__(self) -> str:
        return f"{self.pack} v{self.version}"


class Review(models.Model):
    class Verdict(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        CRITICAL = "critical", _("Critical")

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(ScoringForm, on_delete=models.PROTECT, related_name="reviews")
    answers = models.JSONField(help_text="item id -> true (met) / false (not met)")
    score = models.PositiveSmallIntegerField(help_text="weighted share of the items met, 0-100")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["recording", "reviewer"], name="qa_review_once_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"review {self.pk} of recording {self.recording_id}: {self.verdict}"


class ConfirmedFinding(models.Model):
    """A finding a reviewer confirmed: it counts for the agency's conduct score, the commission
    statement's penalty terms (issue 23 reads them through ``selectors.confirmed_findings``) and,
    when critical, suspends the collector's certificate. The agency may appeal (maker-checker at the bank)."""

    class Appeal(models.TextChoices):
        NONE = "", _("No appeal")
        FILED = "filed", _("Appeal filed")
        PROPOSED = "proposed", _("Decision proposed")
        UPHELD = "upheld", _("Appeal upheld: finding withdrawn")
        REJECTED = "rejected", _("Appeal rejected")

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="confirmed")
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="confirmed_findings")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="qa_findings")
    collector = models.ForeignKey(
        "agencies.Collector", null=True, blank=True, on_delete=models.PROTECT, related_name="qa_findings"
    )
    category = models.CharField(max_length=40, db_index=True)
    severity = models.CharField(max_length=8)
    rule_id = models.CharField(max_length=64, blank=True, default="")
    segment_index = models.IntegerField(null=True, blank=True)
    confirmed_at = models.DateTimeField(db_index=True)
    appeal = models.CharField(max_length=10, choices=Appeal.choices, blank=True, default="")
    appeal_reason = models.TextField(blank=True, default="")
    appeal_filed_by = by_user()
    appeal_proposed_by = by_user()
    appeal_proposal = models.CharField(max_length=10, blank=True, default="")
    appeal_decided_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["-confirmed_at", "id"]

    def __str__(self) -> str:
        return f"{self.category} ({self.severity}) of recording {self.recording_id}"

    @property
    def in_force(self) -> bool:
        return self.appeal != self.Appeal.UPHELD
