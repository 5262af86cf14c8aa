"""Collection cases: one open case per delinquent loan, opened, updated and closed by the nightly
cycle and worked by the bank and its agencies."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.cases.lifecycle import CaseStatus, CloseReason
from fieldcollect.core.records import NewestFirst, by_user
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel, EncryptedTextField


class Case(models.Model):
    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="cases")
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW, db_index=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True, default="")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    # collection data refreshed by each nightly cycle (Fineract's CollectionData)
    dpd = models.IntegerField(default=0)
    max_dpd = models.IntegerField(default=0)
    bucket = models.CharField(max_length=8, default="M0")
    overdue_fen = models.BigIntegerField(default=0, db_index=True)
    outstanding_principal_fen = models.BigIntegerField(default=0)
    city = models.CharField(max_length=30, default="")
    last_cycle_on = models.DateField(null=True, blank=True)
    # optimistic concurrency: every write increments it; a stale writer gets a conflict
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    # denormalised from the active Placement / Assignment (kept by the services in the same
    # transaction) so that an agency's or a collector's list is one index range scan
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_until = models.DateField(null=True, blank=True)
    collector = models.ForeignKey(
        "agencies.Collector", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-dpd", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["loan"], condition=Q(closed_on__isnull=True), name="one_open_case_per_loan"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "bucket"]),
            models.Index(fields=["city", "-dpd", "id"], name="case_city_dpd_idx"),
            models.Index(fields=["bucket", "-dpd", "id"], name="case_bucket_dpd_idx"),
            models.Index(fields=["bucket", "city", "-dpd", "id"], name="case_bucket_city_dpd_idx"),
            models.Index(fields=["agency", "-dpd", "id"], name="case_agency_dpd_idx"),
            models.Index(fields=["collector", "-dpd", "id"], name="case_collector_dpd_idx"),
            models.Index(fields=["-dpd", "id"], name="case_dpd_id_idx"),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} (loan {self.loan_id})"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


# the recall reason of placements recalled because the agency has no contract in force any more
# (:func:`fieldcollect.cases.services.placements_recall_for_ended_contracts`)
RECALL_CONTRACT_ENDED = "contract ended"


class Placement(models.Model):
    """A case handed to one agency for a period (委案); may be retained (留案) or recalled (退案)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RECALLED = "recalled", _("Recalled")
        ENDED = "ended", _("Ended")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="placements")
    contract = models.ForeignKey(
        "agencies.AgencyContract", null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField()
    ends_on = models.DateField()
    bucket_at_placement = models.CharField(max_length=8, default="")
    overdue_fen_at_placement = models.BigIntegerField(default=0)
    retained_count = models.PositiveSmallIntegerField(default=0)
    recalled_on = models.DateField(null=True, blank=True)
    recall_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["-starts_on", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="active"), name="one_active_placement_per_case"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "status"])]

    def __str__(self) -> str:
        return f"Placement {self.pk} case {self.case_id} → agency {self.agency_id}"


class Assignment(models.Model):
    """A placed case given by the agency to one of its collectors."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="assignments")
    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    assigned_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["-assigned_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["case"], condition=Q(ended_at__isnull=True), name="one_open_assignment_per_case"),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} case {self.case_id} → collector {self.collector_id}"


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Field visit")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")


class Party(models.TextChoices):
    DEBTOR = "debtor", _("Debtor")
    SPOUSE = "spouse", _("Spouse")
    RELATIVE = "relative", _("Relative")
    EMPLOYER = "employer", _("Employer")
    GUARANTOR = "guarantor", _("Guarantor")
    THIRD_PARTY = "third_party", _("Other third party")


class Outcome(models.TextChoices):
    PAID = "paid", _("Paid")
    PROMISE = "promise", _("Promise to pay")
    HARDSHIP = "hardship", _("Hardship")
    REFUSED = "refused", _("Refused to pay")
    NOT_HOME = "not_home", _("Not at home")
    MOVED = "moved", _("Moved away")
    WRONG_ADDRESS = "wrong_address", _("Wrong address")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    NO_ANSWER = "no_answer", _("No answer")
    DISPUTE = "dispute", _("Dispute")
    THIRD_PARTY_MET = "third_party_met", _("Third party met")
    CALLBACK = "callback", _("Call back later")
    LETTER_SENT = "letter_sent", _("Letter sent")


class ContactAttempt(EncryptedModel):
    # no index of its own: the (case, at) index below serves lookups by case (one index less to write
    # on every contact)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts", db_index=False)
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    collector = models.ForeignKey("agencies.Collector", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    party = models.CharField(max_length=16, choices=Party.choices, default=Party.DEBTOR)
    number = EncryptedCharField(max_length=32, blank=True, default="", help_text="Phone number or address used")
    at = models.DateTimeField(db_index=True)
    connected = models.BooleanField(default=False)
    conversation = models.BooleanField(default=False, help_text="A conversation with the party took place")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    notes = EncryptedTextField(blank=True, default="")
    recorded_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)
    # an agency's work result imported in bulk (催记, :mod:`fieldcollect.cases.results_import`): the
    # agency's own id of the record (unique per agency: a second import of it applies nothing)
    agency_ref = models.CharField(max_length=64, blank=True, default="")
    # a contact reported after it happened that broke these rules at its own time (checked on import
    # by the compliance engine); recorded, and counted as a breach in the daily report and scorecard
    breach_rules = models.JSONField(default=list, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["case", "at"])]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["agency", "agency_ref"], condition=~Q(agency_ref=""),
                                    name="contact_agency_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"Contact {self.pk} case {self.case_id} {self.channel} {self.outcome}"


class PromiseToPay(NewestFirst):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises")
    contact = models.ForeignKey(ContactAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="promises")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField()
    due_on = models.DateField()
    promised_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    paid_fen = models.BigIntegerField(default=0)
    resolved_on = models.DateField(null=True, blank=True)
    recorded_by = by_user()

    class Meta(NewestFirst.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="promise_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Promise {self.pk} case {self.case_id} {self.amount_fen} fen by {self.due_on}"


class Payment(models.Model):
    """A payment received on a case's loan (bank's designated channels only), attributed to the
    placement that was active when it was received (for commission)."""

    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    placement = models.ForeignKey(Placement, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(db_index=True)
    amount_fen = models.BigIntegerField()
    channel = models.CharField(max_length=32, default="bank_transfer")
    reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-paid_on", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["loan", "paid_on"])]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # a reference names one payment of one loan: ``store:<payment_id>`` for the bank's export,
            # the bank's transaction reference for one entered by hand (a transfer split over two loans
            # keeps its reference on each); empty means "no reference" and may repeat
            models.UniqueConstraint(fields=["loan", "reference"], condition=~models.Q(reference=""),
                                    name="cases_payment_loan_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} loan {self.loan_id} {self.amount_fen} fen"


class Task(models.Model):
    class Kind(models.TextChoices):
        CALL_BACK = "call_back", _("Call back")
        VISIT = "visit", _("Field visit")
        FOLLOW_UP = "follow_up", _("Follow up")
        CHECK_PROMISE = "check_promise", _("Check promise")
        DOCUMENT = "document", _("Send documents")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FOLLOW_UP)
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = by_user()
    result = models.CharField(max_length=500, blank=True, default="")
    created_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["due_on", "id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["agency", "status", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk} {self.kind} case {self.case_id}"


class Note(NewestFirst, EncryptedModel):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = by_user()
    body = EncryptedTextField()

    def __str__(self) -> str:
        return f"Note {self.pk} case {self.case_id}"


class BatchAction(models.Model):
    """One action on many cases (assign or reassign a collector, recall, retain), selected by a filter or
    an uploaded list. A recall before the placement's end or a retention beyond the contract's limit
    waits for a second person's approval (maker-checker); the rest is applied at once. Each case's
    outcome is kept; every case is changed through the one service of its action."""

    class Kind(models.TextChoices):
        ASSIGN = "assign", _("Assign or reassign a collector")
        RECALL = "recall", _("Recall (退案)")
        RETAIN = "retain", _("Retain (留案)")

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DONE = "done", _("Applied")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    collector = models.ForeignKey("agencies.Collector", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    case_ids = models.JSONField(default=list)
    selection = models.CharField(max_length=300, blank=True, default="", help_text="The filter or the file used")
    reason = models.CharField(max_length=300, blank=True, default="")
    days = models.PositiveIntegerField(null=True, blank=True, help_text="Retention: days added")
    needs_approval = models.BooleanField(default=False)
    beyond_contract = models.JSONField(default=list, help_text="Cases whose action goes beyond the contract")
    made_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    checked_by = by_user()
    checked_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)
    applied = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    outcomes = models.JSONField(default=dict, blank=True, help_text="Per case: ok, or the error code and message")

    class Meta:
        ordering: ClassVar[list[str]] = ["-made_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["state", "made_at"])]

    def __str__(self) -> str:
        return f"Batch {self.pk} {self.kind} ({len(self.case_ids)} cases, {self.state})"
