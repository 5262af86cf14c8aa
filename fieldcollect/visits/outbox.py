"""The outbox: messages are written in the transaction of the change that causes them
(:func:`outbox_enqueue`) and delivered later (:func:`outbox_dispatch`) through an adapter.

Adapters
    :class:`FileAdapter` (the demo default) writes one JSON file per message into
    ``$FIELDCOLLECT_HOME/outbox/``; :class:`SmsGatewayAdapter` posts JSON to an SMS gateway's URL
    (``VISITS_SMS_GATEWAY_URL`` and optional ``VISITS_SMS_GATEWAY_TOKEN``, from Django settings or the
    environment). :func:`default_adapter` picks the gateway when a URL is configured.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fieldcollect.home import home_dir
from fieldcollect.visits.models import OutboxMessage

__all__ = ["DeliveryError", "FileAdapter", "OutboxAdapter", "OutboxMessage", "SmsGatewayAdapter", "default_adapter",
           "outbox_dispatch", "outbox_enqueue"]

MAX_ATTEMPTS = 5


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
        folder = self.directory or home_dir() / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message.pk:08d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_payload(message), ensure_ascii=False, indent=1), encoding="utf-8")
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


def outbox_enqueue(*, to: str, body: str, kind: str, case_id: int | None = None, channel: str = "sms") -> OutboxMessage:
    """Queue a message; call inside the transaction of the change that causes it."""
    return OutboxMessage.objects.create(channel=channel, to=to[:40], body=body, kind=kind, case_id=case_id)


def outbox_dispatch(*, adapter: OutboxAdapter | None = None, limit: int = 100) -> dict[str, int]:
    """Deliver pending messages (oldest first); a failure is retried up to :data:`MAX_ATTEMPTS` times."""
    used = adapter or default_adapter()
    counts = {"sent": 0, "failed": 0, "retry": 0}
    ids = list(OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).values_list("pk", flat=True)[:limit])
    for pk in ids:
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().get(pk=pk)
            if message.status != OutboxMessage.Status.PENDING:
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
                message.sent_at = timezone.now()
                counts["sent"] += 1
            message.save(update_fields=["attempts", "adapter", "last_error", "status", "sent_at"])
    return counts
