"""The outbox: messages are written in the transaction of the change that causes them
(:func:`outbox_enqueue`) and delivered later (:func:`outbox_dispatch`) through an adapter.

Compliance
    Every text message to a case's debtor is checked by the compliance engine when it is about to
    be sent (the moment of contact): contact hours in the debtor's local time, pauses (complaint,
    dispute, cease...), caps of the pack of the loan's jurisdiction. A refused message is not sent:
    it is held until the rule's ``next_allowed_at`` (or re-checked an hour later when the pause has
    no end), the refusal is stored once as a ``BlockedAttempt`` (path ``outbox:<kind>``). The bank's
    messages about a complaint (:data:`SERVICE_KINDS`) are service messages, not collection contact,
    and are not held.

Appointments
    A message made for an appointment (its link, its reminder) names it and goes only while the
    appointment is live (open, and its collector still holds the case); otherwise it is cancelled at
    send time (:func:`fieldcollect.visits.fieldwork.appointment_message_live`), e.g. after a recall.

Adapters
    :class:`FileAdapter` (the demo default) writes one JSON file per message into
    ``$FIELDCOLLECT_HOME/outbox/`` (with the number masked: nothing under the data home holds a
    plaintext mobile; give it a ``directory`` outside the home to see the payload a gateway would
    get); :class:`SmsGatewayAdapter` posts JSON to an SMS gateway's URL
    (``VISITS_SMS_GATEWAY_URL`` and optional ``VISITS_SMS_GATEWAY_TOKEN``, from Django settings or the
    environment). :func:`default_adapter` picks the gateway when a URL is configured.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import Case
from fieldcollect.compliance.services import blocked_attempt_record, sms_decision
from fieldcollect.home import home_dir
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.privacy.masking import mask_mobile
from fieldcollect.visits.fieldwork import appointment_message_live

__all__ = ["DeliveryError", "FileAdapter", "OutboxAdapter", "OutboxMessage", "SmsGatewayAdapter", "default_adapter",
           "outbox_dispatch", "outbox_enqueue"]

MAX_ATTEMPTS = 5
HOLD_RETRY = timedelta(hours=1)
# the bank's answers about a complaint are not collection contact: no contact rule holds them back
SERVICE_KINDS = frozenset({"complaint"})  # a refused message with no next allowed time is checked again after this


class DeliveryError(Exception):
    """The adapter could not deliver the message (it will be retried)."""


class OutboxAdapter(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> None:
        """Deliver ``message`` or raise :class:`DeliveryError`."""
        ...


def _payload(message: OutboxMessage) -> dict[str, object]:
    return {"id": message.pk, "channel": message.channel, "to": message.to, "body": message.body,
            "kind": message.kind, "case_id": message.case_id, "created_at": message.created_at.isoformat()}


@dataclass
class FileAdapter:
    """Writes ``<dir>/<id>.json`` (default ``$FIELDCOLLECT_HOME/outbox``); for the demo and tests."""

    directory: Path | None = None
    name: str = "file"

    def send(self, message: OutboxMessage) -> None:
        payload = _payload(message)
        folder = self.directory
        if folder is None:  # the demo sink inside the data home: no plaintext number there
            folder = home_dir() / "outbox"
            payload["to"] = mask_mobile(str(payload["to"]))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message.pk:08d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


@dataclass
class SmsGatewayAdapter:
    """Posts ``{"to", "text", "reference"}`` as JSON to ``url`` (bearer ``token`` if given)."""

    url: str
    token: str = ""
    timeout: float = 10.0
    name: str = "sms_gateway"

    def send(self, message: OutboxMessage) -> None:
        body = json.dumps({"to": message.to, "text": message.body, "reference": f"fc-{message.pk}"}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = getattr(response, "status", 200)
        except OSError as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
        if not 200 <= int(status) < 300:
            raise DeliveryError(f"gateway answered HTTP {status}")


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, ""))


def default_adapter() -> OutboxAdapter:
    url = _setting("VISITS_SMS_GATEWAY_URL")
    if url:
        return SmsGatewayAdapter(url=url, token=_setting("VISITS_SMS_GATEWAY_TOKEN"))
    return FileAdapter()


def outbox_enqueue(*, to: str, body: str, kind: str, case_id: int | None = None, channel: str = "sms",
                   appointment_id: int | None = None) -> OutboxMessage:
    """Queue a message; call inside the transaction of the change that causes it. A message for an
    appointment names it (``appointment_id``): it is cancelled rather than sent once the appointment
    is no longer live (:func:`fieldcollect.visits.fieldwork.appointment_message_live`)."""
    return OutboxMessage.objects.create(channel=channel, to=to[:40], body=body, kind=kind, case_id=case_id,
                                        appointment_id=appointment_id)


def _compliance_verdict(message: OutboxMessage, now: datetime) -> Any:
    """The compliance decision on sending ``message`` to its case's debtor now (``None``: not a text
    to a case's debtor, nothing to check)."""
    if message.case_id is None or message.channel != "sms" or message.kind in SERVICE_KINDS:
        return None
    case = Case.objects.select_related("customer", "loan").get(pk=message.case_id)
    return sms_decision(case=case, at=now)


def outbox_dispatch(*, adapter: OutboxAdapter | None = None, limit: int = 100,
                    now: datetime | None = None, channel: str = "sms",
                    kinds: Collection[str] | None = None) -> dict[str, int]:
    """Deliver pending messages of ``channel`` (of ``kinds`` only, when given) that are due (oldest
    first) after the compliance check of each text to a debtor; a refused one is held (``held``); a
    failure is retried up to :data:`MAX_ATTEMPTS` times. A message sent is stamped with ``now``, the
    moment checked (the notice before outsourcing counts its waiting days from it). Channel ``core``:
    the instructions to the core banking system (:mod:`fieldcollect.payments.writeback`), through its
    own adapter."""
    from django.db.models import Q

    used = adapter or default_adapter()
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "retry": 0, "held": 0, "cancelled": 0}
    today = timezone.localdate(now)
    due = OutboxMessage.objects.filter(Q(not_before__isnull=True) | Q(not_before__lte=now),
                                       status=OutboxMessage.Status.PENDING, channel=channel)
    if kinds is not None:
        due = due.filter(kind__in=list(kinds))
    ids = list(due.values_list("pk", flat=True)[:limit])
    refused: list[tuple[OutboxMessage, Any]] = []
    for pk in ids:
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().get(pk=pk)
            if message.status != OutboxMessage.Status.PENDING:
                continue
            if not appointment_message_live(message=message, today=today):
                message.status = OutboxMessage.Status.CANCELLED
                message.last_error = "cancelled: the appointment is no longer open for its collector"
                message.save(update_fields=["status", "last_error"])
                audit_log(actor=None, action="outbox.cancel", object_type="outbox", object_id=message.pk,
                          new={"kind": message.kind, "appointment": message.appointment_id})
                counts["cancelled"] += 1
                continue
            verdict = _compliance_verdict(message, now)
            if verdict is not None and not verdict.allowed:
                message.not_before = verdict.next_allowed_at or now + HOLD_RETRY
                message.last_error = ("held by the compliance rules: " + ", ".join(verdict.rule_ids))[:500]
                message.save(update_fields=["not_before", "last_error"])
                refused.append((message, verdict))
                counts["held"] += 1
                continue
            message.attempts += 1
            message.adapter = used.name
            try:
                used.send(message)
            except DeliveryError as exc:
                message.last_error = str(exc)[:500]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxMessage.Status.FAILED
                    counts["failed"] += 1
                else:
                    counts["retry"] += 1
            else:
                message.status = OutboxMessage.Status.SENT
                message.sent_at = now  # the moment checked and sent (the notice before outsourcing counts from it)
                counts["sent"] += 1
            message.save(update_fields=["attempts", "adapter", "last_error", "status", "sent_at"])
    if refused:
        for message, verdict in refused:  # stored once per refusal, in their own transactions
            assert message.case_id is not None  # only texts to a case's debtor are checked
            case = Case.objects.select_related("customer").get(pk=message.case_id)
            blocked_attempt_record(verdict=verdict, case=case, acting_user=None, channel="sms", party="debtor",
                                   number=message.to, at=now, path=f"outbox:{message.kind}", once=True)
    return counts
