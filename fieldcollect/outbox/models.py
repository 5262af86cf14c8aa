"""The outbox: text messages written in the transaction of the change that causes them and delivered
later (``services.outbox_dispatch``). Used by visits, complaints, early warning and plans."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel, EncryptedTextField


class OutboxMessage(EncryptedModel):
    """A message to send (SMS to the customer); written in the transaction of the change that causes
    it, delivered later by :func:`fieldcollect.outbox.services.outbox_dispatch`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    channel = models.CharField(max_length=8, default="sms")
    to = EncryptedCharField(max_length=40, help_text="The recipient's number (encrypted)")
    body = EncryptedTextField()
    kind = models.CharField(max_length=32, help_text="appointment_link, reminder, feedback, ...")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        "visits.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The appointment the message is for (its link, its reminder): sent only while it is live")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    adapter = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Held by the compliance check until then (debtor's contact hours, pauses)")

    class Meta:
        # the table keeps the name it had in ``visits``: the rows move with no copy, and the encrypted
        # values stay bound to their table (privacy/fields.py binds a value to table, column and row)
        db_table = "visits_outboxmessage"
        ordering: ClassVar[list[str]] = ["id"]

    def __str__(self) -> str:
        return f"Outbox {self.pk} {self.kind} {self.status}"
