"""Payment events reported the same day by the core banking system or a payment channel.

A :class:`PaymentEvent` is what a channel told us (its reference, loan, amount, time); its effect on
the case is a :class:`fieldcollect.cases.models.Payment` row (``payment``), the row every other rule
reads (promises, plans, commission attribution, reports). The nightly export stays the book of
record: the nightly reconciliation (:mod:`fieldcollect.payments.reconcile`) pairs each event's
payment with the export's payment and gives the row the export's reference, so the nightly
recording never adds it a second time.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user


class PaymentChannel(models.Model):
    """A channel allowed to report payments. Its HMAC secret is not stored here: it is generated at
    set-up into the data home's keys folder (:mod:`fieldcollect.payments.channels`), never committed."""

    name = models.CharField(max_length=15, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class PaymentEvent(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied, not reconciled yet")
        NO_CASE = "no_case", _("Recorded, the loan has no open case")
        MATCHED = "matched", _("Matched with the export")
        AMOUNT_DIFFERS = "amount_differs", _("In the export with another amount")
        MISSING = "missing", _("Missing from the export")

    channel = models.CharField(max_length=15)
    reference = models.CharField(max_length=48)
    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.OneToOneField(
        "cases.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="event"
    )
    amount_fen = models.BigIntegerField()
    paid_at = models.DateTimeField()
    paid_on = models.DateField(help_text="The bank's business date of paid_at (bank time zone)")
    received_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED, db_index=True)
    store_payment_id = models.BigIntegerField(null=True, blank=True)
    store_amount_fen = models.BigIntegerField(null=True, blank=True)
    reconciled_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-received_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # idempotency: a channel's reference names one payment; posting it again changes nothing
            models.UniqueConstraint(
                fields=["channel", "reference"], name="payments_event_channel_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_event_amount_positive"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["loan", "paid_on"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.reference} loan {self.loan_id} {self.amount_fen} fen"


class Reconciliation(models.Model):
    """One night's comparison of the same-day payments with the export (the book of record)."""

    as_of = models.DateField(unique=True)
    matched = models.IntegerField(default=0)
    amount_differs = models.IntegerField(default=0)
    missing = models.IntegerField(default=0)
    extra = models.IntegerField(default=0)
    details = models.JSONField(default=dict, help_text="The first differences of each kind")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-as_of"]

    def __str__(self) -> str:
        return f"Reconciliation {self.as_of}"


class CoreInstruction(NewestFirst):
    """An instruction to the core banking system (write-back) for an accepted plan: a restructuring, a
    waiver or a settlement. Delivered through the outbox (``message``: channel ``core``, retried by
    ``outbox_dispatch``), then acknowledged or refused by the core with a reason
    (:mod:`fieldcollect.payments.writeback`; the JSON schema is ``docs/core-instructions.md``)."""

    class Kind(models.TextChoices):
        RESTRUCTURE = "restructure", _("Restructuring")
        WAIVER = "waiver", _("Waiver")
        SETTLEMENT = "settlement", _("Settlement")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent, waiting for the core's answer")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the core")
        REFUSED = "refused", _("Refused by the core")
        FAILED = "failed", _("Could not be delivered")

    instruction_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    proposal = models.ForeignKey("plans.RestructuringProposal", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="+")
    message = models.OneToOneField("outbox.OutboxMessage", on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1, help_text="1, then one more for each re-send")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta(NewestFirst.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # one live instruction per plan: a re-send after a refusal replaces the refused one's place
            models.UniqueConstraint(
                fields=["proposal", "attempt"], name="payments_instruction_attempt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.instruction_id} {self.status}"


class PaymentLink(NewestFirst):
    """A signed link to the bank's repayment page for a case, a plan instalment or a promise (collectors
    never take cash). Paid through the provider, the payment comes back as a same-day payment of the
    provider's channel (reference = the link's reference) and the link gets its event (the receipt)."""

    class Purpose(models.TextChoices):
        CASE = "case", _("The overdue amount of the case")
        INSTALMENT = "instalment", _("A plan instalment")
        PROMISE = "promise", _("A promise to pay")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        EXPIRED = "expired", _("Expired")

    reference = models.CharField(max_length=48, unique=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    instalment = models.ForeignKey(
        "plans.PlanInstalment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    promise = models.ForeignKey(
        "cases.PromiseToPay", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.BigIntegerField()
    provider = models.CharField(max_length=20)
    url = models.URLField(max_length=500)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    failure = models.CharField(max_length=200, blank=True, default="")
    event = models.OneToOneField(
        PaymentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="link"
    )
    expires_at = models.DateTimeField()
    created_by = by_user()

    class Meta(NewestFirst.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_link_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Link {self.reference} {self.amount_fen} fen {self.status}"
